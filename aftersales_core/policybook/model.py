"""The policy book: a merchant's after-sales settings, as one validated document.

The model checks structure and consistency (every field known and of its type, amounts exact to
their currency's minor unit, every currency the merchant sells in with an approval threshold, a
calendar with at least one working day). The law's minimums are checked separately, when a
version is set (``floors.py``), so that a version stored under older rules stays loadable.
Amounts and rates are decimal strings (``"0.60"``, ``"220"``): a TOML or JSON float could have
lost a digit already.
"""

from __future__ import annotations

import re
from datetime import date, time
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)

from aftersales_core.money import MINOR_UNITS, Money
from aftersales_core.policies.calendar import is_zone
from aftersales_core.policies.categories import CATEGORIES
from aftersales_core.policies.periods import Length
from aftersales_core.policies.vocabulary import (
    COMPLAINT_CHANNELS,
    INSPECTION_GRADES,
    RETURN_REASONS,
)
from aftersales_core.text import LINE_FORBIDDEN, LINE_FORBIDDEN_CHARS, text_problem

FORMAT = "aftersales.policy-book/1"
EU_GROUP = "EU"  # a key standing for the 27 member states; a member state's own key wins
DEFAULT = "default"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

ESCALATION_LEVELS = ("supervisor", "platform_arbitration", "regulator")
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


def _market(value: str) -> str:
    if value == EU_GROUP or re.fullmatch(r"[A-Z]{2}", value):
        return value
    raise ValueError(f"{value!r} is not a market: an ISO 3166-1 alpha-2 code such as DE, or EU "
                     "for every member state")


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


STORED = "stored"  # validation context: a version read back from the store


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
Market = Annotated[str, AfterValidator(_market)]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
Currency = Annotated[str, AfterValidator(_currency)]
Zone = Annotated[str, Field(max_length=64), AfterValidator(_zone)]
CategoryName = Annotated[str, AfterValidator(_category)]
Hours = Annotated[int, Field(ge=1, le=8760)]
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


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _distinct(name: str, values: list[Any]) -> None:
    if len(set(values)) != len(values):
        raise ValueError(f"{name} lists a value twice")


class Windows(Part):
    """How long after delivery a return may be asked for, in one market."""

    no_fault: PeriodText = Field(description="changed mind and other reasons that are not the "
                                             "merchant's fault (EU/UK: the withdrawal period; "
                                             "CN: the no-reason return)")
    fault: PeriodText = Field(description="damaged, defective, wrong item, not as described, "
                                          "counterfeit suspected")
    reasons: dict[ReturnReason, PeriodText] = Field(default_factory=dict,
                                                    description="a reason's own window")
    cross_border: PeriodText | None = Field(None, description="CN cross-border: counted from "
                                                              "customs release")
    bonded_return: PeriodText | None = Field(None, description="CN cross-border: the goods "
                                                               "back in the bonded zone, from "
                                                               "customs release")


class Returns(Part):
    default: Windows
    markets: dict[Market, Windows] = Field(default_factory=dict)
    ship_back: PeriodText = Field(description="from the request, for the goods to be sent back")
    excluded_categories: list[CategoryName] = Field(
        description="not returnable without a fault, where the law lets the merchant exclude "
                    "them (everywhere in merchant-policy markets)")
    unclassified: Literal["returnable", "review"] = "returnable"

    @model_validator(mode="after")
    def _check(self) -> Returns:
        _distinct("excluded_categories", self.excluded_categories)
        for market, windows in self.markets.items():
            if market != "CN" and (windows.cross_border or windows.bonded_return):
                raise ValueError(f"markets.{market}: cross_border and bonded_return are China's "
                                 "cross-border clocks, for CN only")
        return self


class ReturnShipping(Part):
    """Who pays to send back goods returned without the merchant's fault (the merchant always
    pays for its faults)."""

    default: Payer
    markets: dict[Market, Payer] = Field(default_factory=dict)


class LabelRate(Part):
    in_country: DecimalText
    international: DecimalText


class Returnless(Part):
    share: Rate = Field(description="refund without a return when shipping costs more than "
                                    "this share of the item value")
    value_floors: dict[Currency, DecimalText] = Field(default_factory=dict)
    label_rates: dict[Currency, LabelRate] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> Returnless:
        for currency, floor in self.value_floors.items():
            _exact(f"value_floors.{currency}", floor, currency)
        for currency, rate in self.label_rates.items():
            _exact(f"label_rates.{currency}.in_country", rate.in_country, currency)
            _exact(f"label_rates.{currency}.international", rate.international, currency)
        return self


class Restocking(Part):
    rate: Rate
    grades: list[Grade]

    @model_validator(mode="after")
    def _check(self) -> Restocking:
        _distinct("grades", self.grades)
        return self


class RefundTerm(Part):
    days: int | None = Field(None, ge=1, le=365)
    working_days: int | None = Field(None, ge=1, le=250)

    @model_validator(mode="after")
    def _one(self) -> RefundTerm:
        if (self.days is None) == (self.working_days is None):
            raise ValueError("give either days or working_days")
        return self


