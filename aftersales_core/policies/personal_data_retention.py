"""``personal_data.retention``: may a customer's personal data be erased for having been kept
long enough?

Personal data is kept while the customer has a case that is not closed, and for the configured
number of days after the last of their cases closed (``retention_days``, an input: the operator
configures it, and a re-run sees what was configured then). The period ends at the end of the
last day in UTC, counted like every other period of days (README "Counting days": the day the
case closed does not count): a case closed at any hour of 1 June with 30 days kept is erased
from 2 July 00:00 UTC on.

v2 also counts the customer's orders (``orders``: each order's id and the time of the last event
its store records, ``last_fact_at``): the unknown fields of their upstream facts are the buyer's
personal data too, and most buyers never open a case. The period runs from the latest of the
last case closed and the last order fact; a customer with orders and no case is erased that
many days after their last order's last fact. v1 (cases only: a customer without a case was
kept until erased by hand) stays registered and re-runs as recorded.

Inputs hold ids, statuses and times only (no personal data), so the decision re-runs after the
erasure it caused."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from aftersales_core.decisions import JSON, PolicyDecision, copy_json
from aftersales_core.outcomes import Retention
from aftersales_core.policies.reading import Reader, iso
from aftersales_core.policies.registry import policy

POLICY_ID = "personal_data.retention"
CASE_TYPES = frozenset({"return", "refund", "complaint"})


def erase_after(last_closed: datetime, days: int) -> datetime:
    """The first moment the data may be erased: midnight UTC after the last kept day."""
    day = last_closed.astimezone(UTC).date() + timedelta(days=days + 1)
    return datetime.combine(day, time(0), tzinfo=UTC)


def _cases(cases: list[Reader]) -> tuple[list[str], list[datetime]]:
    """Of the customer's cases: why each open one keeps the data, and when the others closed."""
    still_open: list[str] = []
    closed: list[datetime] = []
    for case in cases:
        case_id, kind = case.text("case_id"), case.text("case_type", CASE_TYPES)
        closed_at = case.optional_time("closed_at")
        if closed_at is None:
            still_open.append(f"{kind} {case_id} is still open ({case.text('status')})")
        else:
            closed.append(closed_at)
    return still_open, closed


def decide(inputs: JSON, version: int) -> PolicyDecision:
    read = Reader(POLICY_ID, inputs)
    read.text("customer_id")
    days = read.count("retention_days", minimum=1)
    now = read.time("now")
    cases = read.items("cases")
    still_open, closed = _cases(cases)
    details: JSON = {"last_closed_at": None, "erase_after": None, "cases": len(cases)}
    if not cases:
        outcome, rule = Retention.KEEP, "retention.no_cases"
        reasons: tuple[str, ...] = ("the customer has no case: retention counts from the last "
                                    "closed case",)
    elif still_open:
        outcome, rule = Retention.KEEP, "retention.open_case"
        reasons = tuple(still_open)
    else:
        last = max(closed)
        after = erase_after(last, days)
        details.update(last_closed_at=iso(last), erase_after=iso(after))
        kept = (f"all {len(cases)} case(s) closed, the last at {iso(last)}; personal data is "
                f"kept {days} days after that, to the end of "
                f"{(after - timedelta(days=1)).date().isoformat()} (UTC)")
        if now >= after:
            outcome, rule = Retention.ERASE, "retention.expired"
            reasons = (f"{kept}: erased at {iso(now)}",)
        else:
            outcome, rule = Retention.KEEP, "retention.within"
            reasons = (f"{kept}: not yet at {iso(now)}",)
    return PolicyDecision(POLICY_ID, version, copy_json(inputs), outcome, reasons, (rule,),
                          details)


def decide_v2(inputs: JSON) -> PolicyDecision:
    read = Reader(POLICY_ID, inputs)
    read.text("customer_id")
    days = read.count("retention_days", minimum=1)
    now = read.time("now")
    cases, orders = read.items("cases"), read.items("orders")
    still_open, closed = _cases(cases)
    facts = [order.time("last_fact_at") for order in orders if order.text("order_id")]
    last_closed, last_fact = max(closed, default=None), max(facts, default=None)
    details: JSON = {"last_closed_at": iso(last_closed) if last_closed else None,
                     "last_order_fact_at": iso(last_fact) if last_fact else None,
                     "kept_from": None, "erase_after": None, "cases": len(cases),
                     "orders": len(orders)}
    if not cases and not orders:
        outcome, rule = Retention.KEEP, "retention.nothing_held"
        reasons: tuple[str, ...] = ("the customer has no case and no order",)
    elif still_open:
        outcome, rule = Retention.KEEP, "retention.open_case"
        reasons = tuple(still_open)
    else:
        last = max(t for t in (last_closed, last_fact) if t is not None)
        after = erase_after(last, days)
        details.update(kept_from=iso(last), erase_after=iso(after))
        held = []
        if last_closed is not None:
            held.append(f"all {len(cases)} case(s) closed, the last at {iso(last_closed)}")
        if last_fact is not None:
            held.append(f"the last fact of their {len(orders)} order(s) at {iso(last_fact)}")
        kept = (f"{'; '.join(held)}; personal data is kept {days} days after "
                f"{iso(last)}, to the end of {(after - timedelta(days=1)).date().isoformat()} "
                "(UTC)")
        if now >= after:
            outcome, rule = Retention.ERASE, "retention.expired"
            reasons = (f"{kept}: erased at {iso(now)}",)
        else:
            outcome, rule = Retention.KEEP, "retention.within"
            reasons = (f"{kept}: not yet at {iso(now)}",)
    return PolicyDecision(POLICY_ID, 2, copy_json(inputs), outcome, reasons, (rule,), details)


@policy(POLICY_ID, 1)
def personal_data_retention_v1(inputs: JSON) -> PolicyDecision:
    return decide(inputs, 1)


@policy(POLICY_ID, 2)
def personal_data_retention_v2(inputs: JSON) -> PolicyDecision:
    return decide_v2(inputs)
