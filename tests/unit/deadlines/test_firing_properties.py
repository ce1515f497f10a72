"""Hypothesis over sequences of commands and scheduler firings at random times: a deadline is
breached iff its state was still current at its due time, is closed exactly once, and firing
again changes nothing. The expectation comes from the command log alone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any, cast
from uuid import UUID, uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersales_core.application.services import Services
from aftersales_core.domain.complaints import ComplaintCase
from aftersales_core.domain.returns import ReturnCase
from aftersales_core.policies.calendar import end_of_day, zone
from tests.factories import T0, caller, delivered_order, ingest, shipment
from tests.unit.deadlines.oracle import (
    CANCELLED,
    MET,
    Log,
    first_after,
    judge,
    memory_app,
    recorded_deadlines,
    run,
)

# Gaps in hours: sums hit the due times exactly (12, 24, 48 hours, 7 days) as well as around them.
ANYWHERE = timezone(timedelta(hours=-12))  # the zone of a complaint without an order
GAPS = st.sampled_from([1, 6, 11, 12, 13, 23, 24, 25, 47, 48, 49, 100, 168, 169])
FOREVER = timedelta(days=60)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def play(
    app: Services,
    case_id: UUID,
    start: datetime,
    steps: list[tuple[str, int]],
    commands: dict[str, Callable[[datetime], Any]],
) -> tuple[Log, datetime]:
    log, at = Log(), start
    for action, gap in steps:
        at += timedelta(hours=gap)
        run(app, case_id, log, action, at, commands)
    end = at + FOREVER
    run(app, case_id, log, "fire", end, commands)
    return log, end


# ---- complaints ---------------------------------------------------------------------------------
COMPLAINT_ACTIONS = st.sampled_from(
    [
        "fire",
        "fire",
        "acknowledge",
        "reply",
        "message_in",
        "propose",
        "decline",
        "resolve",
        "close",
        "reopen",
        "escalate",
    ]
)
ANSWERS = {"acknowledge": MET, "reply": MET, "propose": MET, "resolve": MET}


def complaint_commands(app: Services, cid: UUID) -> dict[str, Callable[[datetime], Any]]:
    return {
        "acknowledge": lambda at: app.complaints.acknowledge(caller(app, "agent-1"), cid, at),
        "reply": lambda at: app.complaints.add_message(
            caller(app, "agent-1"), cid, "out", "on it", at
        ),
        "message_in": lambda at: app.complaints.add_message(
            caller(app, "customer-c-1"), cid, "in", "and?", at
        ),
        "propose": lambda at: app.complaints.propose(caller(app, "agent-1"), cid, "coupon", at),
        "decline": lambda at: app.complaints.respond(caller(app, "customer-c-1"), cid, False, at),
        "resolve": lambda at: app.complaints.resolve(caller(app, "agent-1"), cid, "sorted", at),
        "close": lambda at: app.complaints.close(caller(app, "agent-1"), cid, at, satisfaction=4),
        "reopen": lambda at: app.complaints.reopen(
            caller(app, "customer-c-1"), cid, "not sorted", at
        ),
        "escalate": lambda at: app.complaints.escalate(
            caller(app, "agent-1"), cid, "supervisor", "asked", at
        ),
    }


@SETTINGS
@given(
    channel=st.sampled_from(["email", "platform", "regulator"]),
    steps=st.lists(st.tuples(COMPLAINT_ACTIONS, GAPS), max_size=14),
)
def test_complaint_deadlines_fire_iff_their_state_was_current_at_the_due_time(
    channel: str, steps: list[tuple[str, int]]
) -> None:
    app = memory_app()
    cid = uuid4()
    app.complaints.file(
        caller(app, "customer-c-1"), cid, channel, "service", "it broke", T0, customer_id="c-1"
    )
    log, end = play(app, cid, T0, steps, complaint_commands(app, cid))
    fast = channel in ("platform", "regulator")
    for deadline in recorded_deadlines(app, cid):
        leaving = ANSWERS if deadline.name == "first_response" else {"resolve": MET}
        judge(deadline, first_after(log, deadline.since, leaving), end)
        if deadline.name == "first_response":
            assert deadline.due - deadline.since == timedelta(hours=12 if fast else 24)
        elif deadline.name == "resolution":  # 7 days: to the end of the 7th day after, in the
            # zone of a complaint without an order (anywhere on Earth, UTC-12)
            local = deadline.since.astimezone(ANYWHERE)
            assert deadline.due == datetime.combine(local.date() + timedelta(days=7), time.max,
                                                    tzinfo=ANYWHERE)
    complaint = app.store.load(ComplaintCase, cid)
    by_scheduler = [
        e
        for e in app.store.events.get(cid)
        if type(e).__name__ == "Escalated" and cast(Any, e).role == "scheduler"
    ]
    assert len(by_scheduler) == sum(1 for _, action, _ in log.fired if action == "escalate")
    assert complaint.escalations.count("platform_arbitration") <= 1


# ---- returns ------------------------------------------------------------------------------------
RETURN_ACTIONS = st.sampled_from(
    [
        "fire",
        "fire",
        "approve",
        "approve",
        "reject",
        "cancel",
        "label",
        "ship",
        "receive",
        "receive",
        "inspect",
        "inspect",
        "resolve",
        "resolve",
    ]
)


def return_commands(app: Services, rid: UUID) -> dict[str, Callable[[datetime], Any]]:
    return {
        "approve": lambda at: app.returns.approve(caller(app, "sup-1"), rid, at),
        "reject": lambda at: app.returns.reject(caller(app, "sup-1"), rid, "no", at),
        "cancel": lambda at: app.returns.cancel(caller(app, "customer-c-1"), rid, at),
        "label": lambda at: app.returns.issue_label(
            caller(app, "agent-1"), rid, "DHL", "JD1", at, cost=Decimal("5.00")
        ),
        "ship": lambda at: _ship(app, rid, at),
        "receive": lambda at: app.returns.receive(caller(app, "warehouse-1"), rid, at),
        "inspect": lambda at: app.returns.inspect(caller(app, "warehouse-1"), rid, "A", at),
        "resolve": lambda at: app.resolutions.resolve(caller(app, "agent-1"), rid, at),
    }


def _ship(app: Services, rid: UUID, at: datetime) -> None:
    """A return-direction scan; it changes nothing unless the case can be shipped back."""
    case = app.store.load(ReturnCase, rid)
    if not case.can_record_shipped():
        raise _refused()
    ingest(app, shipment(case.order_id, "InTransit", at, direction="return"))


def _refused() -> Exception:
    from aftersales_core.errors import IllegalTransitionError

    return IllegalTransitionError("return", "-", "ship", "not shippable")


def return_in_review(app: Services, in_policy: bool) -> tuple[UUID, datetime]:
    """A return waiting for a person: sent to review by the abuse signal although eligibility
    approved it (``in_policy``), or because eligibility itself asked for a review."""
    at = T0 + timedelta(days=5)
    delivered_order(app, "o-1")
    if in_policy:  # three returned orders out of four: the buyer's rate is above the limit
        for order_id in ("o-2", "o-3", "o-4"):
            delivered_order(app, order_id)
        for order_id in ("o-2", "o-3", "o-4"):
            app.returns.request(
                caller(app, "customer-c-1"),
                uuid4(),
                order_id,
                [{"line_id": "1", "quantity": 1}],
                "changed_mind",
                "refund",
                at - timedelta(hours=1),
            )
    reason, outcome = ("defective", "refund") if in_policy else ("changed_mind", "repair")
    rid = uuid4()
    result = app.returns.request(
        caller(app, "customer-c-1"),
        rid,
        "o-1",
        [{"line_id": "2", "quantity": 1}],
        reason,
        outcome,
        at,
    )
    assert result.status == "pending_review"
    return rid, at


@settings(SETTINGS, max_examples=150)
@given(in_policy=st.booleans(), steps=st.lists(st.tuples(RETURN_ACTIONS, GAPS), max_size=14))
def test_return_deadlines_fire_iff_their_state_was_current_at_the_due_time(
    in_policy: bool, steps: list[tuple[str, int]]
) -> None:
    app = memory_app()
    rid, start = return_in_review(app, in_policy)
    log, end = play(app, rid, start, steps, return_commands(app, rid))
    expired = {f"fired:ship_back:{a}": CANCELLED for a in ("expire",)}
    leaving = {
        "decision": {"approve": MET, "reject": MET, "cancel": CANCELLED},
        "ship_back": {"ship": MET, "receive": MET, "cancel": CANCELLED},
        "refund": {"resolve": MET, "cancel": CANCELLED, **expired},
    }
    for deadline in recorded_deadlines(app, rid):
        judge(deadline, first_after(log, deadline.since, leaving[deadline.name]), end)
        if deadline.name == "decision":
            assert deadline.due - deadline.since == timedelta(hours=48)
        if deadline.name == "ship_back":  # the end of the 14th day after the request, Berlin
            berlin = zone("Europe/Berlin")
            last_day = start.astimezone(berlin).date() + timedelta(days=14)
            assert deadline.due == end_of_day(last_day, berlin)
    case = app.store.load(ReturnCase, rid)
    decided = [action for name, action, _ in log.fired if name == "decision"]
    assert decided in ([], ["auto_approve" if in_policy else "escalate"])
    if any(action == "expire" for _, action, _ in log.fired):
        assert "expired" in case.history