class Refunds(Part):
    default: RefundTerm
    markets: dict[Market, RefundTerm] = Field(default_factory=dict)


class Approval(Part):
    thresholds: dict[Currency, DecimalText]

    @model_validator(mode="after")
    def _check(self) -> Approval:
        for currency, limit in self.thresholds.items():
            _exact(f"thresholds.{currency}", limit, currency)
        return self


class Abuse(Part):
    window_orders: int = Field(ge=1, le=1000)
    min_orders: int = Field(ge=1, le=1000)
    max_return_rate: Rate

    @model_validator(mode="after")
    def _check(self) -> Abuse:
        if self.min_orders > self.window_orders:
            raise ValueError(f"min_orders {self.min_orders} is more than the window of "
                             f"{self.window_orders} orders")
        return self


class Complaints(Part):
    clock: Literal["calendar", "business"] = Field(
        description="calendar: hours around the clock; business: the market's business hours")
    first_response_hours: dict[Priority, Hours]
    channel_first_response_hours: dict[Channel, Hours] = Field(
        default_factory=dict, description="a channel's own target, when stricter")
    resolution_hours: dict[Priority, Hours]
    pause_while_waiting_on_customer: bool = True

    @model_validator(mode="after")
    def _check(self) -> Complaints:
        for name in ("first_response_hours", "resolution_hours"):
            missing = [p for p in PRIORITIES if p not in getattr(self, name)]
            if missing:
                raise ValueError(f"{name} has no target for {', '.join(missing)}")
        return self


def _hours(value: Any) -> Any:
    if not isinstance(value, str) or not _HOURS.fullmatch(value):
        raise ValueError(f"business hours are \"09:00-18:00\", not {value!r}")
    try:
        start, end = (time.fromisoformat(part) for part in value.split("-"))
    except ValueError:
        raise ValueError(f"{value!r} is not two times of day such as \"09:00-18:00\"") from None
    if start >= end:
        raise ValueError(f"{value!r}: the desk must open before it closes")
    return value


class Calendar(Part):
    zone: Zone | None = Field(None, description="the desk's time zone (default: the market's)")
    hours: Annotated[str, BeforeValidator(_hours)] = "09:00-18:00"
    working_days: list[Weekday] | None = Field(
        None, description="default: the market's usual working week")
    public_holidays: bool = True
    closed: list[date] = Field(default_factory=list, description="the merchant's own days off")
    open: list[date] = Field(default_factory=list, description="extra working days")

    @model_validator(mode="after")
    def _check(self) -> Calendar:
        if self.working_days is not None:
            if not self.working_days:
                raise ValueError("working_days must name at least one day")
            _distinct("working_days", self.working_days)
        if set(self.closed) & set(self.open):
            raise ValueError("a day cannot be both closed and open")
        for day in (*self.closed, *self.open):
            if not 2000 <= day.year <= 2100:
                raise ValueError(f"{day.isoformat()} is not a year from 2000 to 2100")
        return self

    @property
    def opening(self) -> tuple[time, time]:
        start, end = self.hours.split("-")
        return time.fromisoformat(start), time.fromisoformat(end)


class Calendars(Part):
    default: Calendar
    markets: dict[Market, Calendar] = Field(default_factory=dict)


class Escalation(Part):
    complaint_ladder: list[Level] = Field(min_length=1)
    cases: Literal["supervisor"] = "supervisor"
    escalated_resolution_hours: Hours = 72

    @model_validator(mode="after")
    def _check(self) -> Escalation:
        _distinct("complaint_ladder", self.complaint_ladder)
        order = [ESCALATION_LEVELS.index(level) for level in self.complaint_ladder]
        if order != sorted(order):
            raise ValueError("complaint_ladder must climb: supervisor, platform_arbitration, "
                             "regulator")
        return self


class Book(Part):
    """A merchant's (or the platform's) policy book, format ``aftersales.policy-book/1``."""

    format: Literal["aftersales.policy-book/1"]
    merchant_name: Name
    currencies: list[Currency] = Field(min_length=1, description="currencies the merchant "
                                                                 "sells in")
    support: dict[Channel, Name] = Field(default_factory=dict, description="where customers "
                                         "reach the desk, per channel (published)")
    buyer_zones: dict[Country, Zone] = Field(default_factory=dict, description="a market's "
                                             "default buyer time zone, for counting days")
    returns: Returns
    return_shipping: ReturnShipping
    returnless: Returnless
    restocking: Restocking
    refunds: Refunds
    approval: Approval
    abuse: Abuse
    complaints: Complaints
    calendars: Calendars
    escalation: Escalation

    @model_validator(mode="after")
    def _check(self) -> Book:
        _distinct("currencies", self.currencies)
        missing = [c for c in self.currencies if c not in self.approval.thresholds]
        if missing:
            raise ValueError(
                f"approval.thresholds: no approval threshold for {', '.join(missing)}, "
                f"{'a currency' if len(missing) == 1 else 'currencies'} this merchant sells in: "
                "set one for each")
        return self


def _exact(where: str, amount: Decimal, currency: str) -> None:
    if Money(amount, currency).amount != amount:
        raise ValueError(f"{where}: {amount} has more decimals than {currency} allows")
