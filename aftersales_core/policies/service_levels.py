"""Service levels: targets per complaint priority and channel, and the clocks they run on.

A clock is either the calendar (hours around the clock) or the desk's business hours: the
opening hours of the market's desk on its working days, in the desk's time zone, skipping the
market's public holidays (the ``holidays`` package, with China's swapped working weekends) and
the merchant's own closed days. Either clock stops while the desk waits on the customer (the
pauses given), when the settings say so. Working-day periods (a refund in 7 working days) use
the same working days. On the calendar clock a resolution target of whole days
(``whole_days``: 168 hours is 7 days, as a published policy states it) is a period of days
(SPEC "counting days"): it ends at the end of the last of them in the buyer's time zone,
later by the time the clock stopped (``ServiceLevels.resolution_due``; complaint.triage v3,
deadlines v5). Nothing here reads a
clock: every moment comes in as an argument.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from aftersales_core.policies.calendar import (
    MARKET_ZONES,
    BuyerZone,
    Period,
    _public_holidays,
    calendar_period,
    desk_holidays,
    zone,
)
from aftersales_core.policies.markets import for_market

if TYPE_CHECKING:
    from holidays import HolidayBase

Clock = Literal["calendar", "business"]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS_SEARCHED = 3 * 366  # a target further away than this is a calendar without open hours
#: the most days in a row a book's desk calendar may be shut (``policy set`` refuses more): well
#: within ``MAX_DAYS_SEARCHED``, so that public holidays next to closed days do not use it up
LONGEST_CLOSURE = 366
Pause = tuple[datetime, datetime]


class NoOpenHoursError(ValueError):
    pass


def no_open_hours_words(error: NoOpenHoursError) -> str:
    """Why a target ran in hours around the clock: the desk calendar (a book set before such
    calendars were refused) has no open hours to count it in. A complaint is never refused
    for its merchant's calendar: its targets run on the calendar clock instead."""
    return f"{error}: the targets run in hours around the clock instead"


def whole_days(hours: int) -> int | None:
    """The days a target of ``hours`` is stated in (two days or more, whole), else None: a
    published policy says "7 days" for 168 hours, and a resolution target it states in days
    is counted as days."""
    return hours // 24 if hours >= 48 and hours % 24 == 0 else None


@dataclass(frozen=True)
class MarketCalendar:
    """When a market's desk works: its zone, opening hours, working days and days off."""

    zone: str | None = None  # None: the market's default zone (UTC without a market)
    opens: time = time(9)
    closes: time = time(18)
    working_days: tuple[str, ...] | None = None  # None: the market's usual working week
    public_holidays: bool = True
    closed: frozenset[date] = frozenset()
    open: frozenset[date] = frozenset()

    def zone_for(self, market: str | None) -> str:
        if self.zone is not None:
            return self.zone
        return MARKET_ZONES.get(market or "", "UTC")

    def is_working_day(self, day: date, market: str | None) -> bool:
        if day in self.open:
            return True
        if day in self.closed:
            return False
        package = self.holidays(market) if market else None
        # ``in`` loads the year, with its swapped working weekends, before they are read
        holiday = package is not None and self.public_holidays and day in package
        if self.working_days is None:
            if package is not None and self.public_holidays:
                return bool(package.is_working_day(day))
            weekend = package.weekend if package is not None else {5, 6}
            return day.weekday() not in weekend
        return WEEKDAYS[day.weekday()] in self.working_days and not holiday

    def holidays(self, market: str) -> HolidayBase | None:
        """The public holidays of the market (the days common to all its parts)."""
        return _public_holidays(market)

    def why_off(self, day: date, market: str | None) -> str:
        if day in self.closed:
            return "closed by the merchant"
        if not market or not self.public_holidays:
            return "weekend"
        package = self.holidays(market)
        name = None if package is None else package.get(day)
        return str(name) if name else "weekend"


