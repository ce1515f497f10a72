"""Field types shared by the wire schemas: decimal-string amounts, currencies, RFC 3339 times,
identifiers and free text. Each check is the one its published JSON Schema states."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
)

from aftersales_core.domain.ids import (
    MAX_MERCHANT_ID,
    MERCHANT_ID_PATTERN,
    RESERVED_CUSTOMER_ID_PATTERN,
    customer_id_problem,
    merchant_id_problem,
)
from aftersales_core.money import MINOR_UNITS
from aftersales_core.policies.calendar import is_zone
from schemas.limits import (
    AMOUNT,
    AMOUNT_DECIMALS,
    AMOUNT_INTEGER_DIGITS,
    AMOUNT_PATTERN,
    EARLIEST,
    IDENT_INVISIBLE,
    IDENT_MARK,
    IDENT_PATTERN,
    LATEST,
    RFC3339,
    TEXT_FORBIDDEN,
    TEXT_PATTERN,
    TIME_PATTERN,
    describe_time_range,
)
from schemas.markets import MARKETS, check_market


def shown(value: str, limit: int = 40) -> str:
    """A value quoted for an error message: escaped (repr) and cut short."""
    text = repr(value[:limit])
    return text + ("…" if len(value) > limit else "")


def _decimal_string(value: Any) -> Decimal:
    """Amounts travel as decimal strings: a JSON number could already have lost a cent."""
    if isinstance(value, Decimal):  # built in code, not read from a message
        value = format(value, "f")
    if not isinstance(value, str):
        raise ValueError('amounts must be decimal strings such as "12.50"')
    if not AMOUNT.fullmatch(value):
        if value.startswith("-"):
            raise ValueError("must not be negative")
        raise ValueError(
            f"not an amount: {shown(value)} (digits with an optional point: at most "
            f"{AMOUNT_INTEGER_DIGITS} before it and {AMOUNT_DECIMALS} after it)")
    return Decimal(value)


def _known_currency(value: str) -> str:
    if value not in MINOR_UNITS:
        raise ValueError(f"unknown currency {shown(value)} (ISO 4217 code expected)")
    return value


def _time_text(value: Any) -> Any:
    """Times travel as RFC 3339 strings, never as numbers of seconds: not as JSON numbers, and
    not as numeric strings either, which pydantic would read as seconds or milliseconds since
    1970 depending on their length."""
    if isinstance(value, datetime):  # built in code, not read from a message
        return value
    if not isinstance(value, str) or not RFC3339.fullmatch(value):
        raise ValueError("times must be RFC 3339 strings with an offset, "
                         "such as 2026-03-02T09:00:00+00:00 (not numbers of seconds)")
    if value[17:19] == "60":  # RFC 3339 writes a leap second so; no clock here can hold it
        raise ValueError(f"{value} is a leap second (:60): times are taken up to :59")
    return value


def _in_range(value: datetime) -> datetime:
    # aware datetimes compare through a timedelta: no overflow at the edges of the calendar
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"{value.isoformat()} is outside the supported range "
                         f"{describe_time_range()}")
    return value


def _named(char: str) -> str:
    """A character for an error message: its code point and name, never itself."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}{' ' + name if name else ''}"


def identifier_problem(value: str) -> str | None:
    """What makes ``value`` unfit as an identifier (None: nothing): the rule of IDENT_PATTERN."""
    found = IDENT_INVISIBLE.search(value)
    if found:
        return (f"must not contain invisible or blank characters ({_named(found.group())} at "
                f"position {found.start()})")
    if value[:1] == " " or value[-1:] == " ":
        return "must not begin or end with a space"
    if IDENT_MARK.match(value):
        return f"must not begin with a combining mark ({_named(value[0])})"
    return None


def check_identifier(value: Any) -> Any:
    """Checked as received, before commands strip their strings: " o-1" is refused on every
    path, never read as another order's "o-1" on one of them. Not a string: left to the type."""
    if isinstance(value, str):
        problem = identifier_problem(value)
        if problem is not None:
            raise ValueError(problem)
    return value


def _customer_id(value: str) -> str:
    problem = customer_id_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _merchant_id(value: str) -> str:
    problem = merchant_id_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _text(value: str) -> str:
    found = TEXT_FORBIDDEN.search(value)
    if found:
        raise ValueError(f"must not contain NUL or control characters other than tab and "
                         f"line breaks (U+{ord(found.group()):04X} at position {found.start()})")
    return value


