"""The policy book: a merchant's after-sales settings, as one validated document.

The model checks structure and consistency (every field known and of its type, amounts exact to
their currency's minor unit, every currency the merchant sells in with an approval threshold, a
calendar with at least one working day). The law's minimums are checked separately, when a
version is set (``floors.py``), so that a version stored under older rules stays loadable.
Amounts and rates are decimal strings (``"0.60"``, ``"220"``): a TOML or JSON float could have
lost a digit already.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    model_validator,
)

from aftersales_core.money import Money
from aftersales_core.policies.service_levels import LONGEST_CLOSURE
from aftersales_core.policybook.fields import (
    ESCALATION_LEVELS,
    PRIORITIES,
    STORED,
    WEEKDAYS,
    CategoryName,
    Channel,
    Country,
    Currency,
    DecimalText,
    Grade,
    Hours,
    Level,
    Market,
    Name,
    Payer,
    PeriodText,
    Priority,
    Rate,
    ReturnReason,
    Weekday,
    Zone,
    business_hours,
)


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
    days: int | None = Field(None, ge=1, le=365, strict=True)
    working_days: int | None = Field(None, ge=1, le=250, strict=True)

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
    window_orders: int = Field(ge=1, le=1000, strict=True)
    min_orders: int = Field(ge=1, le=1000, strict=True)
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
    pause_while_waiting_on_customer: bool = Field(True, strict=True)

    @model_validator(mode="after")
    def _check(self) -> Complaints:
        for name in ("first_response_hours", "resolution_hours"):
            missing = [p for p in PRIORITIES if p not in getattr(self, name)]
            if missing:
                raise ValueError(f"{name} has no target for {', '.join(missing)}")
        return self


class Calendar(Part):
    zone: Zone | None = Field(None, description="the desk's time zone (default: the market's)")
    hours: Annotated[str, BeforeValidator(business_hours)] = "09:00-18:00"
    working_days: list[Weekday] | None = Field(
        None, description="default: the market's usual working week")
    public_holidays: bool = Field(True, strict=True)
    closed: list[date] = Field(default_factory=list, description="the merchant's own days off")
    open: list[date] = Field(default_factory=list, description="extra working days")

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> Calendar:
        if self.working_days is not None:
            if not self.working_days:
                raise ValueError("working_days must name at least one day")
            _distinct("working_days", self.working_days)
        if set(self.closed) & set(self.open):
            raise ValueError("a day cannot be both closed and open")
        for day in (*self.closed, *self.open):
            if not 2000 <= day.year <= 2100:
                raise ValueError(f"{day.isoformat()} is not a year from 2000 to 2100")
        if not (info.context or {}).get(STORED):  # a stored version loads as it was set
            _opens_often_enough(self)
        return self

    @property
    def opening(self) -> tuple[time, time]:
        start, end = self.hours.split("-")
        return time.fromisoformat(start), time.fromisoformat(end)


def _opens_often_enough(calendar: Calendar) -> None:
    """Refuse closed days that, with the days off of the working week, keep the desk shut
    for more than ``LONGEST_CLOSURE`` days in a row: business-hours targets are looked for
    within ``MAX_DAYS_SEARCHED`` days, and a desk that never opens in them has no time to
    count a complaint's targets in (a complaint is never refused for it: its targets run
    around the clock; service_levels.py)."""
    closed, opened = set(calendar.closed), set(calendar.open)
    week = set(calendar.working_days) if calendar.working_days is not None else set(WEEKDAYS)

    def shut(day: date) -> bool:
        return day not in opened and (day in closed or WEEKDAYS[day.weekday()] not in week)

    seen: set[date] = set()
    for day in sorted(closed):
        if day in seen:
            continue
        first = day
        while shut(first - timedelta(days=1)):
            first -= timedelta(days=1)
        last = day
        while shut(last + timedelta(days=1)):
            last += timedelta(days=1)
            seen.add(last)
        length = (last - first).days + 1
        if length > LONGEST_CLOSURE:
            raise ValueError(
                f"closed: the desk would be shut {length} days in a row, {first.isoformat()} "
                f"to {last.isoformat()} (closed days with the days off of its working week); "
                f"it must open at least once in every {LONGEST_CLOSURE} days, or complaint "
                f"targets in business hours could not be counted")


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
