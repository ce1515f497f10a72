"""Who calls: ``Authorization: Bearer <API key or OIDC token>`` into a ``Caller``.

Identity comes only from the credential, never from anything the body says. A credential that
is missing, malformed, unknown, revoked, expired, not signed right, for another issuer or
audience, or names an unknown or disabled principal (or, for an OIDC token, a subject not spelt
exactly as its principal's folded name; for an API key, an administrator's key another principal
issued) is ``Unauthenticated`` (HTTP 401); the message says
which, without ever repeating the credential. What the caller may then do is the permission
matrix's business, in the application."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from aftersales_core.application.access import Caller, Denial
from aftersales_core.application.principals import principal_id_of
from aftersales_core.application.services import Services
from aftersales_core.domain.principal_names import is_system_name, normalise_name
from aftersales_core.domain.principals import Principal
from aftersales_core.domain.roles import Role
from aftersales_core.errors import DomainError, NotAuthorisedError
from server.keys import ApiKey, ApiKeys, KeyRefused, looks_like_key
from server.oidc import OidcVerifier, TokenRefused

log = logging.getLogger("aftersales.api.auth")
MAX_TOKEN = 8192
VIA = "http"


class Unauthenticated(Exception):
    """No usable credential. ``str()`` is for the caller; ``reason`` names the kind (metrics)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Authenticated:
    caller: Caller
    principal: str  # the principal's name
    credential: str  # "api_key" or "oidc"


class Authenticator:
    def __init__(self, services: Services, keys: ApiKeys, oidc: OidcVerifier | None) -> None:
        self.services, self.keys, self.oidc = services, keys, oidc

    def authenticate(self, authorization: str | None, received_at: datetime) -> Authenticated:
        token = _bearer(authorization)
        roles: frozenset[str] | None = None
        subject: str | None = None  # an OIDC token's, as the identity provider spells it
        key: ApiKey | None = None
        if looks_like_key(token):
            try:
                key = self.keys.verify(token, received_at)
            except KeyRefused as refused:
                if refused.key is not None:  # a real key, revoked or expired: auditors see it
                    self.key_refused(refused.key, received_at, refused.reason)
                log.warning("API key refused: %s", refused.reason)
                raise Unauthenticated(_public(refused.reason), "api_key") from None
            principal_id, credential = UUID(key.principal_id), "api_key"
            name = key.principal
        elif self.oidc is not None and token.count(".") == 2:
            try:
                identity = self.oidc.verify(token)
                subject = identity.principal
                name = normalise_name(subject)
                principal_id = principal_id_of(name)
            except TokenRefused as refused:
                log.warning("OIDC token refused: %s", refused)
                raise Unauthenticated(str(refused), "oidc") from None
            except DomainError:
                raise Unauthenticated("invalid token: the principal claim is not a valid "
                                      "principal name", "oidc") from None
            roles, credential = identity.roles, "oidc"
        else:
            raise Unauthenticated("the bearer token is neither an API key (ask_…) nor a token "
                                  "this service accepts", "unknown_credential")
        if is_system_name(name):
            # the built-in principals act only inside the engine's own processes (the inbound
            # consumer, the scheduler): no credential from outside may name one, whatever an
            # identity provider puts in its tokens
            self._denied(principal_id, name, received_at, f"{credential} naming a built-in "
                         "principal", rule="api.system_principal")
            log.warning("%s naming the built-in principal %s refused", credential, name)
            raise Unauthenticated("invalid credential: built-in principals act only inside the "
                                  "engine's own processes", credential)
        if subject is not None and subject != name:
            # an OIDC subject is case-sensitive and opaque: ``Ab1`` and ``ab1`` are two people.
            # Principal names are folded (case, NFKC) so that look-alikes are one identity; so
            # only the subject spelt exactly as the principal's name is that principal, and any
            # other spelling is refused rather than folded onto someone else's principal
            self._denied(principal_id, name, received_at, "OIDC subject not spelt exactly as "
                         "the principal's name (it differs in case or width)",
                         rule="api.oidc_subject_folded")
            log.warning("OIDC subject %r refused: it folds to the principal name %s, which "
                        "only the subject spelt exactly so may use", subject, name)
            raise Unauthenticated("invalid token: the subject must be spelt exactly as the "
                                  "principal's name (lower case; subjects that differ only in "
                                  "case or width are different people, never one principal)",
                                  "oidc")
        caller = Caller(principal_id, received_at, VIA, roles=roles)
        try:
            principal = self.services.access.principal(caller, "Authenticate")
        except NotAuthorisedError as error:  # unknown or disabled: logged by the access layer
            raise Unauthenticated(str(error), "principal") from None
        if key is not None:
            self.check_holder(key, principal, received_at)
        return Authenticated(caller, principal.name, credential)

    def check_holder(self, key: ApiKey, holder: Principal, at: datetime, via: str = VIA
                     ) -> None:
        """``Unauthenticated`` (the denial recorded and logged) for an administrator's key
        another principal issued (``ApiKey.issued_to_another_admin``): at every request, and
        also for a desk session signed in with the key before its holder became one."""
        if key.issued_to_another_admin(holder.holds(Role.ADMIN)):
            # a key another principal issued while its holder was no administrator: granting
            # the holder the admin role afterwards must not let that issuer act as an
            # administrator (access v4: an administrator's keys are their own)
            self._denied(UUID(key.principal_id), key.principal, at, "API key issued by another "
                         "principal to a holder who is now an administrator",
                         rule="api.admin_key_by_other", via=via)
            log.warning("API key %s of administrator %s refused: issued by another principal",
                        key.key_id, key.principal)
            raise Unauthenticated("this API key was issued by another principal before its "
                                  "holder became an administrator: the holder issues their own",
                                  "api_key")

    def key_refused(self, key: ApiKey, at: datetime, reason: str, via: str = VIA) -> None:
        """Record the denial of a real key that is revoked or expired (the desk too, for a
        session signed in with one: auditors see every use of a dead key)."""
        self._denied(UUID(key.principal_id), key.principal, at, reason, via=via)

    def _denied(self, principal_id: UUID, name: str, at: datetime, reason: str,
                rule: str = "api.key_refused", via: str = VIA) -> None:
        self.services.access.denials.record(Denial(
            principal_id=str(principal_id), principal=name, operation="Authenticate",
            case_id=None, rule=rule, reasons=[reason], at=at, via=via))


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise Unauthenticated("no credentials: send Authorization: Bearer <API key or token>",
                              "missing")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("the Authorization header must be: Bearer <API key or token>",
                              "malformed")
    if len(token) > MAX_TOKEN or not token.isascii() or not token.isprintable() or " " in token:
        raise Unauthenticated("the bearer token is malformed", "malformed")
    return token


def _public(reason: str) -> str:
    if reason.endswith(("revoked", "expired")):
        return f"this API key is {reason.rsplit(' ', 1)[-1]}"
    return "invalid API key"
