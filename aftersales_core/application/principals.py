"""Principals: added and changed by administrators, looked up by the entry points.

Built-in system principals act for the processes that have no person behind them; they are
created in the store like any other (``Created`` by themselves in role ``system``), hold exactly
one role, and an administrator can disable them like anyone else:

| name | role | acts for |
| --- | --- | --- |
| ``system.upstream`` | upstream | the Kafka inbound consumer (orders.v1, shipments.v1) |
| ``system.scheduler`` | scheduler | the deadline scheduler (``FireDeadlines``) |

The first administrator is created by ``bootstrap``, which the operator holding the store runs
once: it is refused as soon as an enabled administrator exists.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from aftersales_core.application.access import Access, Caller
from aftersales_core.application.store import Store
from aftersales_core.domain.actor import Actor
from aftersales_core.domain.ids import principal_aggregate_id
from aftersales_core.domain.principal_names import is_system_name, normalise_name, user_name
from aftersales_core.domain.principals import Principal
from aftersales_core.domain.roles import BOOTSTRAP, Role
from aftersales_core.errors import (
    ConcurrentChangeError,
    InvalidCommandError,
    NotAuthorisedError,
    PrincipalExistsError,
    UnknownPrincipalError,
)

SYSTEM_PRINCIPALS = {"system.upstream": Role.UPSTREAM.value,
                     "system.scheduler": Role.SCHEDULER.value}
CREATED_TOPIC = "aftersales.principal.Created"
PAGE = 1000


def principal_id_of(name: str) -> UUID:
    """The id of the principal a name denotes (normalised first; invalid names are refused)."""
    return principal_aggregate_id(normalise_name(name))


@dataclass(frozen=True)
class PrincipalChange:
    name: str
    principal_id: str
    roles: list[str]
    customer_id: str | None
    enabled: bool
    version: int

    @classmethod
    def of(cls, principal: Principal) -> PrincipalChange:
        return cls(principal.name, principal.principal_id, list(principal.roles),
                   principal.customer_id, principal.enabled, principal.version)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "principal_id": self.principal_id, "roles": self.roles,
                "customer_id": self.customer_id, "enabled": self.enabled,
                "version": self.version}


class PrincipalService:
    def __init__(self, store: Store, access: Access) -> None:
        self.store, self.access = store, access

    # ---- administration -------------------------------------------------------------------
    def add(
        self,
        caller: Caller,
        name: str,
        roles: list[str],
        at: datetime,
        customer_id: str | None = None,
    ) -> PrincipalChange:
        grant = self.access.require(caller, "AddPrincipal", {"name": name})
        normalised = user_name(name)
        if self.store.exists(principal_aggregate_id(normalised)):
            raise PrincipalExistsError(f"principal {normalised} exists already")
        principal = Principal.open(normalised, roles, customer_id, grant.actor, at)
        self._save(principal)
        return PrincipalChange.of(principal)

    def grant(
        self, caller: Caller, name: str, role: str, at: datetime, customer_id: str | None = None
    ) -> PrincipalChange:
        grant = self.access.require(caller, "GrantRole", {"name": name, "role": role})
        principal = self._changeable_roles(name)
        principal.grant(role, customer_id, grant.actor, at)
        self._save(principal)
        return PrincipalChange.of(principal)

    def revoke(self, caller: Caller, name: str, role: str, at: datetime) -> PrincipalChange:
        grant = self.access.require(caller, "RevokeRole", {"name": name, "role": role})
        principal = self._changeable_roles(name)
        principal.revoke(role, grant.actor, at)
        self._save(principal)
        return PrincipalChange.of(principal)

    def disable(self, caller: Caller, name: str, reason: str, at: datetime) -> PrincipalChange:
        grant = self.access.require(caller, "DisablePrincipal", {"name": name})
        principal = self._named(name)
        principal.disable(reason, grant.actor, at)
        self._save(principal)
        return PrincipalChange.of(principal)

    def enable(self, caller: Caller, name: str, at: datetime) -> PrincipalChange:
        grant = self.access.require(caller, "EnablePrincipal", {"name": name})
        principal = self._named(name)
        principal.enable(grant.actor, at)
        self._save(principal)
        return PrincipalChange.of(principal)

    # ---- reading --------------------------------------------------------------------------
    def listing(self, caller: Caller) -> list[PrincipalChange]:
        self.access.require(caller, "ReadPrincipals")
        return [PrincipalChange.of(p) for p in self._all()]

    def show(self, caller: Caller, name: str) -> tuple[PrincipalChange, list[dict[str, Any]]]:
        """The principal and its history: every change, who made it, in which role, when."""
        self.access.require(caller, "ReadPrincipals", {"name": name})
        principal = self._named(name)
        history = [
            {
                "version": e.originator_version,
                "type": type(e).__name__,
                "at": e.timestamp.isoformat(),
                **{k: v for k, v in vars(e).items()
                   if k not in ("originator_id", "originator_version", "timestamp",
                                "originator_topic")},
            }
            for e in self._events(principal.id)
        ]
        return PrincipalChange.of(principal), history

    def _events(self, principal_id: UUID) -> list[Any]:
        return list(self.store.history(principal_id))

    # ---- the operator and the built-in principals ------------------------------------------
    def bootstrap(self, name: str, at: datetime) -> PrincipalChange:
        """Create the first administrator (the operator holding the store runs this once), and
        the built-in principals if they do not exist yet."""
        normalised = user_name(name)
        if any(p.enabled and p.holds(Role.ADMIN) for p in self._all()):
            raise NotAuthorisedError(
                "an administrator exists already: ask them to add principals "
                "(aftersales principals add --as ADMIN)"
            )
        principal_id = principal_aggregate_id(normalised)
        existing = self.store.find(Principal, principal_id)
        if existing is not None:
            raise InvalidCommandError(
                f"principal {normalised} exists already: bootstrap a new name"
            )
        actor = Actor(str(principal_id), BOOTSTRAP)
        principal = Principal.open(normalised, [Role.ADMIN.value], None, actor, at)
        self._save(principal)
        for name in SYSTEM_PRINCIPALS:  # listed and managed from the start
            self.ensure_system(name, at)
        return PrincipalChange.of(principal)

    def ensure_system(self, name: str, at: datetime) -> UUID:
        """The built-in principal ``name``, created the first time it is needed (never
        re-enabled or changed here: an administrator's decisions about it stand)."""
        if name not in SYSTEM_PRINCIPALS:
            raise InvalidCommandError(f"no built-in principal named {name!r}")
        principal_id = principal_aggregate_id(name)
        if self.store.exists(principal_id):
            return principal_id
        actor = Actor(str(principal_id), "system")
        principal = Principal.open(name, [SYSTEM_PRINCIPALS[name]], None, actor, at, system=True)
        with suppress(ConcurrentChangeError, IntegrityError):  # created meanwhile elsewhere
            self._save(principal)
        return principal_id

    # ---- helpers --------------------------------------------------------------------------
    def _changeable_roles(self, name: str) -> Principal:
        """The principal whose roles an administrator changes: never a built-in one, which
        holds exactly its one role (it can be disabled and re-enabled instead)."""
        principal = self._named(name)
        if principal.name in SYSTEM_PRINCIPALS:
            raise InvalidCommandError(
                f"{principal.name} is built in and holds only the "
                f"{SYSTEM_PRINCIPALS[principal.name]} role: disable it instead"
            )
        return principal

    def _named(self, name: str) -> Principal:
        normalised = normalise_name(name)
        if is_system_name(normalised) and normalised not in SYSTEM_PRINCIPALS:
            raise UnknownPrincipalError(f"no principal named {normalised}")
        found = self.store.find(Principal, principal_aggregate_id(normalised))
        if found is None:
            raise UnknownPrincipalError(f"no principal named {normalised}")
        return found

    def _all(self) -> list[Principal]:
        principals: list[Principal] = []
        start = 1
        while True:
            page = self.store.recorder.select_notifications(
                start, PAGE, topics=[CREATED_TOPIC]
            )
            for notification in page:
                found = self.store.find(Principal, UUID(str(notification.originator_id)))
                if found is not None:
                    principals.append(found)
            if len(page) < PAGE:
                return sorted(principals, key=lambda p: p.name)
            start = page[-1].id + 1

    def _save(self, principal: Principal) -> None:
        self.store.save_atomically(principal)
