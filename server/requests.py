"""What a route of either front end (the service API, the desk) reads from its request: the
server process's runtime, and an RFC 3339 time given as a query parameter."""

from __future__ import annotations

from datetime import datetime

from fastapi import Request
from pydantic import TypeAdapter, ValidationError

from schemas.common import Timestamp
from schemas.errors import validation_fields
from server.problems import Problem
from server.runtime import Runtime


def runtime(request: Request) -> Runtime:
    found: Runtime = request.app.state.runtime
    return found


TIME: TypeAdapter[datetime] = TypeAdapter(Timestamp)


def time_param(text: str | None, field: str) -> datetime | None:
    """An RFC 3339 time given as a query parameter, within the supported range (400 naming
    the parameter otherwise)."""
    if text is None:
        return None
    try:
        return TIME.validate_python(text)
    except ValidationError as error:
        fields = tuple((field, message) for _, message in validation_fields(error))
        raise Problem(400, "invalid", f"{field}: " + "; ".join(m for _, m in fields),
                      fields=fields) from None
