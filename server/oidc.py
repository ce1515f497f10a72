"""OIDC bearer tokens (JWTs from a company's identity provider), verified by PyJWT.

The signature (with a key from the provider's JWKS, by URL or file, chosen by the token's
``kid``; asymmetric algorithms only), the issuer, the audience, the expiry and not-before (with a
small leeway) are all checked by the library. The principal is the one named by the configured
claim (``sub`` by default), and it must exist in the store: the identity provider says who
someone is, the store says what they may do. The role claim (``roles`` by default; a dotted
path such as ``realm_access.roles`` reaches into objects) names the roles this token may act
in: the caller gets those of its stored roles only, never more."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

import jwt
import orjson

from server.settings import ApiSettings


class TokenRefused(Exception):
    """Not a valid token for this service; the message says why (never the token)."""


class KeysUnavailable(Exception):
    """The identity provider's keys cannot be fetched: tokens cannot be checked right now."""


@dataclass(frozen=True)
class Identity:
    principal: str  # the principal's name, from the principal claim
    roles: frozenset[str]  # the roles the token names


class OidcVerifier:
    def __init__(self, settings: ApiSettings) -> None:
        assert settings.oidc_issuer and settings.oidc_audience
        self.issuer, self.audience = settings.oidc_issuer, settings.oidc_audience
        self.algorithms = [a.strip() for a in settings.oidc_algorithms.split(",") if a.strip()]
        self.principal_claim = settings.oidc_principal_claim
        self.role_claim = settings.oidc_role_claim
        self.leeway = settings.oidc_leeway
        self.client = (jwt.PyJWKClient(settings.oidc_jwks_url, lifespan=300, timeout=5)
                       if settings.oidc_jwks_url else None)
        self.jwks_file = settings.oidc_jwks_file
        self._file_keys: tuple[float, jwt.PyJWKSet] | None = None
        self._lock = threading.Lock()

    def verify(self, token: str) -> Identity:
        try:
            key = self._signing_key(token)
            claims: dict[str, Any] = jwt.decode(
                token, key.key, algorithms=self.algorithms, audience=self.audience,
                issuer=self.issuer, leeway=self.leeway,
                options={"require": ["exp", "iss", "aud", self.principal_claim]},
            )
        except jwt.PyJWKClientConnectionError as error:
            raise KeysUnavailable("the identity provider's keys cannot be fetched") from error
        except jwt.PyJWTError as error:
            raise TokenRefused(f"invalid token: {type(error).__name__}: {error}") from None
        principal = claims.get(self.principal_claim)
        if not isinstance(principal, str) or not principal:
            raise TokenRefused(f"invalid token: claim {self.principal_claim!r} is not a name")
        return Identity(principal, self._roles(claims))

    def _signing_key(self, token: str) -> jwt.PyJWK:
        if self.client is not None:
            return self.client.get_signing_key_from_jwt(token)
        kid = jwt.get_unverified_header(token).get("kid")
        keys = self._keys_from_file()
        for key in keys:
            if kid is None or key.key_id == kid:
                return key
        raise jwt.InvalidKeyError(f"no key {kid!r} in the JWKS file")

    def _keys_from_file(self) -> jwt.PyJWKSet:
        """The JWKS file's keys, read again when the file changes (key rotation)."""
        assert self.jwks_file is not None
        try:
            mtime = os.stat(self.jwks_file).st_mtime
            with self._lock:
                if self._file_keys is None or self._file_keys[0] != mtime:
                    with open(self.jwks_file, "rb") as file:
                        data = orjson.loads(file.read())
                    self._file_keys = (mtime, jwt.PyJWKSet.from_dict(data))
                return self._file_keys[1]
        except (OSError, ValueError, jwt.PyJWTError) as error:
            raise KeysUnavailable(f"the JWKS file cannot be read: {type(error).__name__}"
                                  ) from error

    def _roles(self, claims: dict[str, Any]) -> frozenset[str]:
        value: Any = claims
        for part in self.role_claim.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, str):
            value = value.split()
        if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
            raise TokenRefused(f"invalid token: claim {self.role_claim!r} names no roles")
        return frozenset(value)