@dataclass(frozen=True)
class DeskCalendar(MarketCalendar):
    """A desk calendar keeping the public holidays of the part of the market its zone lies in
    (``calendar.DESK_SUBDIVISIONS``: a GB desk in Europe/London keeps England's bank holidays,
    Easter Monday and the August bank holiday among them), not only the days common to all its
    parts (complaint.triage v4, deadlines v6; the same fields, so the same settings)."""

    def holidays(self, market: str) -> HolidayBase | None:
        return desk_holidays(market, self.zone_for(market))


def by_desk_region(levels: ServiceLevels) -> ServiceLevels:
    """The service levels with desk calendars that keep their region's public holidays."""
    def desk(calendar: MarketCalendar) -> DeskCalendar:
        return DeskCalendar(**{f.name: getattr(calendar, f.name) for f in fields(calendar)})

    return replace(levels, calendar=desk(levels.calendar), calendars=MappingProxyType(
        {market: desk(calendar) for market, calendar in levels.calendars.items()}))


def _running(start: datetime, clock: Clock, calendar: MarketCalendar,
             market: str | None) -> Iterator[tuple[datetime, datetime | None]]:
    """The intervals the clock runs in from ``start`` (None: without end)."""
    if clock == "calendar":
        yield start, None
        return
    where = zone(calendar.zone_for(market))
    day = start.astimezone(where).date()
    for _ in range(MAX_DAYS_SEARCHED):
        if calendar.is_working_day(day, market):
            opens = datetime.combine(day, calendar.opens, tzinfo=where).astimezone(UTC)
            closes = datetime.combine(day, calendar.closes, tzinfo=where).astimezone(UTC)
            if closes > start:
                yield max(opens, start), closes
        day += timedelta(days=1)
    raise NoOpenHoursError(f"the desk calendar has no open hours within {MAX_DAYS_SEARCHED} days "
                           f"of {start.isoformat()}")


def due_after(start: datetime, hours: int, clock: Clock, calendar: MarketCalendar,
              market: str | None, pauses: Iterable[Pause] = ()) -> datetime:
    """The moment ``hours`` of the clock have run from ``start``, not counting the pauses."""
    return due_after_span(start, timedelta(hours=hours), clock, calendar, market, pauses)


def due_after_span(start: datetime, span: timedelta, clock: Clock, calendar: MarketCalendar,
                   market: str | None, pauses: Iterable[Pause] = ()) -> datetime:
    """The moment ``span`` of the clock has run from ``start``, not counting the pauses."""
    left = span
    stops = sorted((a, b) for a, b in pauses if b > start)
    for begin, end in _running(start, clock, calendar, market):
        for piece_start, piece_end in _without(begin, end, stops):
            if piece_end is None or piece_end - piece_start >= left:
                return (piece_start + left).astimezone(start.tzinfo)
            left -= piece_end - piece_start
    raise AssertionError("unreachable: the running intervals never end")


def _without(begin: datetime, end: datetime | None,
             stops: list[Pause]) -> Iterator[tuple[datetime, datetime | None]]:
    """The interval [begin, end) less the pauses."""
    cursor = begin
    for stop_start, stop_end in stops:
        if end is not None and stop_start >= end:
            break
        if stop_end <= cursor:
            continue
        if stop_start > cursor:
            yield cursor, stop_start
        cursor = max(cursor, stop_end)
        if end is not None and cursor >= end:
            return
    yield cursor, end


@dataclass(frozen=True)
class Resolution:
    """When a resolution target falls due; ``period``: the days it was counted as (None: a
    target in hours, run on the clock)."""

    due: datetime
    hours: int
    period: Period | None

    def words(self, priority: str, clock: str, market: str | None, stopped: str = "") -> str:
        """What the target is, for the decision's reasons."""
        if self.period is None:
            return f"resolution within {self.hours} hours for {priority}, in {clock}{stopped}"
        where = self.period.zone
        zone_words = where.describe(market) if market else \
            f"{where.name} (anywhere on Earth: the complaint names no order)"
        return (f"resolution within {self.hours // 24} days for {priority}, to the end of "
                f"{self.period.last_day.isoformat()} in {zone_words}{stopped}")

    def to_json(self) -> dict[str, object]:
        """The counted period (its last day and zone), to record; nothing for hours."""
        return {} if self.period is None else self.period.to_json()


