"""The service API's settings, from the environment (README "Service API"), validated once.

Errors name the variable and what is wrong, never its value."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, model_validator

from aftersales.settings import from_variables

ENV = {
    "max_body_bytes": "AFTERSALES_API_MAX_BODY_BYTES",
    "body_timeout": "AFTERSALES_API_BODY_TIMEOUT",
    "header_timeout": "AFTERSALES_API_HEADER_TIMEOUT",
    "rate_per_second": "AFTERSALES_API_RATE",
    "rate_burst": "AFTERSALES_API_BURST",
    "auth_failures_per_second": "AFTERSALES_API_AUTH_FAILURE_RATE",
    "threads": "AFTERSALES_API_THREADS",
    "idempotency_hours": "AFTERSALES_IDEMPOTENCY_HOURS",
    "oidc_issuer": "AFTERSALES_OIDC_ISSUER",
    "oidc_audience": "AFTERSALES_OIDC_AUDIENCE",
    "oidc_jwks_url": "AFTERSALES_OIDC_JWKS_URL",
    "oidc_jwks_file": "AFTERSALES_OIDC_JWKS_FILE",
    "oidc_principal_claim": "AFTERSALES_OIDC_PRINCIPAL_CLAIM",
    "oidc_role_claim": "AFTERSALES_OIDC_ROLE_CLAIM",
    "oidc_algorithms": "AFTERSALES_OIDC_ALGORITHMS",
    "oidc_leeway": "AFTERSALES_OIDC_LEEWAY",
}


def jwks_url_problem(url: str) -> str | None:
    """What is wrong with a JWKS URL, or None: https, or plain http to this machine only (a
    loopback address or ``localhost`` exactly), and no user name or password in it. The URL is
    parsed, not compared as text: ``http://127.0.0.1.evil.example/``,
    ``http://localhost.evil.example/`` and ``http://localhost@evil.example/`` all begin like a
    loopback URL and reach another host, over a connection anyone on the way may change."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError when the port is not a number in range)
    except ValueError:
        return "is not a URL"
    host = parts.hostname or ""
    if parts.username is not None or parts.password is not None:
        return "must not hold a user name or password"
    if parts.scheme == "https":
        return None if host else "names no host"
    if parts.scheme == "http" and (host == "localhost" or _loopback_address(host)):
        return None
    return "must be https:// (http only to a loopback address or localhost)"


def _loopback_address(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name, not an address: only localhost itself is taken as loopback


class ApiSettings(BaseModel):
    max_body_bytes: int = Field(256 * 1024, ge=1024, le=16 * 1024 * 1024,
                                description="a request body over this is answered 413")
    body_timeout: float = Field(30.0, gt=0, le=600,
                                description="seconds to receive a whole request body")
    header_timeout: float = Field(10.0, gt=0, le=600,
                                  description="seconds to receive a request's headers")
    rate_per_second: float = Field(50.0, gt=0, description="requests per principal and second")
    rate_burst: int = Field(100, ge=1, description="requests a principal may send at once")
    auth_failures_per_second: float = Field(
        5.0, gt=0, description="failed authentications per client address and second")
    threads: int = Field(16, ge=1, le=256, description="threads running requests")
    idempotency_hours: int = Field(24, ge=24, le=24 * 90,
                                   description="how long an Idempotency-Key answer is kept")
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None
    oidc_jwks_file: str | None = None
    oidc_principal_claim: str = "sub"
    oidc_role_claim: str = "roles"
    oidc_algorithms: str = "RS256,ES256,PS256,EdDSA"
    oidc_leeway: int = Field(30, ge=0, le=300)

    @property
    def oidc_enabled(self) -> bool:
        return self.oidc_issuer is not None

    @model_validator(mode="after")
    def _oidc_complete(self) -> ApiSettings:
        given = [self.oidc_issuer, self.oidc_audience, self.oidc_jwks_url or self.oidc_jwks_file]
        if any(given) and not all(given):
            raise ValueError("OIDC needs AFTERSALES_OIDC_ISSUER, AFTERSALES_OIDC_AUDIENCE and "
                             "AFTERSALES_OIDC_JWKS_URL or AFTERSALES_OIDC_JWKS_FILE together")
        if self.oidc_jwks_url and self.oidc_jwks_file:
            raise ValueError("give AFTERSALES_OIDC_JWKS_URL or AFTERSALES_OIDC_JWKS_FILE, "
                             "not both")
        if self.oidc_jwks_url and (problem := jwks_url_problem(self.oidc_jwks_url)):
            raise ValueError(f"AFTERSALES_OIDC_JWKS_URL {problem}")
        if any(a.strip() in ("", "none", "HS256", "HS384", "HS512")
               for a in self.oidc_algorithms.split(",")):
            raise ValueError("AFTERSALES_OIDC_ALGORITHMS: asymmetric algorithms only "
                             "(RS256, ES256, PS256, EdDSA …)")
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ApiSettings:
        return from_variables(cls, ENV, environ)
