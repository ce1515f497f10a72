"""``complaint.triage``: a complaint's priority, its deadlines and the team it goes to.

v3 (what changed from v2, still registered for re-runs, with the same settings and the
market zones of the book): on the calendar clock a resolution target of whole days is counted
as SPEC counts days, to the end of the last day in the buyer's time zone (the order's
``buyer_timezone``, else the market's default), and the decision records the zone and the last
day; v2 ran 168 hours from the filing, so a complaint filed at 17:30 was due at 17:30 on the
7th day instead of at its end."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import MappingProxyType

from aftersales_core.decisions import JSON, PolicyDecision, copy_json
from aftersales_core.policies.calendar import MARKET_ZONES, BuyerZone, buyer_zone, every_market
from aftersales_core.policies.findings import Findings
from aftersales_core.policies.reading import Reader, iso
from aftersales_core.policies.registry import policy
from aftersales_core.policies.service_levels import (
    NoOpenHoursError,
    Resolution,
    ServiceLevels,
    by_desk_region,
    no_open_hours_words,
)
from aftersales_core.policies.vocabulary import COMPLAINT_CATEGORIES, COMPLAINT_CHANNELS

POLICY_ID = "complaint.triage"


@dataclass(frozen=True)
class TriageSettings:
    """Settings of complaint.triage v1."""

    p1_categories: frozenset[str] = frozenset({"counterfeit_suspected"})
    p1_channels: frozenset[str] = frozenset({"regulator"})
    p2_categories: frozenset[str] = frozenset({"damaged", "customs", "refund_delay"})
    p2_channels: frozenset[str] = frozenset({"platform", "social"})
    repeat_complainer: int = 2  # prior complaints that make a buyer a repeat complainer
    first_response_hours: int = 24
    fast_channels: frozenset[str] = frozenset({"platform", "regulator"})
    fast_first_response_hours: int = 12
    resolution_days: int = 7
    routes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({
        "logistics_delay": "logistics", "damaged": "logistics", "customs": "customs",
        "not_as_described": "quality", "counterfeit_suspected": "quality",
        "refund_delay": "payments", "service": "general", "other": "general",
    }))
    # v2: the merchant's service levels (targets per priority and channel, on the calendar or
    # on the desk's business hours); None (v1): the hours above, around the clock.
    service_levels: ServiceLevels | None = None


@dataclass(frozen=True)
class TriageSettingsV3(TriageSettings):
    """Settings of complaint.triage v3: v2's, and the markets' default time zones (the book's),
    for a buyer whose order names none."""

    market_zones: Mapping[str, str] = field(default_factory=lambda: MARKET_ZONES)


SETTINGS_V1 = TriageSettings()
SETTINGS_V2 = TriageSettings(service_levels=ServiceLevels())
SETTINGS_V3 = TriageSettingsV3(service_levels=ServiceLevels())


def _priority(channel: str, category: str, prior: int, settings: TriageSettings,
              findings: Findings) -> str:
    said = f"{category!r} complaint"
    if category in settings.p1_categories:
        findings.note("triage.p1_category", f"P1: a {said}")
    if channel in settings.p1_channels:
        findings.note("triage.p1_channel", f"P1: filed through the {channel} channel")
    if findings.rules:
        return "P1"
    if channel in settings.p2_channels:
        findings.note("triage.p2_channel", f"P2: filed through the {channel} channel, in view "
                                           "of others")
    if category in settings.p2_categories:
        findings.note("triage.p2_category", f"P2: a {said}")
    if prior >= settings.repeat_complainer:
        findings.note("triage.p2_repeat", f"P2: a repeat complainer, with {prior} complaints "
                                          f"before (repeat from {settings.repeat_complainer})")
    if findings.rules:
        return "P2"
    findings.note("triage.p3", f"P3: a {said} through {channel}, with no sign of "
                               "urgency")
    return "P3"


def decide(inputs: JSON, settings: TriageSettings, version: int) -> PolicyDecision:
    read = Reader(POLICY_ID, inputs)
    channel = read.text("channel", COMPLAINT_CHANNELS)
    category = read.text("category", COMPLAINT_CATEGORIES)
    filed_at = read.time("filed_at")
    read.optional_market()
    currency = read.optional_currency()
    if currency is not None:
        read.optional_money("order_value", currency)
    elif not read.is_null("order_value"):
        raise read.error("currency", "is needed when order_value is given")
    prior = read.count("prior_complaints")

    findings = Findings()
    priority = _priority(channel, category, prior, settings, findings)
    if settings.service_levels is not None:
        return _with_service_levels(read, priority, settings, settings.service_levels, findings,
                                    version)
    fast = channel in settings.fast_channels
    hours = settings.fast_first_response_hours if fast else settings.first_response_hours
    first_response_due = filed_at + timedelta(hours=hours)
    resolution_due = filed_at + timedelta(days=settings.resolution_days)
    findings.note("triage.first_response", f"first response within {hours} hours"
                  f"{f' on the {channel} channel' if fast else ''}, by {iso(first_response_due)}")
    findings.note("triage.resolution", f"resolution within {settings.resolution_days} days, by "
                                       f"{iso(resolution_due)}")
    route = settings.routes.get(category, "general")
    findings.note("triage.route", f"routed to the {route} team")
    details: JSON = {
        "priority": priority,
        "first_response_hours": hours,
        "first_response_due": iso(first_response_due),
        "resolution_days": settings.resolution_days,
        "resolution_due": iso(resolution_due),
        "route": route,
    }
    return PolicyDecision(POLICY_ID, version, copy_json(inputs), priority, findings.reasons,
                          findings.rules, details)


def _with_service_levels(read: Reader, priority: str, settings: TriageSettings,
                         levels: ServiceLevels, findings: Findings,
                         version: int) -> PolicyDecision:
    """v2: the first response and resolution targets of the priority (a channel's own first
    response target when stricter), on the merchant's clock in the market's desk calendar."""
    channel, category = read.text("channel"), read.text("category")
    filed_at, market = read.time("filed_at"), read.optional_market()
    hours, why = levels.first_response(priority, channel)
    resolution = levels.resolution_hours[priority]
    where = _zone(read, settings, market) if isinstance(settings, TriageSettingsV3) else None
    try:
        first_due, counted, resolution_due = _targets(levels, filed_at, hours, resolution,
                                                      market, where)
    except NoOpenHoursError as error:
        # a calendar without open hours (stored before ``policy set`` refused one) never
        # refuses the buyer's complaint: its targets run around the clock, and the reasons say so
        findings.note("triage.clock", no_open_hours_words(error))
        levels = levels.around_the_clock()
        first_due, counted, resolution_due = _targets(levels, filed_at, hours, resolution,
                                                      market, where)
    clock = levels.clock_words(market)
    # v4: the days off an hour clock skipped, named as a period of working days names them
    first_off, resolution_off = (levels.days_off(filed_at, first_due, market),
                                 levels.days_off(filed_at, resolution_due, market)) \
        if version >= 4 else ("", "")
    findings.note("triage.first_response", f"first response within {why}, in {clock}, by "
                                           f"{iso(first_due)}{first_off}")
    said = f"resolution within {resolution} hours for {priority}, in {clock}" \
        if counted is None else counted.words(priority, clock, market)
    findings.note("triage.resolution", f"{said}, by {iso(resolution_due)}{resolution_off}")
    route = settings.routes.get(category, "general")
    findings.note("triage.route", f"routed to the {route} team")
    details: JSON = {
        "priority": priority,
        "first_response_hours": hours,
        "first_response_due": iso(first_due),
        "resolution_hours": resolution,
        "resolution_due": iso(resolution_due),
        **({"resolution_counted": counted.to_json()} if counted and counted.period else {}),
        "clock": levels.clock,
        "route": route,
    }
    return PolicyDecision(POLICY_ID, version, copy_json(dict(read.inputs)), priority,
                          findings.reasons, findings.rules, details)


def _targets(levels: ServiceLevels, filed_at: datetime, hours: int, resolution: int,
             market: str | None,
             where: BuyerZone | None) -> tuple[datetime, Resolution | None, datetime]:
    """The first response due time, the counted resolution target (v3) and its due time."""
    first_due = levels.due(filed_at, hours, market)
    counted = None if where is None else levels.resolution_due(filed_at, resolution, market,
                                                                where)
    resolution_due = levels.due(filed_at, resolution, market) if counted is None \
        else counted.due
    return first_due, counted, resolution_due


@policy(POLICY_ID, 1, settings=SETTINGS_V1)
def complaint_triage_v1(inputs: JSON, settings: TriageSettings) -> PolicyDecision:
    return decide(inputs, settings, 1)


@policy(POLICY_ID, 2, settings=SETTINGS_V2)
def complaint_triage_v2(inputs: JSON, settings: TriageSettings) -> PolicyDecision:
    return decide(inputs, settings, 2)


@policy(POLICY_ID, 3, settings=SETTINGS_V3)
def complaint_triage_v3(inputs: JSON, settings: TriageSettingsV3) -> PolicyDecision:
    return decide(inputs, settings, 3)


@policy(POLICY_ID, 4, settings=SETTINGS_V3)
def complaint_triage_v4(inputs: JSON, settings: TriageSettingsV3) -> PolicyDecision:
    """v4: an order that names no zone in a market without a built-in default is counted in
    the market's own zone (``market_zones.DEFAULT_ZONES``), not anywhere on Earth; a desk's
    business hours skip the public holidays of the part of the market its zone lies in
    (``service_levels.DeskCalendar``: England's for a GB desk in Europe/London), and the
    reasons name the days off an hour clock skipped."""
    levels = settings.service_levels
    return decide(inputs, replace(
        settings, market_zones=every_market(settings.market_zones),
        service_levels=None if levels is None else by_desk_region(levels)), 4)


def _zone(read: Reader, settings: TriageSettingsV3, market: str | None) -> BuyerZone:
    """The buyer's zone: the order's, else its market's default (anywhere on Earth without
    a market: a complaint filed without an order)."""
    try:
        return buyer_zone(read.optional_text("buyer_timezone"), market or "",
                          settings.market_zones)
    except ValueError as error:
        raise read.error("buyer_timezone", str(error)) from None
