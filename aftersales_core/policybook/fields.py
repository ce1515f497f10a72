"""The words a policy book is written in: its format and constants, and the field types its
parts are made of (decimal amounts and rates, periods, markets, currencies, zones, categories,
business hours, one-line names, the closed vocabularies), each with its check and, where the
text differs from the value, how it is written back and published in the JSON Schema."""

from __future__ import annotations

import re
from datetime import time
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
)

from aftersales_core.money import MINOR_UNITS
from aftersales_core.outcomes import ESCALATION_LEVELS as ESCALATION_LEVELS  # the ladder
from aftersales_core.policies.calendar import is_zone
from aftersales_core.policies.categories import CATEGORIES
from aftersales_core.policies.markets import EU_GROUP, MARKETS, check_market
from aftersales_core.policies.periods import Length
from aftersales_core.policies.vocabulary import (
    COMPLAINT_CHANNELS,
    INSPECTION_GRADES,
    RETURN_REASONS,
)
from aftersales_core.text import LINE_FORBIDDEN, LINE_FORBIDDEN_CHARS, text_problem

FORMAT = "aftersales.policy-book/1"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_DECIMAL = re.compile(r"[0-9]{1,18}(\.[0-9]{1,18})?")
_HOURS = re.compile(r"[0-9]{2}:[0-9]{2}-[0-9]{2}:[0-9]{2}")


def _decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        raise ValueError(f"write decimals as strings (\"{value}\"), never as floats: a float may "
                         "have lost a digit already")
    if isinstance(value, bool):
        raise ValueError(f"must be a decimal string, not {value!r}")
    if not isinstance(value, (str, int)):
        raise ValueError(f"must be a decimal string such as \"12.50\", not {value!r}")
    if isinstance(value, int) and value < 0:
        raise ValueError(f"must not be negative, got {value!r}")
    text = str(value)
    if not _DECIMAL.fullmatch(text):
        raise ValueError(f"{text!r} is not a decimal such as \"12.50\" (digits 0-9 and one "
                         "point)")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not a decimal number: {value!r}") from None
    if number.adjusted() > 15:
        raise ValueError(f"{text!r} is too large")
    return number


def _rate(value: Decimal) -> Decimal:
    if value > 1:
        raise ValueError(f"a rate is a share from 0 to 1 (\"0.10\" for 10%), not {value}")
    return value


def _period(value: Any) -> Length:
    if isinstance(value, Length):
        return value
    if not isinstance(value, str):
        raise ValueError(f"write a period as \"14 days\" or \"2 years\", not {value!r}")
    return Length.parse(value)


STORED = "stored"  # validation context: a version read back from the store


def _stored_key(value: str, info: ValidationInfo) -> bool:
    """A market key of a version read back from the store, of two capitals as any was before
    keys had to be assigned codes: the version loads as it was set, so that its settings, and
    their hash, stay what its decisions used."""
    return bool((info.context or {}).get(STORED)) and re.fullmatch(r"[A-Z]{2}", value) is not None


def _market(value: str, info: ValidationInfo) -> str:
    """A market key: an assigned ISO 3166-1 alpha-2 code, as the validation boundary takes an
    order's market (``UK``, ``XX`` would name no order's market), or ``EU``."""
    if _stored_key(value, info):
        return value
    return check_market(value, group=True)


def _country(value: str, info: ValidationInfo) -> str:
    """A buyer zone's market: one country, never the EU group (a group holds several zones:
    each member state has its own)."""
    if value == EU_GROUP:
        raise ValueError(f"a buyer zone is set per market (a member state's own code, such as "
                         f"DE); {EU_GROUP} spans several zones and would be ignored")
    if _stored_key(value, info):
        return value
    return check_market(value)


def _currency(value: str) -> str:
    if value not in MINOR_UNITS:
        raise ValueError(f"unknown currency {value!r} (an ISO 4217 code such as EUR)")
    return value


def _zone(value: str) -> str:
    if not is_zone(value):
        raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Berlin")
    return value


def _category(value: str) -> str:
    if value not in CATEGORIES:
        raise ValueError(f"{value!r} is not a category of the vocabulary "
                         f"({', '.join(sorted(CATEGORIES))})")
    return value


def _text(value: str, info: ValidationInfo) -> str:
    """One line of text (no control characters, C1 included). A version stored before C1
    controls were refused stays loadable: stored versions are never refused after the fact."""
    problem = text_problem(value, LINE_FORBIDDEN)
    if problem is not None and not (info.context or {}).get(STORED):
        raise ValueError(problem)
    return value


DecimalText = Annotated[
    Decimal, BeforeValidator(_decimal),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$"}),
]
Rate = Annotated[DecimalText, AfterValidator(_rate)]
PeriodText = Annotated[
    Length, BeforeValidator(_period), PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]+ (day|days|year|years)$",
                    "examples": ["14 days", "2 years"]}),
]
Market = Annotated[str, AfterValidator(_market),
                   WithJsonSchema({"type": "string", "enum": sorted({*MARKETS, EU_GROUP})})]
Country = Annotated[str, AfterValidator(_country),
                    WithJsonSchema({"type": "string", "enum": sorted(MARKETS)})]
Currency = Annotated[str, AfterValidator(_currency)]
Zone = Annotated[str, Field(max_length=64), AfterValidator(_zone)]
CategoryName = Annotated[str, AfterValidator(_category)]
# TOML and JSON have integers and booleans of their own: every integer and boolean field of a
# book is strict (pydantic's lax mode would read "14", 14.0 or true as 14, "yes" or 1 as true)
Hours = Annotated[int, Field(ge=1, le=8760, strict=True)]
Name = Annotated[str, Field(min_length=1, max_length=200,
                           json_schema_extra={"pattern": f"^[^{LINE_FORBIDDEN_CHARS}]+$"}),
                 AfterValidator(_text)]
ReturnReason = Literal[
    "damaged", "defective", "wrong_item", "not_as_described", "counterfeit_suspected",
    "changed_mind", "no_longer_needed", "doesnt_fit", "better_price_found", "arrived_late",
    "other",
]
Channel = Literal["chat", "phone", "email", "platform", "social", "regulator"]
Priority = Literal["P1", "P2", "P3"]
PRIORITIES: tuple[Priority, ...] = ("P1", "P2", "P3")
Grade = Literal["A", "B", "C", "D"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Payer = Literal["buyer", "merchant", "buyer_if_informed"]
Level = Literal["supervisor", "platform_arbitration", "regulator"]

assert set(ReturnReason.__args__) == RETURN_REASONS  # type: ignore[attr-defined]
assert set(Channel.__args__) == COMPLAINT_CHANNELS  # type: ignore[attr-defined]
assert set(Grade.__args__) == INSPECTION_GRADES  # type: ignore[attr-defined]


def business_hours(value: Any) -> Any:
    """Opening hours of a desk as "09:00-18:00": opening before closing."""
    if not isinstance(value, str) or not _HOURS.fullmatch(value):
        raise ValueError(f"business hours are \"09:00-18:00\", not {value!r}")
    try:
        start, end = (time.fromisoformat(part) for part in value.split("-"))
    except ValueError:
        raise ValueError(f"{value!r} is not two times of day such as \"09:00-18:00\"") from None
    if start >= end:
        raise ValueError(f"{value!r}: the desk must open before it closes")
    return value
