"""The aggregate is the authority on its deadlines: it fires only what is open, due and current,
once; and deadline events stored today keep decoding into the same state."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from eventsourcing.persistence import StoredEvent

from aftersales_core.domain.deadlines import Breach
from aftersales_core.domain.returns import ReturnCase, ReturnStatus
from tests.unit.domain import builders as b
from tests.unit.domain.test_serialisation import MAPPER

DUE = b.T0 + timedelta(hours=48)


def requested(case_id: UUID | None = None) -> ReturnCase:
    case = ReturnCase(
        id=case_id or uuid4(),
        order_id="o-1",
        customer_id="c-1",
        lines=[{"line_id": "1", "quantity": 1}],
        reason="defective",
        wanted_outcome="refund",
        note=None,
        evidence=[],
        channel="web",
        by="c-1",
        role="customer",
        timestamp=b.T0,
    )
    case.decide(b.eligibility(), b.abuse("review"), b.shipping(), b.T0)
    return case


def in_review() -> ReturnCase:
    case = requested()
    case.schedule_deadlines(
        b.decision(
            "deadlines",
            "scheduled",
            details={
                "deadlines": [
                    {
                        "name": "decision",
                        "since": b.T0.isoformat(),
                        "due_at": DUE.isoformat(),
                        "action": "auto_decide",
                        "basis": "48 hours",
                    }
                ]
            },
        ),
        b.T0,
    )
    return case


def escalate() -> Breach:
    return Breach(b.decision("deadlines.breach", "escalate", details={"level": "supervisor"}))


def test_a_deadline_fires_once_only_after_its_due_time_and_only_while_current() -> None:
    case = in_review()
    assert case.due_deadlines(DUE) == [] and not case.fire("decision", DUE, escalate(), b.SCHEDULER)
    version = case.version
    assert case.fire("decision", DUE + timedelta(seconds=1), escalate(), b.SCHEDULER)
    assert case.version == version + 3  # the decision, the breach, the escalation
    assert case.escalations == ["supervisor"] and case.deadlines["decision"].state == "breached"
    assert not case.fire("decision", DUE + timedelta(days=1), escalate(), b.SCHEDULER)
    assert case.version == version + 3
    moved_on = in_review()
    moved_on.approve(b.SUPERVISOR, b.shipping(), b.T0 + timedelta(hours=1))
    assert moved_on.due_deadlines(DUE + timedelta(days=1)) == []  # left: no longer current
    assert not moved_on.fire("decision", DUE + timedelta(days=1), escalate(), b.SCHEDULER)


def test_an_escalation_keeps_the_status_and_adds_nothing_to_the_status_history() -> None:
    case = in_review()
    assert case.history == ["requested", "pending_review"]
    assert case.fire("decision", DUE + timedelta(seconds=1), escalate(), b.SCHEDULER)
    assert case.status == ReturnStatus.PENDING_REVIEW and case.escalations == ["supervisor"]
    assert case.history == ["requested", "pending_review"]
    assert b.replay(case.collect_events()).history == case.history
    case.approve(b.SUPERVISOR, b.shipping(), DUE + timedelta(hours=1))
    assert case.history == ["requested", "pending_review", "approved"]


def test_settling_in_time_is_met_and_after_the_due_time_is_a_late_breach() -> None:
    in_time, late = in_review(), in_review()
    in_time.reject(b.SUPERVISOR, "no", DUE)
    in_time.settle_deadlines(DUE)
    assert (in_time.deadlines["decision"].state, in_time.deadlines["decision"].outcome) == (
        "met",
        "met",
    )
    late.approve(b.SUPERVISOR, b.shipping(), DUE + timedelta(minutes=1))
    late.settle_deadlines(DUE + timedelta(minutes=1))
    assert (late.deadlines["decision"].state, late.deadlines["decision"].outcome) == (
        "breached",
        "late",
    )
    assert late.status == ReturnStatus.APPROVED and late.escalations == []


def test_deadline_decisions_are_events_but_not_the_cases_decisions() -> None:
    case = in_review()
    assert [d.policy_id for d in case.decisions] == ["return.eligibility", "buyer.abuse_signal"]
    kinds = [type(e).__name__ for e in case.collect_events()]
    assert kinds[-2:] == ["DecisionRecorded", "DeadlineScheduled"]


CASE = UUID("0b7e5a52-2f4c-4f3e-9a8e-3d1f2c6b9a02")
SCHEDULED = StoredEvent(
    originator_id=CASE,
    originator_version=5,
    topic="aftersales.return.DeadlineScheduled",
    state=(
        b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-03-02T17:00:00+08:00"},'
        b'"name":"decision","due_at":{"_type_":"datetime_iso","_data_":"2026-03-04T09:00:00'
        b'+00:00"},"action":"auto_decide","basis":"a return in review is decided within 48 '
        b'hours","since":{"_type_":"datetime_iso","_data_":"2026-03-02T09:00:00+00:00"},'
        b'"set_by":{"policy_id":"deadlines","policy_version":1}}'
    ),
)
BREACHED = StoredEvent(
    originator_id=CASE,
    originator_version=6,
    topic="aftersales.return.DeadlineBreached",
    state=(
        b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-03-04T09:00:05+00:00"},'
        b'"name":"decision","due_at":{"_type_":"datetime_iso","_data_":"2026-03-04T09:00:00'
        b'+00:00"},"fired_at":{"_type_":"datetime_iso","_data_":"2026-03-04T09:00:05+00:00"},'
        b'"action":"auto_approve"}'
    ),
)


def test_deadline_events_stored_today_still_decode_and_apply() -> None:
    case = requested(CASE)  # versions 1 to 4: requested, two decisions, sent to review
    scheduled = MAPPER.to_domain_event(SCHEDULED)
    assert isinstance(scheduled, ReturnCase.DeadlineScheduled)
    # stored again as class version 2 (events now record their actor): nothing else changes
    again = json.loads(MAPPER.to_stored_event(scheduled).state)
    assert again == {**json.loads(SCHEDULED.state), "class_version": 2}
    case = scheduled.mutate(case)
    case = MAPPER.to_domain_event(BREACHED).mutate(case)
    deadline = case.deadlines["decision"]
    assert deadline.due_at == datetime(2026, 3, 4, 9, tzinfo=UTC)
    assert (deadline.state, deadline.outcome) == ("done", "auto_approve")
    assert deadline.set_by == {"policy_id": "deadlines", "policy_version": 1}
