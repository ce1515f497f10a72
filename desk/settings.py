"""The desk's settings, from the environment (README "The desk"), validated once; errors name
the variable, never its value."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, Field

from aftersales.settings import from_variables

ENV = {
    "session_hours": "AFTERSALES_DESK_SESSION_HOURS",
    "idle_minutes": "AFTERSALES_DESK_IDLE_MINUTES",
    "secure_cookie": "AFTERSALES_DESK_SECURE_COOKIE",
    "poll_seconds": "AFTERSALES_DESK_POLL_SECONDS",
}


class DeskSettings(BaseModel):
    session_hours: int = Field(12, ge=1, le=24 * 7,
                               description="a session ends this long after sign-in")
    idle_minutes: int = Field(60, ge=5, le=24 * 60,
                              description="a session ends after this long without a request")
    secure_cookie: Literal["auto", "always"] = Field(
        "auto", description="auto: Secure cookies when the request came over TLS; always: "
        "also behind a proxy that terminates TLS")
    poll_seconds: int = Field(15, ge=2, le=3600,
                              description="how often an open queue asks for changes")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DeskSettings:
        return from_variables(cls, ENV, environ)
