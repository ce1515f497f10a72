"""Refunds through the application: thresholds, approval authority, the cumulative cap."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from aftersales_core.application.app import AfterSalesApp
from aftersales_core.domain.ids import order_aggregate_id
from aftersales_core.domain.order import Order
from aftersales_core.domain.refunds import RefundCase
from aftersales_core.errors import (
    ApprovalRefusedError,
    IllegalTransitionError,
    SelfApprovalError,
)
from tests.factories import T0, delivered_order, ingest, order_paid, order_placed, shipment

AT = T0 + timedelta(days=6)


def goodwill(
    app: AfterSalesApp, amount: str, by: str = "agent-1", order_id: str = "o-1"
) -> RefundCase:
    result = app.request_refund(
        case_id=uuid4(),
        order_id=order_id,
        source="goodwill",
        reason="sorry",
        requested_by=by,
        at=AT,
        amount=Decimal(amount),
    )
    return app.load(RefundCase, result.case_id)


def test_refund_above_threshold_waits_for_a_supervisor(app: AfterSalesApp) -> None:
    delivered_order(
        app,
        lines=[
            {
                "line_id": "1",
                "sku": "TV",
                "category": "electronics",
                "quantity": 1,
                "unit_price": "900.00",
            }
        ],
    )
    refund = goodwill(app, "250.01")
    assert refund.status.value == "awaiting_approval"
    at_threshold = goodwill(app, "250.00")
    assert at_threshold.status.value == "approved"


def test_requester_may_not_approve_their_own_refund_and_nothing_is_stored(
    app: AfterSalesApp,
) -> None:
    delivered_order(
        app,
        lines=[
            {
                "line_id": "1",
                "sku": "TV",
                "category": "electronics",
                "quantity": 1,
                "unit_price": "900.00",
            }
        ],
    )
    refund = goodwill(app, "400.00", by="agent-1")
    before = app.recorder.max_notification_id()
    with pytest.raises(SelfApprovalError):
        app.approve_refund(case_id=refund.id, approver="agent-1", approver_role="supervisor", at=AT)
    with pytest.raises(ApprovalRefusedError, match="supervisor"):
        app.approve_refund(case_id=refund.id, approver="agent-2", approver_role="agent", at=AT)
    assert app.recorder.max_notification_id() == before
    approved = app.approve_refund(
        case_id=refund.id, approver="sup-1", approver_role="supervisor", at=AT
    )
    assert approved.status == "approved"


def test_cumulative_refunds_of_an_order_never_exceed_what_was_paid(app: AfterSalesApp) -> None:
    placed = delivered_order(app)  # 40 + 60 + 5 shipping + 19 taxes = 124.00 EUR paid
    assert placed["total"] == "124.00"
    first = goodwill(app, "100.00")
    second = goodwill(app, "100.00")
    third = goodwill(app, "1.00")
    assert first.amount is not None and first.amount.amount == Decimal("100.00")
    assert second.amount is not None and second.amount.amount == Decimal("24.00")  # capped
    assert third.status.value == "rejected"  # nothing left to refund
    order = app.load(Order, order_aggregate_id("o-1"))
    assert order.refunded.amount == Decimal("124.00")
    app.reject_refund(case_id=second.id, by="sup-1", reason="duplicate", at=AT)
    order = app.load(Order, order_aggregate_id("o-1"))
    assert order.refundable.amount == Decimal("24.00")


def test_a_failed_refund_is_retried_with_the_same_idempotency_key(app: AfterSalesApp) -> None:
    delivered_order(app)
    refund = goodwill(app, "10.00")
    first = app.issue_refund(case_id=refund.id, by="agent-1", at=AT)
    app.record_refund_failed(case_id=refund.id, error="psp timeout", at=AT)
    second = app.issue_refund(case_id=refund.id, by="agent-1", at=AT + timedelta(minutes=5))
    assert first.related["idempotency_key"] == second.related["idempotency_key"] == str(refund.id)
    app.confirm_refund_settled(
        case_id=refund.id, provider_ref="psp-9", at=AT + timedelta(minutes=6)
    )
    with pytest.raises(IllegalTransitionError):
        app.issue_refund(case_id=refund.id, by="agent-1", at=AT + timedelta(minutes=7))
    events = [type(e).__name__ for e in app.events.get(refund.id)]
    assert events.count("Issued") == 2 and events.count("Settled") == 1


def test_cancelled_paid_order_opens_a_refund_of_everything_paid(app: AfterSalesApp) -> None:
    placed = order_placed(
        "o-9", market="CN", currency="CNY", fulfilment="bonded", duties="0.00", taxes="9.10"
    )
    ingest(app, placed, order_paid(placed))
    [result] = ingest(
        app,
        {
            "event_id": "o-9-cancel",
            "event_type": "OrderCancelled",
            "occurred_at": (T0 + timedelta(hours=2)).isoformat(),
            "order_id": "o-9",
            "reason": "buyer changed mind",
        },
    )
    assert result.applied and any(e.startswith("refund") for e in result.effects)
    order = app.load(Order, order_aggregate_id("o-9"))
    assert order.refundable.is_zero()


def test_lost_parcel_opens_a_proactive_complaint_and_a_refund(app: AfterSalesApp) -> None:
    placed = order_placed("o-5")
    ingest(app, placed, order_paid(placed))
    [result] = ingest(app, shipment("o-5", "Lost", T0 + timedelta(days=9)))
    assert any(e.startswith("complaint") for e in result.effects)
    assert any(e.startswith("refund") for e in result.effects)
    again = ingest(app, shipment("o-5", "Lost", T0 + timedelta(days=9)))
    assert not again[0].applied  # redelivery of the same event id changes nothing


def test_redelivered_upstream_event_changes_nothing(app: AfterSalesApp) -> None:
    placed = order_placed("o-2")
    ingest(app, placed, order_paid(placed))
    before = app.recorder.max_notification_id()
    results = ingest(app, placed, order_paid(placed))
    assert [r.applied for r in results] == [False, False]
    assert app.recorder.max_notification_id() == before
