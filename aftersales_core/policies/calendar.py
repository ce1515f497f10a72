"""Counting days as the law does, in the buyer's calendar.

A period of N days from an event ends at the **end of the Nth calendar day after the day of the
event**, in the buyer's time zone (EU Regulation 1182/71 art. 3; UK Consumer Contracts
Regulations 2013 reg. 30-31; China's 7-day rule counts from the day after signing): goods
delivered at any hour of 1 June have a 14-day period that ends at the end of 15 June, local
time. A period in years ends on the same date N years later (29 February becomes 28 February).
Working days skip the market's weekend and public holidays (the ``holidays`` package, with
China's swapped working weekends).

Nothing here reads a clock: every moment comes in as an argument.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from aftersales_core.errors import InvalidCommandError
from aftersales_core.policies.market_zones import DEFAULT_ZONES

if TYPE_CHECKING:
    from holidays import HolidayBase

ONE_TICK = timedelta(microseconds=1)
# Where the day ends last on Earth (UTC-12, "anywhere on Earth"): the zone of a market without a
# default, so that an unknown zone never shortens a buyer's period.
ANYWHERE_ON_EARTH = "Etc/GMT+12"

# The default zone of each market when an order names none: the zone in which the market's
# day ends last, among those where its buyers live (so a missing zone never shortens a buyer's
# period; a merchant may configure others).
MARKET_ZONES: Mapping[str, str] = MappingProxyType({
    "CN": "Asia/Shanghai", "HK": "Asia/Hong_Kong", "MO": "Asia/Macau", "TW": "Asia/Taipei",
    "JP": "Asia/Tokyo", "KR": "Asia/Seoul", "SG": "Asia/Singapore", "MY": "Asia/Kuching",
    "TH": "Asia/Bangkok", "VN": "Asia/Ho_Chi_Minh", "ID": "Asia/Jakarta", "PH": "Asia/Manila",
    "IN": "Asia/Kolkata", "AE": "Asia/Dubai", "SA": "Asia/Riyadh", "IL": "Asia/Jerusalem",
    "TR": "Europe/Istanbul", "AU": "Australia/Perth", "NZ": "Pacific/Auckland",
    "US": "Pacific/Honolulu", "CA": "America/Vancouver", "MX": "America/Tijuana",
    "BR": "America/Rio_Branco", "AR": "America/Argentina/Buenos_Aires", "CL": "Pacific/Easter",
    "GB": "Europe/London", "IE": "Europe/Dublin", "IS": "Atlantic/Reykjavik",
    "NO": "Europe/Oslo", "CH": "Europe/Zurich", "RU": "Europe/Kaliningrad",
    "ZA": "Africa/Johannesburg",
    "AT": "Europe/Vienna", "BE": "Europe/Brussels", "BG": "Europe/Sofia", "HR": "Europe/Zagreb",
    "CY": "Asia/Nicosia", "CZ": "Europe/Prague", "DK": "Europe/Copenhagen",
    "EE": "Europe/Tallinn", "FI": "Europe/Helsinki", "FR": "Europe/Paris",
    "DE": "Europe/Berlin", "GR": "Europe/Athens", "HU": "Europe/Budapest", "IT": "Europe/Rome",
    "LV": "Europe/Riga", "LT": "Europe/Vilnius", "LU": "Europe/Luxembourg", "MT": "Europe/Malta",
    "NL": "Europe/Amsterdam", "PL": "Europe/Warsaw", "PT": "Atlantic/Azores",
    "RO": "Europe/Bucharest", "SK": "Europe/Bratislava", "SI": "Europe/Ljubljana",
    "ES": "Atlantic/Canary", "SE": "Europe/Stockholm",
})


def every_market(zones: Mapping[str, str]) -> Mapping[str, str]:
    """``zones`` (``MARKET_ZONES`` and a book's ``buyer_zones``) with a default for every other
    market (``market_zones.DEFAULT_ZONES``), so that no order of a known market is counted in
    ``ANYWHERE_ON_EARTH`` (return.eligibility v6, deadlines v6, complaint.triage v4)."""
    return MappingProxyType({**DEFAULT_ZONES, **zones})


# Names the zone database holds that are no zone a buyer lives in: ``localtime`` is whatever
# the host's clock is set to (a decision would depend on the machine that made it) and
# ``Factory`` is the "-00" placeholder of an unconfigured system.
NOT_BUYER_ZONES = frozenset({"localtime", "Factory"})


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones()) - NOT_BUYER_ZONES


def is_zone(name: str) -> bool:
    """True for an IANA time zone name this machine knows (``Europe/Berlin``, ``UTC``), never
    the host's own (``localtime``) or the unconfigured ``Factory``."""
    return name in _known_zones()


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The IANA zone of that name; anything else (paths, typos) is an error naming it."""
    if not is_zone(name):
        raise InvalidCommandError(f"{name!r} is not an IANA time zone (e.g. Europe/Berlin)")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidCommandError(f"{name!r} is not an IANA time zone") from None


@dataclass(frozen=True)
class BuyerZone:
    """The zone a period is counted in, and where it came from (recorded in every decision)."""

    name: str
    source: str  # "buyer" (the order's buyer_timezone), "market" (its default), "fallback"
    # The market's other zones, for a default counted in whichever of them ends a period last
    # (return.eligibility v5); empty: counted in ``name`` alone.
    span: tuple[str, ...] = ()

    @property
    def info(self) -> ZoneInfo:
        return zone(self.name)

    def describe(self, market: str) -> str:
        if self.source == "buyer":
            return f"the buyer's time zone {self.name}"
        if self.source == "market" and self.span:
            zones = ", ".join((self.name, *self.span))
            return f"whichever of {market}'s time zones ({zones}) ends the period last (the " \
                   "order names none)"
        if self.source == "market":
            return f"{self.name}, the default time zone of {market} (the order names none)"
        return f"{self.name} (anywhere on Earth: the order names no zone and {market} has no " \
               "default)"

    def to_json(self) -> dict[str, Any]:
        recorded: dict[str, Any] = {"zone": self.name, "zone_source": self.source}
        if self.span:
            recorded["zone_span"] = list(self.span)
        return recorded


def buyer_zone(given: str | None, market: str, defaults: Mapping[str, str] = MARKET_ZONES,
               spans: Mapping[str, tuple[str, ...]] | None = None) -> BuyerZone:
    """The order's zone; without one the market's default, with the market's other zones
    (``spans``: where its buyers live, for counting in the one that ends a period last)."""
    if given is not None:
        zone(given)
        return BuyerZone(given, "buyer")
    if market in defaults:
        default = defaults[market]
        others = () if spans is None else tuple(z for z in spans.get(market, ()) if z != default)
        return BuyerZone(default, "market", others)
    return BuyerZone(ANYWHERE_ON_EARTH, "fallback")


def local_day(moment: datetime, where: ZoneInfo) -> date:
    """The calendar day it was in that zone at that moment."""
    return moment.astimezone(where).date()


def end_of_day(day: date, where: ZoneInfo) -> datetime:
    """The last instant of a calendar day in a zone (the microsecond before the next midnight),
    right across daylight-saving changes and days that start at 01:00."""
    next_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=where)
    return (next_midnight.astimezone(UTC) - ONE_TICK).astimezone(where)


def add_years(day: date, years: int) -> date:
    """The same date ``years`` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class Period:
    """A period counted in whole days from an event: its last day and the instant it ends."""

    start: datetime
    last_day: date
    ends_at: datetime  # end_of_day(last_day), in the zone
    zone: BuyerZone

    @property
    def days(self) -> int:
        """Its length in calendar days (a period in years counts the days it spans)."""
        return (self.last_day - local_day(self.start, self.zone.info)).days

    def contains(self, moment: datetime) -> bool:
        """Within the period: up to and including the last instant of its last day."""
        return moment <= self.ends_at

    def to_json(self) -> dict[str, Any]:
        return {"last_day": self.last_day.isoformat(), "ends_at": self.ends_at.isoformat(),
                **self.zone.to_json()}


def calendar_period(start: datetime, where: BuyerZone, *, days: int = 0,
                    years: int = 0) -> Period:
    """The period of ``years`` and ``days`` counted from the day after ``start``; for a zone
    with a span, the one of its zones in which it ends last (an event near midnight falls on
    different days in them), so that no buyer of the market gets less."""
    if where.span:
        return max((calendar_period(start, BuyerZone(name, where.source), days=days,
                                    years=years) for name in (where.name, *where.span)),
                   key=lambda period: period.ends_at)
    first = local_day(start, where.info)
    last = add_years(first, years) + timedelta(days=days)
    return Period(start, last, end_of_day(last, where.info), where)


@lru_cache(maxsize=64)
def _public_holidays(market: str, subdivision: str | None = None) -> HolidayBase | None:
    import holidays  # 30 ms: only where working days are counted

    try:
        return holidays.country_holidays(market, subdiv=subdivision)
    except NotImplementedError:  # no calendar for that market: weekends only
        return None


# The part of a market whose public holidays a desk keeps, where its zone says which: the
# ``holidays`` package's calendar of a market without a subdivision holds only the days common
# to all its parts (GB: no Easter Monday, no August bank holiday, which England and Wales,
# Scotland and Northern Ireland keep on different days). A zone shared by several parts names
# none (Europe/London: England, whose bank holidays Wales keeps too). Used by the desk calendars
# of complaint.triage v4 and deadlines v6 (service_levels.DeskCalendar).
DESK_SUBDIVISIONS: Mapping[tuple[str, str], str] = MappingProxyType({
    ("GB", "Europe/London"): "ENG", ("GB", "Europe/Belfast"): "NIR",
    ("AU", "Australia/Sydney"): "NSW", ("AU", "Australia/Canberra"): "ACT",
    ("AU", "Australia/Melbourne"): "VIC", ("AU", "Australia/Brisbane"): "QLD",
    ("AU", "Australia/Adelaide"): "SA", ("AU", "Australia/Perth"): "WA",
    ("AU", "Australia/Hobart"): "TAS", ("AU", "Australia/Darwin"): "NT",
    ("ES", "Atlantic/Canary"): "CN", ("PT", "Atlantic/Azores"): "20",
    ("PT", "Atlantic/Madeira"): "30",
})


def desk_holidays(market: str, zone_name: str) -> HolidayBase | None:
    """The public holidays a desk of ``market`` in ``zone_name`` keeps: its part's
    (``DESK_SUBDIVISIONS``), else the market's."""
    return _public_holidays(market, DESK_SUBDIVISIONS.get((market, zone_name)))


def is_working_day(day: date, market: str) -> bool:
    """Monday to Friday (or the market's own weekend and swapped working weekends), and not a
    public holiday of the market."""
    calendar = _public_holidays(market)
    if calendar is None:
        return day.weekday() < 5
    return bool(calendar.is_working_day(day))


def day_off_name(day: date, market: str) -> str:
    calendar = _public_holidays(market)
    name = None if calendar is None else calendar.get(day)
    return str(name) if name else "weekend"


@dataclass(frozen=True)
class WorkingPeriod:
    """A period of working days: its last day and the days off it skipped (recorded)."""

    period: Period
    skipped: tuple[tuple[date, str], ...]

    def skipped_json(self) -> list[dict[str, str]]:
        return [{"day": day.isoformat(), "why": why} for day, why in self.skipped]

    def holidays_named(self) -> list[str]:
        return [f"{day.isoformat()} {why}" for day, why in self.skipped if why != "weekend"]


def working_period(start: datetime, days: int, market: str, where: BuyerZone,
                   is_working: Callable[[date], bool] | None = None,
                   why_off: Callable[[date], str] | None = None) -> WorkingPeriod:
    """``days`` working days counted from the day after ``start``, in the buyer's calendar
    (the market's working days, or those of ``is_working``)."""
    working = is_working or (lambda day: is_working_day(day, market))
    named = why_off or (lambda day: day_off_name(day, market))
    day = local_day(start, where.info)
    left = days
    skipped: list[tuple[date, str]] = []
    while left > 0:
        day += timedelta(days=1)
        if working(day):
            left -= 1
        else:
            skipped.append((day, named(day)))
    period = Period(start, day, end_of_day(day, where.info), where)
    return WorkingPeriod(period, tuple(skipped))
