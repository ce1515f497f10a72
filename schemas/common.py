"""Field types shared by the wire schemas: decimal-string amounts, currencies, RFC 3339 times."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
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

from aftersales_core.money import MINOR_UNITS
from aftersales_core.policies.calendar import is_zone


def _decimal_string(value: Any) -> Decimal:
    """Amounts travel as decimal strings: a JSON number could already have lost a cent."""
    if isinstance(value, Decimal):
        return value
    if not isinstance(value, str):
        raise ValueError('amounts must be decimal strings such as "12.50"')
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"not a decimal amount: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    return amount


def _not_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("must not be negative")
    return value


def _known_currency(value: str) -> str:
    if value not in MINOR_UNITS:
        raise ValueError(f"unknown currency {value!r} (ISO 4217 code expected)")
    return value


def _known_zone(value: str) -> str:
    if not is_zone(value):
        raise ValueError(f"{value!r} is not an IANA time zone name such as Europe/Berlin")
    return value


Amount = Annotated[
    Decimal,
    BeforeValidator(_decimal_string),
    AfterValidator(_not_negative),
    WithJsonSchema({"type": "string", "pattern": r"^\d+(\.\d+)?$",
                    "description": "a non-negative decimal amount as a string, e.g. \"12.50\""}),
]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$"), AfterValidator(_known_currency)]
Timestamp = AwareDatetime
TimeZone = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+\-/]+$"),
                     AfterValidator(_known_zone)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
Ident = Annotated[str, Field(min_length=1, max_length=200)]
Note = Annotated[str, Field(max_length=10_000)]


class Strict(BaseModel):
    """Commands: unknown fields are errors (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Open(BaseModel):
    """Upstream events: unknown extra fields are allowed and kept (SPEC §4.1)."""

    model_config = ConfigDict(extra="allow", frozen=True)
