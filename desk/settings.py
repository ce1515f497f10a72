"""The desk's settings, from the environment (README "The desk"), validated once; errors name
the variable, never its value."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from aftersales.settings import ConfigError

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
        env = os.environ if environ is None else environ
        values = {field: env.get(variable) for field, variable in ENV.items()}
        try:
            return cls.model_validate({k: v for k, v in values.items() if v})
        except ValidationError as error:
            problems = []
            for problem in error.errors(include_url=False, include_input=False):
                field = str(problem["loc"][0]) if problem["loc"] else ""
                problems.append(f"{ENV.get(field, 'configuration')}: {problem['msg']}")
            raise ConfigError("invalid configuration: " + "; ".join(problems)) from None
