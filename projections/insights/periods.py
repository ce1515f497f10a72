"""Reporting periods: UTC calendar weeks (starting Monday) and months of UTC ISO-8601 times."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import TypeAdapter

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def moment(text: str) -> datetime:
    """A stored time (UTC ISO text, or any RFC 3339 time) as an aware UTC datetime."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"time without a UTC offset: {text!r}")
    return value.astimezone(UTC)


def week_of(text: str) -> str:
    """The Monday (YYYY-MM-DD) of the UTC week a time falls in."""
    day = moment(text).date()
    return (day - timedelta(days=day.weekday())).isoformat()


def month_of(text: str) -> str:
    """YYYY-MM of a time, in UTC."""
    return moment(text).strftime("%Y-%m")


def since_bound(value: date | datetime | str | None) -> str | None:
    """A --since value (a date: its UTC midnight; or an aware time) as UTC ISO text, the form
    the read models store times in, so that it compares as text. Text is a date written
    YYYY-MM-DD or a time as every message writes it (RFC 3339 with an offset, within the
    supported range: schemas/common.py's Timestamp); else ValueError in the project's words."""
    if value is None:
        return None
    if isinstance(value, str):
        value = _since_text(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("--since: a time needs its UTC offset (or give a date)")
        return value.astimezone(UTC).isoformat()
    return datetime.combine(value, time(0), tzinfo=UTC).isoformat()


def _since_text(text: str) -> datetime:
    from pydantic import ValidationError

    from schemas.errors import validation_fields

    moment_text: datetime | str = text
    if _DATE.fullmatch(text):
        try:
            moment_text = datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
        except ValueError:
            raise ValueError(f"{text!r} is not a day of the calendar (YYYY-MM-DD)") from None
    try:
        return _timestamp().validate_python(moment_text)
    except ValidationError as error:
        raise ValueError("; ".join(message for _, message in validation_fields(error))) from None


@cache
def _timestamp() -> TypeAdapter[datetime]:
    """The validator of times in messages (built on first use)."""
    from pydantic import TypeAdapter

    from schemas.common import Timestamp

    return TypeAdapter(Timestamp)


def hours_between(start: str | None, end: str | None) -> float | None:
    if start is None or end is None:
        return None
    return (moment(end) - moment(start)).total_seconds() / 3600
