"""What a route of either front end (the service API, the desk) reads from its request: the
server process's runtime, and an RFC 3339 time given as a query parameter."""

from __future__ import annotations

import re
from datetime import datetime

from fastapi import Request
from pydantic import TypeAdapter, ValidationError

from schemas.common import RFC3339, Timestamp
from schemas.errors import validation_fields
from server.problems import Problem
from server.runtime import Runtime


def runtime(request: Request) -> Runtime:
    found: Runtime = request.app.state.runtime
    return found


TIME: TypeAdapter[datetime] = TypeAdapter(Timestamp)


# an RFC 3339 time whose offset's sign is a space: a "+" a query string turned into one
PLUS_AS_SPACE = re.compile(r"(.*\d) (\d\d:\d\d)")


def check_plus(text: str, field: str) -> None:
    """A query's RFC 3339 time whose offset's '+' came as a space (a query string reads a bare
    '+' as one) is refused saying so and how to write it (400 naming the parameter)."""
    plus = PLUS_AS_SPACE.fullmatch(text)
    if plus is not None and RFC3339.fullmatch(f"{plus[1]}+{plus[2]}"):
        message = ("the offset's '+' arrived as a space (a query string reads '+' as a "
                   f"space): write it %2B, such as {plus[1][:19]}%2B{plus[2]}")
        raise Problem(400, "invalid", f"{field}: {message}", fields=((field, message),))


def time_param(text: str | None, field: str, in_query: bool = True) -> datetime | None:
    """An RFC 3339 time given as a query parameter (or, ``in_query`` False, a body's field),
    within the supported range (400 naming the parameter otherwise)."""
    if text is None:
        return None
    if in_query:
        check_plus(text, field)
    try:
        return TIME.validate_python(text)
    except ValidationError as error:
        fields = tuple((field, message) for _, message in validation_fields(error))
        raise Problem(400, "invalid", f"{field}: " + "; ".join(m for _, m in fields),
                      fields=fields) from None
