"""The law's limits on a policy book, checked when a version is set (or proposed).

A book applies to every order of its merchant, whatever the market, so each regulated market's
effective settings (its own entry, else ``EU`` for a member state, else the default) must keep
the buyer's statutory rights: a window no shorter and a refund no slower than the law allows.
Each problem names the rule, the law and the book's field. Versions stored under older rules
are never re-checked: what was set stays what was used.

Days are counted in the buyer's time zone, so a book's zone for a regulated market is a floor
too: its days must begin and end where the market's built-in zone's do. A zone whose days end
sooner ends every period early; one whose days end later moves the day an event falls on (a
delivery at 00:30 in Berlin is the day before in New York), which ends the period up to a day
early for events near midnight. Only a zone with the same offset on every day never shortens.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import TypeVar

from aftersales_core.policies.calendar import ANYWHERE_ON_EARTH, MARKET_ZONES, zone
from aftersales_core.policies.markets import entry_key
from aftersales_core.policies.periods import Length, days, years
from aftersales_core.policies.return_eligibility_v3_settings import (
    CUSTOMS_APPLICATION,
    CUSTOMS_ARRIVAL,
)
from aftersales_core.policies.vocabulary import (
    CN_MARKET,
    EU_MARKETS,
    MERCHANT_FAULT_REASONS,
    UK_MARKET,
)
from aftersales_core.policybook.model import Book, RefundTerm, Windows

T = TypeVar("T")


@dataclass(frozen=True)
class Law:
    rule: str
    name: str
    source: str


EU_WITHDRAWAL = Law("eu.withdrawal_14d", "EU 14-day right of withdrawal",
                    "Directive 2011/83/EU art. 9")
EU_GUARANTEE = Law("eu.legal_guarantee_2y", "EU 2-year legal guarantee",
                   "Directive (EU) 2019/771 art. 10")
EU_REFUND = Law("eu.refund_14d", "EU refund within 14 days of withdrawal",
                "Directive 2011/83/EU art. 13")
EU_SEND_BACK = Law("eu.send_back_14d", "EU/UK 14 days to send goods back after withdrawing",
                   "Directive 2011/83/EU art. 14; Consumer Contracts Regulations 2013 reg. 35")
EU_RETURN_COST = Law("eu.return_cost_informed", "EU rule that the buyer pays return postage "
                     "only if told beforehand", "Directive 2011/83/EU art. 14(1)")
UK_CANCELLATION = Law("uk.cancellation_14d", "UK 14-day cancellation period",
                      "Consumer Contracts Regulations 2013 reg. 30")
UK_REJECT = Law("uk.right_to_reject_30d", "UK 30-day short-term right to reject",
                "Consumer Rights Act 2015 s. 22")
UK_REFUND = Law("uk.refund_14d", "UK refund within 14 days",
                "Consumer Contracts Regulations 2013 reg. 34; Consumer Rights Act 2015 s. 20")
UK_RETURN_COST = Law("uk.return_cost_informed", "UK rule that the buyer pays return postage "
                     "only if told beforehand", "Consumer Contracts Regulations 2013 reg. 35")
CN_NO_REASON = Law("cn.no_reason_7d", "CN 7-day no-reason return",
                   "Consumer Rights and Interests Protection Law art. 25")
CN_FAULT = Law("cn.fault_return_7d", "CN 7-day return of goods that fail the quality they "
               "must have", "Consumer Rights and Interests Protection Law art. 24")
CN_REFUND = Law("cn.refund_7d", "CN refund within 7 days of receiving the return",
                "Consumer Rights and Interests Protection Law art. 25")
EU_DAYS = Law("eu.buyer_zone", "EU periods counted in the buyer's calendar days",
              "Regulation (EEC, Euratom) No 1182/71 art. 3; Directive 2011/83/EU art. 9")
UK_DAYS = Law("uk.buyer_zone", "UK periods counted in the buyer's calendar days",
              "Consumer Contracts Regulations 2013 reg. 30-31")
CN_DAYS = Law("cn.buyer_zone", "CN periods counted in the buyer's calendar days",
              "Consumer Rights and Interests Protection Law art. 25")
CN_CUSTOMS = Law("cn.customs_clock", "CN cross-border customs clock (returns applied for within "
                 "30 days of customs release, goods back in the bonded zone within 45 days)",
                 "GACC Announcement No. 194 of 2018")


@dataclass(frozen=True)
class Problem:
    rule: str
    where: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"rule": self.rule, "where": self.where, "message": self.message}


def _effective(entries: Mapping[str, T], markets: list[str],
               section: str) -> Iterator[tuple[str, T | None, str]]:
    """(where, entry, which markets) per key these markets use (entry None: the default)."""
    used: dict[str | None, list[str]] = {}
    for market in markets:
        used.setdefault(entry_key(entries, market), []).append(market)
    for key, covered in used.items():
        where = f"{section}.markets.{key}" if key is not None else f"{section}.default"
        note = f" (applies to {', '.join(sorted(covered))})" if key is None or key == "EU" \
            else ""
        yield where, None if key is None else entries[key], note


def _short(where: str, note: str, length: Length, minimum: Length, law: Law) -> Problem:
    return Problem(law.rule, where, f"{where}{note}: {length} is shorter than the {law.name} "
                                    f"({law.source}); it must be at least {minimum}")


def _windows(where: str, note: str, windows: Windows, no_fault: tuple[Length, Law],
             fault: tuple[Length, Law]) -> Iterator[Problem]:
    minimum, law = no_fault
    if not windows.no_fault.always_covers(minimum):
        yield _short(f"{where}.no_fault", note, windows.no_fault, minimum, law)
    if not windows.fault.always_covers(fault[0]):
        yield _short(f"{where}.fault", note, windows.fault, fault[0], fault[1])
    for reason, length in windows.reasons.items():
        rule = fault if reason in MERCHANT_FAULT_REASONS else no_fault
        if not length.always_covers(rule[0]):
            yield _short(f"{where}.reasons.{reason}", note, length, rule[0], rule[1])


def _returns(book: Book) -> Iterator[Problem]:
    entries = book.returns.markets
    rules = {
        "EU": ((days(14), EU_WITHDRAWAL), (years(2), EU_GUARANTEE)),
        "GB": ((days(14), UK_CANCELLATION), (days(30), UK_REJECT)),
        "CN": ((days(7), CN_NO_REASON), (days(7), CN_FAULT)),
    }
    for group, markets in (("EU", sorted(EU_MARKETS)), ("GB", ["GB"]), ("CN", ["CN"])):
        no_fault, fault = rules[group]
        for where, entry, note in _effective(entries, markets, "returns"):
            yield from _windows(where, note, entry or book.returns.default, no_fault, fault)
    yield from _customs_clock(book)
    if not book.returns.ship_back.always_covers(days(14)):
        yield _short("returns.ship_back", "", book.returns.ship_back, days(14), EU_SEND_BACK)


def _customs_clock(book: Book) -> Iterator[Problem]:
    """China's cross-border clocks, as the entry that applies to CN sets them: its own, else the
    default (an entry that leaves a clock out has the built-in one, as ``bindings`` gives it)."""
    [(where, entry, note)] = _effective(book.returns.markets, [CN_MARKET], "returns")
    china = entry or book.returns.default
    applied = china.cross_border or CUSTOMS_APPLICATION
    arrival = china.bonded_return or CUSTOMS_ARRIVAL
    if not applied.always_covers(days(7)):
        yield _short(f"{where}.cross_border", note, applied, days(7), CN_NO_REASON)
    if not applied.never_exceeds(CUSTOMS_APPLICATION):
        yield Problem(CN_CUSTOMS.rule, f"{where}.cross_border",
                      f"{where}.cross_border{note}: {applied} is longer than the "
                      f"{CN_CUSTOMS.name} ({CN_CUSTOMS.source}) allows: at most "
                      f"{CUSTOMS_APPLICATION}")
    if not arrival.never_exceeds(CUSTOMS_ARRIVAL):
        yield Problem(CN_CUSTOMS.rule, f"{where}.bonded_return",
                      f"{where}.bonded_return{note}: {arrival} is longer than the "
                      f"{CN_CUSTOMS.name} ({CN_CUSTOMS.source}) allows: at most "
                      f"{CUSTOMS_ARRIVAL}")
    if not arrival.always_covers(applied):
        yield Problem(CN_CUSTOMS.rule, f"{where}.bonded_return",
                      f"{where}.bonded_return{note}: {arrival} ends before the {applied} to "
                      f"apply for the return ({CN_CUSTOMS.name}, {CN_CUSTOMS.source})")


def _refunds(book: Book) -> Iterator[Problem]:
    limits = (("EU", sorted(EU_MARKETS), 14, EU_REFUND), ("GB", ["GB"], 14, UK_REFUND),
              ("CN", ["CN"], 7, CN_REFUND))
    for _, markets, limit, law in limits:
        for where, entry, note in _effective(book.refunds.markets, markets, "refunds"):
            term: RefundTerm = entry or book.refunds.default
            if term.working_days is not None:
                yield Problem(law.rule, where, f"{where}{note}: {term.working_days} working "
                              "days can "
                              f"take longer than the {law.name} ({law.source}): give at most "
                              f"{limit} days")
            elif term.days is not None and term.days > limit:
                yield Problem(law.rule, where, f"{where}{note}: {term.days} days is longer than "
                              f"the {law.name} ({law.source}): at most {limit} days")


def _return_costs(book: Book) -> Iterator[Problem]:
    for markets, law in ((sorted(EU_MARKETS), EU_RETURN_COST), (["GB"], UK_RETURN_COST)):
        for where, entry, note in _effective(book.return_shipping.markets, markets,
                                             "return_shipping"):
            payer = entry or book.return_shipping.default
            if payer == "buyer":
                yield Problem(law.rule, where, f"{where}{note}: \"buyer\" breaks the {law.name} "
                              f"({law.source}): use \"buyer_if_informed\" or \"merchant\"")


# The days a zone is compared on: every day of these fifty years (fixed, so that the check
# reads no clock): the orders a book decides now and later, under each zone's daylight-saving
# rules as they stand and as far as the time zone database knows them to change.
ZONE_SPAN = (date(2015, 1, 1), date(2065, 1, 1))


@lru_cache(maxsize=256)
def _day_ends(name: str) -> tuple[int, ...]:
    """The UTC offset (seconds) in force at the local midnight that ends each day of the span:
    a day ends at that midnight minus the offset, so a greater offset ends the day earlier."""
    where = zone(name)
    first, last = ZONE_SPAN
    offsets = []
    for ordinal in range(first.toordinal() + 1, last.toordinal() + 1):
        day = date.fromordinal(ordinal)
        offset = datetime(day.year, day.month, day.day, tzinfo=where).utcoffset()
        assert offset is not None
        offsets.append(int(offset.total_seconds()))
    return tuple(offsets)


def first_other_day(name: str, than: str) -> tuple[date, datetime, datetime] | None:
    """The first day of the span that ends at another instant in zone ``name`` than in zone
    ``than``, with the two ends (UTC); None when every day ends at the same instant (daylight
    saving compared day by day)."""
    for index, (mine, theirs) in enumerate(zip(_day_ends(name), _day_ends(than), strict=True)):
        if mine != theirs:
            day = ZONE_SPAN[0] + timedelta(days=index)
            midnight = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
            return day, midnight - timedelta(seconds=mine), midnight - timedelta(seconds=theirs)
    return None


def _buyer_zones(book: Book) -> Iterator[Problem]:
    regulated = [*((m, EU_DAYS) for m in sorted(EU_MARKETS)), (UK_MARKET, UK_DAYS),
                 (CN_MARKET, CN_DAYS)]
    for market, law in regulated:
        chosen = book.buyer_zones.get(market)
        if chosen is None:
            continue
        builtin = MARKET_ZONES.get(market, ANYWHERE_ON_EARTH)
        other = first_other_day(chosen, builtin)
        if other is None:
            continue
        day, ends, instead = other
        where = f"buyer_zones.{market}"
        how = "before" if ends < instead else "after"
        yield Problem(law.rule, where, (
            f"{where}: {chosen} does not count calendar days as {builtin}, the built-in zone of "
            f"{market}, does (the day {day.isoformat()} ends at {ends:%Y-%m-%d %H:%M} UTC there, "
            f"{how} {instead:%Y-%m-%d %H:%M} UTC in {builtin}), so it would shorten the buyer's "
            f"periods in {market} ({law.name}, {law.source}): a day that ends sooner ends every "
            "period early, one that ends later moves the day of an event near midnight and "
            f"ends its period early; use a zone with {builtin}'s offset on every day"))


def check_law(book: Book) -> list[Problem]:
    """Every way the book falls short of the law, in the book's order; empty when it does not."""
    return [*_buyer_zones(book), *_returns(book), *_refunds(book), *_return_costs(book)]
