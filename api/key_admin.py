"""Issuing, revoking and listing API keys, as administrators may (the permission matrix's
``IssueApiKey``, ``RevokeApiKey``, ``ListApiKeys``): `aftersales principals key …`.

An administrator keys themselves and principals without the admin role, never another
administrator (access v4): that key would let its issuer act, and be recorded, as them."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from aftersales_core.application.access import Caller
from aftersales_core.application.principals import SYSTEM_PRINCIPALS, principal_id_of
from aftersales_core.application.services import Services
from aftersales_core.domain.principal_names import normalise_name
from aftersales_core.domain.principals import Principal
from aftersales_core.domain.roles import Role
from aftersales_core.errors import InvalidCommandError, UnknownPrincipalError
from server.keys import ApiKey, ApiKeys, IssuedKey

MAX_LABEL = 200


class KeyAdmin:
    def __init__(self, services: Services, keys: ApiKeys) -> None:
        self.services, self.keys = services, keys

    def issue(self, caller: Caller, name: str, at: datetime, *, label: str = "",
              expires_at: datetime | None = None) -> IssuedKey:
        access = self.services.access
        me = access.may_try(caller, "IssueApiKey")  # a role that may: before any lookup
        principal = self._principal(name)
        grant = access.require(caller, "IssueApiKey", {
            "name": principal.name, "holder_id": principal.principal_id,
            "holder_is_admin": principal.holds(Role.ADMIN)}, principal=me)
        if principal.name in SYSTEM_PRINCIPALS:
            raise InvalidCommandError(f"{principal.name} is built in: it acts inside the "
                                      "engine's own processes and has no API key")
        if not principal.enabled:
            raise InvalidCommandError(f"principal {principal.name} is disabled: enable it first")
        if expires_at is not None and expires_at <= at:
            raise InvalidCommandError("--expires: the key would be expired already")
        if len(label) > MAX_LABEL or not label.isprintable():
            raise InvalidCommandError(f"--label: at most {MAX_LABEL} printable characters")
        return self.keys.issue(principal.id, principal.name, label=label,
                               by=grant.actor.principal_id, at=at, expires_at=expires_at)

    def revoke(self, caller: Caller, name: str, key_id: str, at: datetime) -> ApiKey:
        grant = self.services.access.require(caller, "RevokeApiKey", {"name": name})
        principal = self._principal(name)
        revoked = self.keys.revoke(key_id, principal.id, by=grant.actor.principal_id, at=at)
        if revoked is None:
            raise UnknownPrincipalError(f"principal {principal.name} has no key {key_id!r}")
        return revoked

    def listing(self, caller: Caller, name: str | None) -> list[ApiKey]:
        self.services.access.require(caller, "ListApiKeys", {"name": name})
        return self.keys.listing(None if name is None else self._principal(name).id)

    def _principal(self, name: str) -> Principal:
        principal_id: UUID = principal_id_of(name)
        found = self.services.store.find(Principal, principal_id)
        if found is None:
            raise UnknownPrincipalError(f"no principal named {normalise_name(name)}")
        return found
