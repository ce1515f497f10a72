"""``deadlines``: when a case's deadlines fall due, and what their breach triggers.

A case asks for the deadlines of the state it has entered (``wanted``: a name and the time the
state began, with the facts the durations depend on); the policy answers with due times, the
action a breach triggers and a sentence saying why, or notes why a deadline cannot be set yet
(a refund counted from receipt, before the goods are back). Nothing here reads a clock.
What a breach then does is ``deadlines.breach`` (``deadline_breach.py``), with these settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from aftersales_core.decisions import JSON, PolicyDecision, copy_json
from aftersales_core.outcomes import DeadlineAction, Scheduling
from aftersales_core.policies.calendar import (
    BuyerZone,
    buyer_zone,
    calendar_period,
)
from aftersales_core.policies.deadlines_settings import SETTINGS_V1, SETTINGS_V2, DeadlineSettings
from aftersales_core.policies.findings import Findings
from aftersales_core.policies.reading import Reader, iso
from aftersales_core.policies.refund_terms import RefundTerm
from aftersales_core.policies.registry import policy
from aftersales_core.policies.vocabulary import (
    CN_MARKET,
    COMPLAINT_CHANNELS,
    REFUND_SOURCES,
)

POLICY_ID = "deadlines"
CASE_TYPES = frozenset({"return", "refund", "complaint", "order"})
WATCHDOG_KINDS = frozenset({"no_scan", "customs_hold"})




@dataclass
class Plan:
    """The deadlines one decision schedules, with the reasons for each and for the waits."""

    name: str
    since: datetime
    findings: Findings
    deadlines: list[JSON]

    def add(self, due: datetime, action: DeadlineAction, rule: str, basis: str,
            counted: JSON | None = None) -> None:
        self.findings.note(rule, f"{self.name}: {basis}, due {iso(due)}")
        item = {"name": self.name, "since": iso(self.since), "due_at": iso(due)}
        self.deadlines.append({**item, "action": action, "basis": basis, **(counted or {})})

    def wait(self, rule: str, reason: str) -> None:
        self.findings.note(rule, f"{self.name}: {reason}")


def _return(read: Reader, plan: Plan, s: DeadlineSettings) -> None:
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
        _return_refund(read, plan, s)
    elif plan.name in ("repair", "repair_ship") and s.calendar_days:
        _repair(read, plan, s)
    else:
        raise read.error("wanted", f"names {plan.name!r}, not a return deadline")


def _repair(read: Reader, plan: Plan, s: DeadlineSettings) -> None:
    market = read.market()
    where = _zone(read, s, market)
    assert where is not None  # repairs came with v2
    if plan.name == "repair":
        days = s.cn_repair_days if market == CN_MARKET else s.repair_days
        label = "a repair is done" + (" (China's three-guarantees rules)"
                                      if market == CN_MARKET else "")
        action = DeadlineAction.ESCALATE
    else:
        days, label = s.repair_ship_days, "the repaired goods go back"
        action = DeadlineAction.ESCALATE
    period = calendar_period(plan.since, where, days=days)
    basis = f"{label} within {days} days: ends at the end of {period.last_day.isoformat()} " \
            f"({where.name})"
    plan.add(period.ends_at, action, f"deadline.{plan.name}", basis,
             {**period.to_json(), "days_off": []})


def _zone(read: Reader, s: DeadlineSettings, market: str) -> BuyerZone | None:
    """v2: the buyer's time zone the days are counted in (v1 counted 24-hour days)."""
    if not s.calendar_days:
        return None
    try:
        return buyer_zone(read.optional_text("buyer_timezone"), market)
    except ValueError as error:
        raise read.error("buyer_timezone", str(error)) from None


def _due(term: RefundTerm, start: datetime, market: str,
         where: BuyerZone | None) -> tuple[datetime, JSON | None, str]:
    if where is None:
        return term.due(start), None, ""
    due, counted, words = term.counted(start, market, where)
    return due, counted, f": {words}"


def _return_refund(read: Reader, plan: Plan, s: DeadlineSettings) -> None:
    market = read.market()
    term = s.refund_term(market, read.flag("is_withdrawal"))
    where = _zone(read, s, market)
    returnless, received = read.flag("returnless"), read.optional_time("received_at")
    if term.may_be_held:  # until the goods or proof of dispatch arrive
        arrived = [t for t in (read.optional_time("shipped_at"), received) if t is not None]
        held_until = read.time("approved_at") if returnless else min(arrived, default=None)
        if held_until is None:
            plan.wait(
                "deadline.refund_held",
                f"{term.label}, held until the goods or proof of their dispatch arrive",
            )
            return
        due, counted, words = _due(term, read.time("requested_at"), market, where)
        basis = f"{term.label}{words}"
        if where is None:
            later = held_until + timedelta(days=s.held_refund_days)
        else:
            held = calendar_period(held_until, where, days=s.held_refund_days)
            later, held_counted = held.ends_at, {**held.to_json(), "days_off": []}
        if later > due:
            due, counted = later, None if where is None else held_counted
            basis = (
                f"{term.label}; held until {iso(held_until)}, when the goods or proof of "
                f"dispatch arrived, so due {s.held_refund_days} days after that"
            )
        plan.add(due, DeadlineAction.ESCALATE, "deadline.refund", basis, counted)
        return
    start, words = received, "of receiving the return"
    if start is None and returnless:
        start, words = read.time("approved_at"), "of approving a returnless refund"
    if start is None:
        plan.wait("deadline.refund", f"{term.label}: waiting for the goods")
    else:
        due, counted, counting = _due(term, start, market, where)
        basis = f"{term.length()} {words} ({term.label}){counting}"
        plan.add(due, DeadlineAction.ESCALATE, "deadline.refund", basis, counted)


