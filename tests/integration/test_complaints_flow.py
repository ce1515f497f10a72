"""Complaints through the application: triage, proposals that open refunds, reopening."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from aftersales_core.application.app import AfterSalesApp
from aftersales_core.domain.complaints import ComplaintCase
from aftersales_core.domain.refunds import RefundCase
from aftersales_core.errors import IllegalTransitionError
from tests.factories import T0, delivered_order

AT = T0 + timedelta(days=8)


def test_complaint_on_a_platform_gets_a_12_hour_first_response_deadline(app: AfterSalesApp) -> None:
    delivered_order(app)
    result = app.file_complaint(
        case_id=uuid4(),
        customer_id="c-1",
        order_id="o-1",
        channel="platform",
        category="damaged",
        description="the lamp arrived broken",
        filed_by="c-1",
        at=AT,
    )
    triage = result.decisions[-1]
    assert triage.policy_id == "complaint.triage"
    assert triage.details["first_response_hours"] == 12
    assert result.status == "open"


def test_accepted_refund_proposal_opens_a_refund_case(app: AfterSalesApp) -> None:
    delivered_order(app)
    case_id = uuid4()
    app.file_complaint(
        case_id=case_id,
        customer_id="c-1",
        order_id="o-1",
        channel="chat",
        category="not_as_described",
        description="colour differs",
        filed_by="c-1",
        at=AT,
    )
    app.acknowledge_complaint(case_id=case_id, agent="agent-3", at=AT + timedelta(hours=1))
    app.add_complaint_message(
        case_id=case_id,
        direction="in",
        author="c-1",
        text="photo attached",
        at=AT + timedelta(hours=2),
    )
    app.propose_resolution(
        case_id=case_id,
        agent="agent-3",
        resolution="partial_refund",
        amount=Decimal("15.00"),
        at=AT + timedelta(hours=3),
    )
    accepted = app.respond_to_proposal(
        case_id=case_id, accepted=True, by="c-1", at=AT + timedelta(hours=4)
    )
    refund = app.load(RefundCase, UUID(accepted.related["refund_case_id"]))
    assert refund.amount is not None and refund.amount.amount == Decimal("15.00")
    assert refund.source == "complaint" and refund.status.value == "approved"
    app.resolve_complaint(
        case_id=case_id, by="agent-3", summary="partial refund", at=AT + timedelta(hours=5)
    )
    closed = app.close_complaint(
        case_id=case_id, by="agent-3", satisfaction=4, at=AT + timedelta(hours=6)
    )
    assert closed.status == "closed"
    reopened = app.reopen_complaint(
        case_id=case_id, by="c-1", reason="still wrong", at=AT + timedelta(days=1)
    )
    assert reopened.status == "reopened"
    assert app.load(ComplaintCase, case_id).reopened == 1


def test_a_closed_complaint_cannot_take_a_proposal(app: AfterSalesApp) -> None:
    delivered_order(app)
    case_id = uuid4()
    app.file_complaint(
        case_id=case_id,
        customer_id="c-1",
        order_id="o-1",
        channel="email",
        category="service",
        description="rude agent",
        filed_by="c-1",
        at=AT,
    )
    app.resolve_complaint(case_id=case_id, by="a", summary="apologised", at=AT)
    app.close_complaint(case_id=case_id, by="a", satisfaction=None, at=AT)
    with pytest.raises(IllegalTransitionError, match="while closed"):
        app.propose_resolution(case_id=case_id, agent="a", resolution="coupon", at=AT)