def _known_zone(value: str) -> str:
    if not is_zone(value):
        raise ValueError(f"{value!r} is not an IANA time zone name such as Europe/Berlin")
    return value


Amount = Annotated[
    Decimal,
    BeforeValidator(_decimal_string),
    WithJsonSchema({"type": "string", "pattern": AMOUNT_PATTERN,
                    "maxLength": AMOUNT_INTEGER_DIGITS + 1 + AMOUNT_DECIMALS,
                    "description": "a non-negative decimal amount as a string, e.g. \"12.50\": "
                                   f"at most {AMOUNT_INTEGER_DIGITS} digits before the point "
                                   f"and {AMOUNT_DECIMALS} after it"}),
]
# the published schemas list the codes the engine knows (an upstream validating against them is
# never told a message is fine that the engine then refuses)
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$",
                                json_schema_extra={"enum": sorted(MINOR_UNITS)}),
                     AfterValidator(_known_currency)]
# JSON's integers and booleans taken as they are. pydantic's lax mode would read true, "4" and
# 4.0 as integers and "yes", "off", 1 as booleans, which the published schemas ("integer",
# "boolean") do not allow: a wire field of either type is one of these, never a bare int or bool.
Integer = Annotated[int, Field(strict=True)]
Flag = Annotated[bool, Field(strict=True)]
Quantity = Annotated[Integer, Field(gt=0, le=100_000)]
Timestamp = Annotated[
    AwareDatetime,
    BeforeValidator(_time_text),
    AfterValidator(_in_range),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": TIME_PATTERN,
                    "description": "RFC 3339 with an offset, from "
                                   f"{describe_time_range()}"}),
]

Market = Annotated[
    str, AfterValidator(check_market),
    WithJsonSchema({"type": "string", "enum": sorted(MARKETS),
                    "description": "the buyer's country: an assigned ISO 3166-1 alpha-2 code"}),
]


TimeZone = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+\-/]+$"),
                     AfterValidator(_known_zone)]

_IDENT_SCHEMA = {"pattern": IDENT_PATTERN}
_TEXT_SCHEMA = {"pattern": TEXT_PATTERN}

# identifiers and codes: nothing invisible or blank, no space at either end (checked before
# commands strip their strings)
Ident = Annotated[str, Field(min_length=1, max_length=200, json_schema_extra=_IDENT_SCHEMA),
                  BeforeValidator(check_identifier)]
# a customer's id: an identifier, never the marker erased data reads as (aftersales_core/
# domain/ids.py), nor any other word in square brackets
CustomerId = Annotated[str, Field(min_length=1, max_length=200, json_schema_extra={
    **_IDENT_SCHEMA, "not": {"pattern": RESERVED_CUSTOMER_ID_PATTERN}}),
    BeforeValidator(check_identifier), AfterValidator(_customer_id)]
# a merchant's id: the one rule of every entry point (aftersales_core/domain/ids.py)
MerchantId = Annotated[str, Field(min_length=1, max_length=MAX_MERCHANT_ID,
                                  json_schema_extra={"pattern": MERCHANT_ID_PATTERN}),
                       AfterValidator(_merchant_id)]
# free text written by people: line breaks and tabs, but no NUL or other controls
Text = Annotated[str, Field(min_length=1, max_length=2000, json_schema_extra=_TEXT_SCHEMA),
                 AfterValidator(_text)]
Detail = Annotated[str, Field(max_length=2000, json_schema_extra=_TEXT_SCHEMA),
                   AfterValidator(_text)]
Place = Annotated[str, Field(max_length=500, json_schema_extra=_TEXT_SCHEMA),
                  AfterValidator(_text)]
Note = Annotated[str, Field(max_length=10_000, json_schema_extra=_TEXT_SCHEMA),
                 AfterValidator(_text)]
# a message someone sends: a Note with something in it (spaces alone are stripped to nothing)
Message = Annotated[str, Field(min_length=1, max_length=10_000, json_schema_extra=_TEXT_SCHEMA),
                    AfterValidator(_text)]


class Strict(BaseModel):
    """Commands: unknown fields are errors (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Open(BaseModel):
    """Upstream events: unknown extra fields are allowed and kept (SPEC §4.1)."""

    model_config = ConfigDict(extra="allow", frozen=True)