@dataclass(frozen=True)
class ServiceLevels:
    """Targets per priority (and per channel, where stricter), on one clock."""

    clock: Clock = "calendar"
    first_response_hours: Mapping[str, int] = field(
        default_factory=lambda: MappingProxyType({"P1": 24, "P2": 24, "P3": 24}))
    channel_first_response_hours: Mapping[str, int] = field(
        default_factory=lambda: MappingProxyType({"platform": 12, "regulator": 12}))
    resolution_hours: Mapping[str, int] = field(
        default_factory=lambda: MappingProxyType({"P1": 168, "P2": 168, "P3": 168}))
    pause_while_waiting_on_customer: bool = True
    calendar: MarketCalendar = field(default_factory=MarketCalendar)
    calendars: Mapping[str, MarketCalendar] = field(default_factory=lambda: MappingProxyType({}))

    def calendar_for(self, market: str | None) -> MarketCalendar:
        return self.calendar if market is None else for_market(self.calendars, market,
                                                               self.calendar)

    def first_response(self, priority: str, channel: str) -> tuple[int, str]:
        """Hours to the first response, and why that many."""
        hours = self.first_response_hours[priority]
        on_channel = self.channel_first_response_hours.get(channel)
        if on_channel is not None and on_channel < hours:
            return on_channel, f"{on_channel} hours on the {channel} channel"
        return hours, f"{hours} hours for {priority}"

    def around_the_clock(self) -> ServiceLevels:
        """The same targets on the calendar clock: what a desk calendar without open hours
        falls back to (``NoOpenHoursError``), so that no complaint is lost for it."""
        return replace(self, clock="calendar")

    def clock_words(self, market: str | None) -> str:
        if self.clock == "calendar":
            return "hours around the clock"
        desk = self.calendar_for(market)
        return f"business hours ({desk.opens:%H:%M}-{desk.closes:%H:%M} " \
               f"{desk.zone_for(market)}, working days only)"

    def days_off(self, start: datetime, due: datetime, market: str | None) -> str:
        """The desk's days off (public holidays, days the merchant closed; not its weekend)
        an hour clock skipped between ``start`` and ``due``, for the reasons: "; skipping the
        days off 2026-04-06 Easter Monday" (nothing on the calendar clock)."""
        if self.clock == "calendar" or due <= start:
            return ""
        desk = self.calendar_for(market)
        where = zone(desk.zone_for(market))
        day, last = start.astimezone(where).date(), due.astimezone(where).date()
        named: list[str] = []
        while day <= last:
            if not desk.is_working_day(day, market):
                why = desk.why_off(day, market)
                if why != "weekend":
                    named.append(f"{day.isoformat()} {why}")
            day += timedelta(days=1)
        return f"; skipping the days off {', '.join(named)}" if named else ""

    def due(self, start: datetime, hours: int, market: str | None,
            pauses: Iterable[Pause] = ()) -> datetime:
        kept = pauses if self.pause_while_waiting_on_customer else ()
        return due_after(start, hours, self.clock, self.calendar_for(market), market, kept)

    def resolution_due(self, start: datetime, hours: int, market: str | None,
                       where: BuyerZone, pauses: Iterable[Pause] = ()) -> Resolution:
        """A resolution target of ``hours`` from ``start``. On the calendar clock a target of
        whole days (``whole_days``) is a period of that many days from the day of ``start``:
        it ends at the end of its last day in ``where`` (the buyer's zone), later by the time
        the clock stopped in it; any other target (a part of a day, business hours) runs its
        hours."""
        days = whole_days(hours)
        if self.clock != "calendar" or days is None:
            return Resolution(self.due(start, hours, market, pauses), hours, None)
        period = calendar_period(start, where, days=days)
        kept = pauses if self.pause_while_waiting_on_customer else ()
        due = due_after_span(start, period.ends_at - start, "calendar",
                             self.calendar_for(market), market, kept)
        return Resolution(due.astimezone(period.ends_at.tzinfo), hours, period)
