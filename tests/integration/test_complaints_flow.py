"""Complaints through the application: triage, proposals that open refunds, reopening."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from aftersales_core.application.services import Services
from aftersales_core.domain.complaints import ComplaintCase
from aftersales_core.domain.refunds import RefundCase
from aftersales_core.errors import IllegalTransitionError
from tests.factories import T0, caller, delivered_order

AT = T0 + timedelta(days=8)


def test_complaint_on_a_platform_gets_a_12_hour_first_response_deadline(app: Services) -> None:
    delivered_order(app)
    result = app.complaints.file(
        caller(app, "customer-c-1"),
        case_id=uuid4(),
        customer_id="c-1",
        order_id="o-1",
        channel="platform",
        category="damaged",
        description="the lamp arrived broken",
        at=AT,
    )
    triage = result.decisions[-1]
    assert triage.policy_id == "complaint.triage"
    assert triage.details["first_response_hours"] == 12
    assert result.status == "open"


def test_accepted_refund_proposal_opens_a_refund_case(app: Services) -> None:
    delivered_order(app)
    case_id = uuid4()
    app.complaints.file(
        caller(app, "customer-c-1"),
        case_id=case_id,
        customer_id="c-1",
        order_id="o-1",
        channel="chat",
        category="not_as_described",
        description="colour differs",
        at=AT,
    )
    app.complaints.acknowledge(caller(app, "agent-3"), case_id=case_id, at=AT + timedelta(hours=1))
    app.complaints.add_message(
        caller(app, "customer-c-1"),
        case_id=case_id,
        direction="in",
        text="photo attached",
        at=AT + timedelta(hours=2),
    )
    app.complaints.propose(
        caller(app, "agent-3"),
        case_id=case_id,
        resolution="partial_refund",
        amount=Decimal("15.00"),
        at=AT + timedelta(hours=3),
    )
    accepted = app.complaints.respond(
        caller(app, "customer-c-1"), case_id=case_id, accepted=True, at=AT + timedelta(hours=4)
    )
    refund = app.store.load(RefundCase, UUID(accepted.related["refund_case_id"]))
    assert refund.amount is not None and refund.amount.amount == Decimal("15.00")
    assert refund.source == "complaint" and refund.status.value == "approved"
    app.complaints.resolve(
        caller(app, "agent-3"),
        case_id=case_id,
        summary="partial refund",
        at=AT + timedelta(hours=5),
    )
    closed = app.complaints.close(
        caller(app, "agent-3"), case_id=case_id, satisfaction=4, at=AT + timedelta(hours=6)
    )
    assert closed.status == "closed"
    reopened = app.complaints.reopen(
        caller(app, "customer-c-1"),
        case_id=case_id,
        reason="still wrong",
        at=AT + timedelta(days=1),
    )
    assert reopened.status == "reopened"
    assert app.store.load(ComplaintCase, case_id).reopened == 1


def test_a_closed_complaint_cannot_take_a_proposal(app: Services) -> None:
    delivered_order(app)
    case_id = uuid4()
    app.complaints.file(
        caller(app, "customer-c-1"),
        case_id=case_id,
        customer_id="c-1",
        order_id="o-1",
        channel="email",
        category="service",
        description="rude agent",
        at=AT,
    )
    app.complaints.resolve(caller(app, "agent-1"), case_id=case_id, summary="apologised", at=AT)
    app.complaints.close(caller(app, "agent-1"), case_id=case_id, satisfaction=None, at=AT)
    with pytest.raises(IllegalTransitionError, match="while closed"):
        app.complaints.propose(caller(app, "agent-1"), case_id=case_id, resolution="coupon", at=AT)


def test_a_reopened_complaint_is_triaged_again_counting_only_the_customers_earlier_ones(
    app: Services,
) -> None:
    """prior_complaints: the customer's other complaints filed before this one, as at its
    filing; never the complaint itself, nor the ones filed after it."""
    delivered_order(app)
    first, second, third = uuid4(), uuid4(), uuid4()
    for n, case_id in enumerate((first, second, third)):
        filed = app.complaints.file(caller(app, "customer-c-1"), case_id=case_id,
                                    customer_id="c-1", order_id="o-1", channel="email",
                                    category="service", description="no answer",
                                    at=AT + timedelta(minutes=n))
        assert filed.decisions[-1].inputs["prior_complaints"] == n
    for n, case_id in enumerate((first, second, third)):
        app.complaints.resolve(caller(app, "agent-1"), case_id=case_id, summary="answered",
                               at=AT + timedelta(hours=1))
        reopened = app.complaints.reopen(caller(app, "customer-c-1"), case_id=case_id,
                                         reason="still no answer", at=AT + timedelta(hours=2))
        triage = reopened.decisions[-1]
        assert triage.policy_id == "complaint.triage"
        assert triage.inputs["prior_complaints"] == n, case_id


def test_a_refund_proposal_promises_no_more_than_its_refund_would_pay(app: Services) -> None:
    """The order's 124.00 EUR paid includes 5.00 shipping and 19.00 taxes, which a complaint's
    refund does not pay (by default it refunds the goods): a proposal of 110.00 accepted would
    have paid 100.00. It is refused naming what the refund would pay; 100.00 is proposed."""
    from aftersales_core.errors import RefundCapExceededError

    delivered_order(app)
    case_id = uuid4()
    app.complaints.file(caller(app, "customer-c-1"), case_id=case_id, customer_id="c-1",
                        order_id="o-1", channel="chat", category="not_as_described",
                        description="colour differs", at=AT)
    agent = caller(app, "agent-3")
    before = app.store.recorder.max_notification_id()
    with pytest.raises(RefundCapExceededError,
                       match=r"a refund of 110.00 EUR is more than a complaint's refund would "
                             r"pay on order o-1: 100.00 EUR"):
        app.complaints.propose(agent, case_id=case_id, resolution="refund",
                               amount=Decimal("110.00"), at=AT + timedelta(hours=1))
    assert app.store.recorder.max_notification_id() == before
    app.complaints.propose(agent, case_id=case_id, resolution="refund",
                           amount=Decimal("100.00"), at=AT + timedelta(hours=1))
    accepted = app.complaints.respond(caller(app, "customer-c-1"), case_id=case_id,
                                      accepted=True, at=AT + timedelta(hours=2))
    refund = app.store.load(RefundCase, UUID(accepted.related["refund_case_id"]))
    [calculation] = [d for d in refund.decisions if d.policy_id == "refund.calculation"]
    assert calculation.details["total"] == "100.00"
