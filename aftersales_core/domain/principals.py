"""Principals: who may act, in which roles, kept as events so that who could do what at any
moment is itself replayable.

A principal's id derives from its normalised name (domain/principal_names.py). It holds roles;
``customer`` binds it to exactly one customer id. Administrators create principals, grant and
revoke roles, disable and re-enable them, but never their own principal (nobody raises their own
authority). A disabled principal may do nothing at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from aftersales_core.domain.actor import Actor
from aftersales_core.domain.base import require_aware
from aftersales_core.domain.ids import check_customer_id, principal_aggregate_id
from aftersales_core.domain.roles import GRANTABLE, SYSTEM_ONLY, Role
from aftersales_core.errors import InvalidCommandError, NotAuthorisedError


def check_roles(roles: list[str], customer_id: str | None, system: bool) -> list[str]:
    """The roles, validated and sorted; ``customer`` and a customer id go together."""
    allowed = GRANTABLE | SYSTEM_ONLY if system else GRANTABLE
    if not roles:
        raise InvalidCommandError("a principal needs at least one role")
    for role in roles:
        if role not in allowed:
            raise InvalidCommandError(
                f"unknown role {role!r}; roles are {', '.join(sorted(GRANTABLE))}"
                if role not in SYSTEM_ONLY
                else f"the {role} role belongs to a built-in principal and cannot be granted"
            )
    if len(set(roles)) != len(roles):
        raise InvalidCommandError("a role is listed twice")
    _check_binding(Role.CUSTOMER.value in roles, customer_id)
    return sorted(roles)


def _check_binding(is_customer: bool, customer_id: str | None) -> None:
    if is_customer and not customer_id:
        raise InvalidCommandError("the customer role is bound to a customer id: give --customer")
    if customer_id and not is_customer:
        raise InvalidCommandError("a customer id goes with the customer role only")
    if customer_id is not None and (
        len(customer_id) > 200
        or not customer_id.isprintable()
        or customer_id != customer_id.strip()
    ):
        raise InvalidCommandError("a customer id is 1 to 200 printable characters")
    if customer_id is not None:
        check_customer_id(customer_id)


class Principal(Aggregate):
    KIND = "principal"
    TOPIC = "aftersales.principal"
    Created = None  # type: ignore[assignment]  # creation events have their own names

    class Event(Aggregate.Event):
        class_version = 1

    @staticmethod
    def create_id(name: str, timestamp: datetime) -> UUID:
        return principal_aggregate_id(name)

    @event("Created", topic="aftersales.principal.Created")
    def __init__(
        self,
        name: str,
        roles: list[str],
        customer_id: str | None,
        by: str,
        role: str,
        timestamp: datetime,
    ) -> None:
        self.name, self.roles, self.customer_id = name, list(roles), customer_id
        self.enabled = True
        self.disabled_reason: str | None = None

    @classmethod
    def open(
        cls,
        name: str,
        roles: list[str],
        customer_id: str | None,
        actor: Actor,
        at: datetime,
        *,
        system: bool = False,
    ) -> Principal:
        """A new principal (``name`` normalised already), its roles checked first."""
        require_aware(at)
        checked = check_roles(roles, customer_id, system)
        return cls(
            name=name,
            roles=checked,
            customer_id=customer_id,
            by=actor.principal_id,
            role=actor.role,
            timestamp=at,
        )

    @property
    def principal_id(self) -> str:
        return str(self.id)

    def holds(self, role: str) -> bool:
        return role in self.roles

    def view(self) -> dict[str, Any]:
        """What the ``access`` policy reads about the principal."""
        return {
            "id": self.principal_id,
            "name": self.name,
            "roles": list(self.roles),
            "customer_id": self.customer_id,
            "enabled": self.enabled,
        }

    # ---- administration (plain checks, then the event) --------------------------------------
    def _check_change(self, actor: Actor, at: datetime) -> None:
        require_aware(at)
        if actor.principal_id == self.principal_id:
            raise NotAuthorisedError(
                f"principal {self.name}: nobody changes their own principal; ask another "
                "administrator"
            )
        if at < self.modified_on:
            raise InvalidCommandError(
                f"principal {self.name}: at {at.isoformat()} is before its last change"
            )

    def grant(self, granted: str, customer_id: str | None, actor: Actor, at: datetime) -> None:
        self._check_change(actor, at)
        if granted in self.roles:
            raise InvalidCommandError(f"principal {self.name} holds the {granted} role already")
        if granted == Role.CUSTOMER and self.customer_id and customer_id != self.customer_id:
            raise InvalidCommandError(f"principal {self.name} is bound to another customer id")
        check_roles([*self.roles, granted], customer_id or self.customer_id, system=False)
        self._granted(
            granted=granted,
            customer_id=customer_id if granted == Role.CUSTOMER else None,
            by=actor.principal_id,
            role=actor.role,
            timestamp=at,
        )

    @event("RoleGranted", topic="aftersales.principal.RoleGranted")
    def _granted(
        self, granted: str, customer_id: str | None, by: str, role: str, timestamp: datetime
    ) -> None:
        self.roles = sorted([*self.roles, granted])
        if customer_id is not None:
            self.customer_id = customer_id

    def revoke(self, revoked: str, actor: Actor, at: datetime) -> None:
        self._check_change(actor, at)
        if revoked not in self.roles:
            raise InvalidCommandError(f"principal {self.name} does not hold the {revoked} role")
        self._revoked(revoked=revoked, by=actor.principal_id, role=actor.role, timestamp=at)

    @event("RoleRevoked", topic="aftersales.principal.RoleRevoked")
    def _revoked(self, revoked: str, by: str, role: str, timestamp: datetime) -> None:
        self.roles = [r for r in self.roles if r != revoked]
        if revoked == Role.CUSTOMER:
            self.customer_id = None

    def disable(self, reason: str, actor: Actor, at: datetime) -> None:
        self._check_change(actor, at)
        if not self.enabled:
            raise InvalidCommandError(f"principal {self.name} is disabled already")
        self._disabled(reason=reason, by=actor.principal_id, role=actor.role, timestamp=at)

    @event("Disabled", topic="aftersales.principal.Disabled")
    def _disabled(self, reason: str, by: str, role: str, timestamp: datetime) -> None:
        self.enabled, self.disabled_reason = False, reason

    def enable(self, actor: Actor, at: datetime) -> None:
        self._check_change(actor, at)
        if self.enabled:
            raise InvalidCommandError(f"principal {self.name} is enabled already")
        self._enabled(by=actor.principal_id, role=actor.role, timestamp=at)

    @event("ReEnabled", topic="aftersales.principal.ReEnabled")
    def _enabled(self, by: str, role: str, timestamp: datetime) -> None:
        self.enabled, self.disabled_reason = True, None
