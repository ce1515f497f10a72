"""What the validation boundary accepts, in one place (the README's "Input limits" table).

Everything that enters the engine (Kafka, `aftersales ingest`, `aftersales submit`, later the
service API) passes the same limits, so anything accepted can be stored, relayed and projected
on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from aftersales_core.text import TEXT_FORBIDDEN_CHARS
from schemas.marks import COMBINING_MARKS

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

# Identifiers (ids of orders, customers, lines, events, skus, carriers, codes): what cannot be
# seen or reads as blank is refused, so that two ids that look alike are alike. Anywhere: every
# control, format character, line and paragraph separator and space but the ASCII space
# (Unicode 14's categories Cc, Cf, Zl, Zp and Zs: NBSP, the ideographic space...), the Hangul
# fillers, the variation selectors and the tag block (invisible letters). The ASCII space only
# between other characters ("BANK CHARGES", "Royal Mail"): never at either end, so "o-1 " is
# refused on every path instead of being stripped on one and kept on another. No combining
# mark first (schemas/marks.py). BMP characters as escapes, those beyond it as themselves (what
# ECMA 262 with the "u" flag and Python's re both read: the published patterns).
_IDENT_INVISIBLE = (
    r"\u0000-\u001f\u007f-\u00a0\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2"
    r"\u115f-\u1160\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\u3164"
    r"\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e007f\U000e0100-\U000e01ef")
IDENT_PATTERN = (rf"^[^{_IDENT_INVISIBLE}{COMBINING_MARKS} ]"
                 rf"([^{_IDENT_INVISIBLE}]*[^{_IDENT_INVISIBLE} ])?$")
IDENT_INVISIBLE = re.compile(f"[{_IDENT_INVISIBLE}]")
IDENT_MARK = re.compile(f"[{COMBINING_MARKS}]")
# Characters refused in free text: NUL, the C0 controls other than tab, line feed and carriage
# return, DEL and the C1 controls (no database text type keeps NUL; terminals act on the
# others). One definition for every entry point: aftersales_core/text.py.
_TEXT_FORBIDDEN = TEXT_FORBIDDEN_CHARS
TEXT_PATTERN = rf"^[^{_TEXT_FORBIDDEN}]*$"

TEXT_FORBIDDEN = re.compile(f"[{_TEXT_FORBIDDEN}]")
RFC3339 = re.compile(TIME_PATTERN, re.ASCII)
AMOUNT = re.compile(AMOUNT_PATTERN.removeprefix("^").removesuffix("$"), re.ASCII)


def describe_time_range() -> str:
    return f"{EARLIEST:%Y-%m-%dT%H:%M:%SZ} to {LATEST:%Y-%m-%dT%H:%M:%SZ}"