def _complaint(read: Reader, plan: Plan, s: DeadlineSettings) -> None:
    channel = read.text("channel", COMPLAINT_CHANNELS)
    if plan.name == "first_response":
        fast = channel in s.fast_channels
        hours = s.fast_first_response_hours if fast else s.first_response_hours
        basis = f"first response within {hours} hours" + (f" on the {channel} channel" * fast)
        plan.add(plan.since + timedelta(hours=hours), DeadlineAction.ESCALATE,
                 "deadline.first_response", basis)
    elif plan.name == "resolution":
        basis = f"resolution within {s.resolution_days} days"
        plan.add(
            plan.since + timedelta(days=s.resolution_days), DeadlineAction.ESCALATE,
            "deadline.resolution", basis
        )
    elif plan.name == "resolution_escalated":
        if s.at_the_top(read.strings("escalations")):
            plan.wait("deadline.resolution_escalated", "none: escalated as far as it goes")
            return
        days = s.escalated_resolution_days
        basis = f"resolution within {days} more days after a missed resolution deadline"
        plan.add(
            plan.since + timedelta(days=days), DeadlineAction.ESCALATE,
            "deadline.resolution_escalated", basis
        )
    else:
        raise read.error("wanted", f"names {plan.name!r}, not a complaint deadline")


def _refund(read: Reader, plan: Plan, s: DeadlineSettings) -> None:
    if plan.name != "refund":
        raise read.error("wanted", f"names {plan.name!r}, not a refund deadline")
    read.text("source", REFUND_SOURCES)
    carried = read.optional_time("inherited_due_at")
    if carried is not None:
        basis = "the refund deadline of the return it settles"
        plan.add(carried, DeadlineAction.ESCALATE, "deadline.refund", basis)
        return
    market = read.market()
    term = s.refund_term(market, False)
    due, counted, counting = _due(term, plan.since, market, _zone(read, s, market))
    basis = f"issued within {term.length()} of the request ({term.label}){counting}"
    plan.add(due, DeadlineAction.ESCALATE, "deadline.refund", basis, counted)


def _order(read: Reader, plan: Plan, s: DeadlineSettings, kind: str) -> None:
    if not plan.name.startswith("watchdog:"):
        raise read.error("wanted", f"names {plan.name!r}, not an order deadline")
    customs = kind == "customs_hold"
    hours = s.watchdog_customs_hold_hours if customs else s.watchdog_no_scan_hours
    what = "held at customs" if customs else "without a tracking scan"
    basis = f"a parcel {what} for over {hours} hours gets a proactive complaint"
    plan.add(plan.since + timedelta(hours=hours), DeadlineAction.OPEN_COMPLAINT,
             f"deadline.{kind}", basis)


_BY_CASE: dict[str, Callable[[Reader, Plan, DeadlineSettings], None]] = {
    "return": _return,
    "complaint": _complaint,
    "refund": _refund,
}


def decide(inputs: JSON, settings: DeadlineSettings, version: int) -> PolicyDecision:
    read = Reader(POLICY_ID, inputs)
    case_type = read.text("case_type", CASE_TYPES)
    findings, planned = Findings(), list[JSON]()
    for item in read.items("wanted"):
        plan = Plan(item.text("name"), item.time("since"), findings, planned)
        if case_type == "order":
            _order(read, plan, settings, item.text("kind", WATCHDOG_KINDS))
        else:
            _BY_CASE[case_type](read, plan, settings)
    if not findings.reasons:
        findings.note("deadline.none", "no deadline was asked for")
    outcome = Scheduling.SCHEDULED if planned else Scheduling.NONE
    details: JSON = {"deadlines": planned}
    reasons, rules = findings.reasons, findings.rules
    return PolicyDecision(
        POLICY_ID, version, copy_json(inputs), outcome, reasons, rules, details
    )


@policy(POLICY_ID, 1, settings=SETTINGS_V1)
def deadlines_v1(inputs: JSON, settings: DeadlineSettings) -> PolicyDecision:
    return decide(inputs, settings, 1)


@policy(POLICY_ID, 2, settings=SETTINGS_V2)
def deadlines_v2(inputs: JSON, settings: DeadlineSettings) -> PolicyDecision:
    return decide(inputs, settings, 2)
