"""Reporting periods: UTC calendar weeks (starting Monday) and months of UTC ISO-8601 times."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta


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
    the read models store times in, so that it compares as text."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("--since: a time needs its UTC offset (or give a date)")
        return value.astimezone(UTC).isoformat()
    return datetime.combine(value, time(0), tzinfo=UTC).isoformat()


def hours_between(start: str | None, end: str | None) -> float | None:
    if start is None or end is None:
        return None
    return (moment(end) - moment(start)).total_seconds() / 3600
