"""What the validation boundary accepts, in one place (the README's "Input limits" table).

Everything that enters the engine (Kafka, `aftersales ingest`, `aftersales submit`, later the
service API) passes the same limits, so anything accepted can be stored, relayed and projected
on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from aftersales_core.text import TEXT_FORBIDDEN_CHARS

# One message or command, as received (UTF-8 JSON), and once re-encoded the way the engine keeps
# it, measured the strictest way: as JSON text inside JSON (how unknown upstream fields are
# kept), where every quote and backslash counts twice. A message made mostly of escapes fits as
# sent and not once encoded. Both keep every accepted message far below the case-events
# topic's limit (1 MB by default) once stored and relayed.
MAX_MESSAGE_BYTES = 256 * 1024
MAX_ENCODED_BYTES = 384 * 1024
MAX_DEPTH = 32  # nested objects and arrays

# Integers anywhere in a message (also in unknown fields): what JSON tools agree on.
MIN_INTEGER = -(2**63)
MAX_INTEGER = 2**64 - 1

# Times: RFC 3339 with an offset, within this range (compared in UTC). Far enough for any
# business date; near enough that deadlines (up to years later) and UTC conversions never
# leave what Python, SQLite and PostgreSQL represent.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2199, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
# ... written as RFC 3339 section 5.6 writes them (the published schemas' "date-time"): a full
# date, T, a full time with an optional fraction, Z or an offset with a colon. Checked before
# pydantic reads the text, which would take "1764590000" (or "0", or "1764590000000") as a count
# of seconds or milliseconds since 1970 and guess which.
TIME_PATTERN = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
                r"([Zz]|[+-][0-9]{2}:[0-9]{2})$")

# Amounts: non-negative decimal strings, at most 12 digits before the point and 6 after
# (below one trillion in any currency). Sums of a whole order stay exact in 28 digits.
AMOUNT_INTEGER_DIGITS = 12
AMOUNT_DECIMALS = 6
AMOUNT_PATTERN = rf"^[0-9]{{1,{AMOUNT_INTEGER_DIGITS}}}(\.[0-9]{{1,{AMOUNT_DECIMALS}}})?$"

# Characters refused in identifiers: C0 and C1 controls, DEL, zero-width and bidirectional
# formatting characters, line and paragraph separators, the byte order mark.
_IDENT_FORBIDDEN = (r"\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e"
                    r"\u2060-\u206f\ufeff\ufff9-\ufffb")
IDENT_PATTERN = rf"^[^{_IDENT_FORBIDDEN}]+$"
# Characters refused in free text: NUL, the C0 controls other than tab, line feed and carriage
# return, DEL and the C1 controls (no database text type keeps NUL; terminals act on the
# others). One definition for every entry point: aftersales_core/text.py.
_TEXT_FORBIDDEN = TEXT_FORBIDDEN_CHARS
TEXT_PATTERN = rf"^[^{_TEXT_FORBIDDEN}]*$"

IDENT_FORBIDDEN = re.compile(f"[{_IDENT_FORBIDDEN}]")
TEXT_FORBIDDEN = re.compile(f"[{_TEXT_FORBIDDEN}]")
RFC3339 = re.compile(TIME_PATTERN, re.ASCII)
AMOUNT = re.compile(AMOUNT_PATTERN.removeprefix("^").removesuffix("$"), re.ASCII)


def describe_time_range() -> str:
    return f"{EARLIEST:%Y-%m-%dT%H:%M:%SZ} to {LATEST:%Y-%m-%dT%H:%M:%SZ}"
