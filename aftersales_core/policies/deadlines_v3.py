"""``deadlines`` v3: the deadlines of the merchant's policy book.

What changed from v2 (``deadlines.py``, still registered for re-runs):

* refund terms per market from the book (a member state's own, else ``EU``, else the default);
  the law still decides from which moment they count (an EU/UK withdrawal from the notice,
  held until the goods are back; otherwise from receiving the return); working days are the
  working days of the market's desk calendar (its week, public holidays, closed days);
* complaints: the first response and resolution targets of the complaint's priority (a
  channel's own first response target when stricter), on the book's clock (calendar hours or
  the desk's business hours in the market's calendar), stopped while the desk waits on the
  customer (``pauses``; while ``waiting_since`` is set no resolution deadline runs);
* the escalated resolution target in hours of the same clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from aftersales_core.decisions import JSON, PolicyDecision, copy_json
from aftersales_core.outcomes import DeadlineAction, Scheduling
from aftersales_core.policies.calendar import (
    BuyerZone,
    buyer_zone,
    calendar_period,
    working_period,
)
from aftersales_core.policies.deadlines import CASE_TYPES, POLICY_ID, WATCHDOG_KINDS, Plan
from aftersales_core.policies.deadlines_v3_settings import (
    SETTINGS_V3,
    DeadlineSettingsV3,
)
from aftersales_core.policies.findings import Findings
from aftersales_core.policies.reading import Reader, iso
from aftersales_core.policies.registry import policy
from aftersales_core.policies.return_eligibility_v3_settings import RefundTerm
from aftersales_core.policies.service_levels import NoOpenHoursError, Pause, no_open_hours_words
from aftersales_core.policies.vocabulary import (
    CN_MARKET,
    COMPLAINT_CHANNELS,
    REFUND_SOURCES,
    is_eu_or_uk,
)

PRIORITIES = ("P1", "P2", "P3")
#: Whether a withdrawal refund's hold moves its due time: (released, the term's end, the end of
#: the grace after the release) -> True when the due time becomes the grace's end.
HoldRule = Callable[[datetime, datetime, datetime], bool]


def later_of_the_two(released: datetime, term_ends: datetime, grace_ends: datetime) -> bool:
    """v3: the later of the term's end and the grace after the release, so that goods back on
    day 13 moved the due time past day 14 (corrected in v4, ``deadlines_v4.py``)."""
    return grace_ends > term_ends


def _zone(read: Reader, s: DeadlineSettingsV3, market: str) -> BuyerZone:
    try:
        return buyer_zone(read.optional_text("buyer_timezone"), market, s.market_zones)
    except ValueError as error:
        raise read.error("buyer_timezone", str(error)) from None


def _term_due(term: RefundTerm, start: datetime, market: str, where: BuyerZone,
              s: DeadlineSettingsV3) -> tuple[datetime, JSON, str]:
    """The end of the term counted from ``start``, what to record, and the words for it."""
    if term.working_days:
        desk = s.service_levels.calendar_for(market)
        counted = working_period(start, term.days, market, where,
                                 lambda day: desk.is_working_day(day, market),
                                 lambda day: desk.why_off(day, market))
        named = counted.holidays_named()
        skipped = f"; skipping the days off {', '.join(named)}" if named else ""
        return (counted.period.ends_at, {**counted.period.to_json(),
                                         "days_off": counted.skipped_json()},
                f"ends at the end of {counted.period.last_day.isoformat()} ({where.name})"
                f"{skipped}")
    period = calendar_period(start, where, days=term.days)
    return (period.ends_at, {**period.to_json(), "days_off": []},
            f"ends at the end of {period.last_day.isoformat()} ({where.name})")


def _length(term: RefundTerm) -> str:
    return f"{term.days} {'working ' if term.working_days else ''}days"


def _return(read: Reader, plan: Plan, s: DeadlineSettingsV3, hold: HoldRule) -> None:
    if plan.name == "decision":
        hours = s.return_decision_hours
        basis = f"a return in review is decided within {hours} hours"
        plan.add(plan.since + timedelta(hours=hours), DeadlineAction.AUTO_DECIDE,
                 "deadline.decision", basis)
    elif plan.name == "ship_back":
        by = read.optional_time("ship_back_by")
        if by is None:
            plan.wait("deadline.ship_back", "no ship-back date was set by eligibility")
        else:
            basis = "the goods must be shipped back by the date eligibility set"
            plan.add(by, DeadlineAction.EXPIRE, "deadline.ship_back", basis)
    elif plan.name == "refund":
        _return_refund(read, plan, s, hold)
    elif plan.name in ("repair", "repair_ship"):
        _repair(read, plan, s)
    else:
        raise read.error("wanted", f"names {plan.name!r}, not a return deadline")


def _repair(read: Reader, plan: Plan, s: DeadlineSettingsV3) -> None:
    market = read.market()
    where = _zone(read, s, market)
    if plan.name == "repair":
        days = s.cn_repair_days if market == CN_MARKET else s.repair_days
        label = "a repair is done" + (" (China's three-guarantees rules)"
                                      if market == CN_MARKET else "")
    else:
        days, label = s.repair_ship_days, "the repaired goods go back"
    period = calendar_period(plan.since, where, days=days)
    basis = f"{label} within {days} days: ends at the end of {period.last_day.isoformat()} " \
            f"({where.name})"
    plan.add(period.ends_at, DeadlineAction.ESCALATE, f"deadline.{plan.name}", basis,
             {**period.to_json(), "days_off": []})


def _return_refund(read: Reader, plan: Plan, s: DeadlineSettingsV3, hold: HoldRule) -> None:
    market = read.market()
    term = s.refund_term(market)
    withdrawal = read.flag("is_withdrawal") and is_eu_or_uk(market)
    where = _zone(read, s, market)
    returnless, received = read.flag("returnless"), read.optional_time("received_at")
    if withdrawal:  # from the notice; may be held until the goods or proof of dispatch arrive
        label = f"{market}: refund within {_length(term)} of the withdrawal notice"
        arrived = [t for t in (read.optional_time("shipped_at"), received) if t is not None]
        held_until = read.time("approved_at") if returnless else min(arrived, default=None)
        if held_until is None:
            plan.wait("deadline.refund_held",
                      f"{label}, held until the goods or proof of their dispatch arrive")
            return
        due, counted, words = _term_due(term, read.time("requested_at"), market, where, s)
        basis = f"{label}: {words}"
        held = calendar_period(held_until, where, days=s.held_refund_days)
        if hold(held_until, due, held.ends_at):
            due, counted = held.ends_at, {**held.to_json(), "days_off": []}
            basis = (f"{label}; held until {iso(held_until)}, when the goods or proof of "
                     f"dispatch arrived, so due {s.held_refund_days} days after that")
        plan.add(due, DeadlineAction.ESCALATE, "deadline.refund", basis, counted)
        return
    label = f"{market}: refund within {_length(term)} of receiving the return"
    start, words = received, "of receiving the return"
    if start is None and returnless:
        start, words = read.time("approved_at"), "of approving a returnless refund"
    if start is None:
        plan.wait("deadline.refund", f"{label}: waiting for the goods")
        return
    due, counted, counting = _term_due(term, start, market, where, s)
    plan.add(due, DeadlineAction.ESCALATE, "deadline.refund",
             f"{_length(term)} {words} ({label}): {counting}", counted)


def _pauses(read: Reader) -> list[Pause]:
    pauses: list[Pause] = []
    for item in read.items("pauses"):
        begin, end = item.time("from"), item.time("to")
        if end < begin:
            raise item.error("to", "is before from")
        pauses.append((begin, end))
    return pauses


def _complaint(read: Reader, plan: Plan, s: DeadlineSettingsV3, v5: bool = False,
               v6: bool = False) -> None:
    """v5: a resolution target of whole days on the calendar clock is counted as days, to the
    end of the last one in the buyer's zone (ServiceLevels.resolution_due); and no escalated
    target once no step of the ladder is above the highest level reached (v3, v4: once its
    last step or the regulator is among the levels). v6: the reasons name the days off an
    hour clock skipped (ServiceLevels.days_off)."""
    levels = s.service_levels
    channel = read.text("channel", COMPLAINT_CHANNELS)
    priority = read.text("priority", PRIORITIES)
    market = read.optional_market()
    clock = levels.clock_words(market)
    pauses = _pauses(read)
    waiting = read.optional_time("waiting_since")
    paused = waiting is not None and levels.pause_while_waiting_on_customer
    if plan.name == "first_response":
        hours, why = levels.first_response(priority, channel)
        due = levels.due(plan.since, hours, market)
        off = levels.days_off(plan.since, due, market) if v6 else ""
        plan.add(due, DeadlineAction.ESCALATE, "deadline.first_response",
                 f"first response within {why}, in {clock}{off}")
        return
    if plan.name not in ("resolution", "resolution_escalated"):
        raise read.error("wanted", f"names {plan.name!r}, not a complaint deadline")
    if paused:
        assert waiting is not None
        plan.wait(f"deadline.{plan.name}", "the clock is stopped: waiting on the customer since "
                                           f"{iso(waiting)}")
        return
    stopped = sum((end - begin for begin, end in pauses), timedelta(0)) if \
        levels.pause_while_waiting_on_customer else timedelta(0)
    note = f", not counting {_hours(stopped)} waiting on the customer" if stopped else ""
    if plan.name == "resolution":
        start = read.optional_time("opened_at") or plan.since
        hours = levels.resolution_hours[priority]
        if not v5:
            due = levels.due(start, hours, market, pauses)
            plan.add(due, DeadlineAction.ESCALATE, "deadline.resolution",
                     f"resolution within {hours} hours for {priority}, in {clock}{note}")
            return
        counted = levels.resolution_due(start, hours, market,
                                        _zone(read, s, market or ""), pauses)
        after = _stopped_after(start, pauses) if levels.pause_while_waiting_on_customer \
            else timedelta(0)  # only the waits the period counts (v4 named every wait)
        note = f", not counting {_hours(after)} waiting on the customer" if after else ""
        if v6:
            note += levels.days_off(start, counted.due, market)
        plan.add(counted.due, DeadlineAction.ESCALATE, "deadline.resolution",
                 counted.words(priority, clock, market, note), counted.to_json() or None)
        return
    escalations = read.strings("escalations")
    if s.beyond_the_ladder(escalations) if v5 else s.at_the_top(escalations):
        plan.wait("deadline.resolution_escalated", "none: escalated as far as it goes")
        return
    hours = s.escalated_resolution_hours
    due = levels.due(plan.since, hours, market, pauses)
    off = levels.days_off(plan.since, due, market) if v6 else ""
    plan.add(due, DeadlineAction.ESCALATE, "deadline.resolution_escalated",
             f"resolution within {hours} more hours after a missed resolution deadline, in "
             f"{clock}{off}")


def _stopped_after(start: datetime, pauses: list[Pause]) -> timedelta:
    """How long the clock stopped after ``start`` (a wait before it moves nothing)."""
    return sum((end - max(begin, start) for begin, end in pauses if end > start), timedelta(0))


def _hours(span: timedelta) -> str:
    hours = span / timedelta(hours=1)
    return f"{hours:.1f} hours" if hours % 1 else f"{int(hours)} hours"


def _refund(read: Reader, plan: Plan, s: DeadlineSettingsV3, own_due: bool = False) -> None:
    """``own_due`` (v5): a refund not from a return carries its own earlier due time too (after
    a failed payment the refund is owed again, by the same time)."""
    if plan.name != "refund":
        raise read.error("wanted", f"names {plan.name!r}, not a refund deadline")
    source = read.text("source", REFUND_SOURCES)
    carried = read.optional_time("inherited_due_at")
    if carried is not None:
        why = "the refund deadline of the return it settles" if source == "return" or \
            not own_due else "its own due time: a failed payment does not restart the term"
        plan.add(carried, DeadlineAction.ESCALATE, "deadline.refund", why)
        return
    market = read.market()
    term = s.refund_term(market)
    due, counted, counting = _term_due(term, plan.since, market, _zone(read, s, market), s)
    plan.add(due, DeadlineAction.ESCALATE, "deadline.refund",
             f"issued within {_length(term)} of the request ({market}): {counting}", counted)


def _order(read: Reader, plan: Plan, s: DeadlineSettingsV3, kind: str) -> None:
    if not plan.name.startswith("watchdog:"):
        raise read.error("wanted", f"names {plan.name!r}, not an order deadline")
    customs = kind == "customs_hold"
    hours = s.watchdog_customs_hold_hours if customs else s.watchdog_no_scan_hours
    what = "held at customs" if customs else "without a tracking scan"
    basis = f"a parcel {what} for over {hours} hours gets a proactive complaint"
    plan.add(plan.since + timedelta(hours=hours), DeadlineAction.OPEN_COMPLAINT,
             f"deadline.{kind}", basis)


def _plan(read: Reader, case_type: str, settings: DeadlineSettingsV3, hold: HoldRule,
          v5: bool, findings: Findings, planned: list[JSON], v6: bool = False) -> None:
    for item in read.items("wanted"):
        plan = Plan(item.text("name"), item.time("since"), findings, planned)
        if case_type == "order":
            _order(read, plan, settings, item.text("kind", WATCHDOG_KINDS))
        elif case_type == "return":
            _return(read, plan, settings, hold)
        elif case_type == "complaint":
            _complaint(read, plan, settings, v5, v6)
        else:
            _refund(read, plan, settings, own_due=v5)


def decide(inputs: JSON, settings: DeadlineSettingsV3, version: int,
           hold: HoldRule = later_of_the_two, v5: bool = False,
           v6: bool = False) -> PolicyDecision:
    read = Reader(POLICY_ID, inputs)
    case_type = read.text("case_type", CASE_TYPES)
    findings, planned = Findings(), list[JSON]()
    try:
        _plan(read, case_type, settings, hold, v5, findings, planned, v6)
    except NoOpenHoursError as error:
        # a desk calendar without open hours (a book stored before ``policy set`` refused
        # one) never leaves a case without its deadlines: they run around the clock
        findings, planned = Findings(), list[JSON]()
        findings.note("deadline.clock", no_open_hours_words(error))
        levels = settings.service_levels.around_the_clock()
        _plan(read, case_type, replace(settings, service_levels=levels), hold, v5, findings,
              planned, v6)
    if not findings.reasons:
        findings.note("deadline.none", "no deadline was asked for")
    details: JSON = {"deadlines": planned}
    outcome = Scheduling.SCHEDULED if planned else Scheduling.NONE
    return PolicyDecision(POLICY_ID, version, copy_json(inputs), outcome, findings.reasons,
                          findings.rules, details)


@policy(POLICY_ID, 3, settings=SETTINGS_V3)
def deadlines_v3(inputs: JSON, settings: DeadlineSettingsV3) -> PolicyDecision:
    return decide(inputs, settings, 3)
