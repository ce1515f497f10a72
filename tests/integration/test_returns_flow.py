"""Returns through the application, on a real SQLite file and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from aftersales_core.application.app import AfterSalesApp
from aftersales_core.domain.refunds import RefundCase
from aftersales_core.domain.returns import ReturnCase
from aftersales_core.errors import IllegalTransitionError, InvalidCommandError, UnknownOrderError
from tests.factories import T0, delivered_order, ingest, shipment


def stored_count(app: AfterSalesApp) -> int:
    return app.recorder.max_notification_id() or 0


def test_return_within_the_eu_withdrawal_window_is_approved_with_its_decisions(
    app: AfterSalesApp,
) -> None:
    delivered_order(app)
    at = T0 + timedelta(days=10)
    result = app.request_return(
        case_id=uuid4(),
        order_id="o-1",
        lines=[{"line_id": "1", "quantity": 1}],
        reason="changed_mind",
        outcome="refund",
        requested_by="c-1",
        at=at,
    )
    assert result.status == "approved"
    assert [d.policy_id for d in result.decisions] == [
        "return.eligibility",
        "buyer.abuse_signal",
        "return.shipping",
    ]
    case = app.load(ReturnCase, result.case_id)
    assert case.return_shipping_payer == "buyer"
    assert case.latest("return.eligibility").details["regime"] == "eu_withdrawal"


def test_return_after_the_window_is_rejected_by_policy(app: AfterSalesApp) -> None:
    delivered_order(app)
    result = app.request_return(
        case_id=uuid4(),
        order_id="o-1",
        lines=[{"line_id": "2", "quantity": 1}],
        reason="changed_mind",
        outcome="refund",
        requested_by="c-1",
        at=T0 + timedelta(days=3, hours=1) + timedelta(days=15),
    )
    assert result.status == "rejected"
    assert "14" in " ".join(result.decisions[0].reasons)


def test_whole_return_from_request_to_settled_refund(app: AfterSalesApp) -> None:
    delivered_order(app)
    at = T0 + timedelta(days=5)
    case_id = uuid4()
    app.request_return(
        case_id=case_id,
        order_id="o-1",
        lines=[{"line_id": "2", "quantity": 1}],
        reason="defective",
        outcome="refund",
        requested_by="c-1",
        at=at,
    )
    app.issue_return_label(
        case_id=case_id,
        by="agent-7",
        carrier="DHL",
        tracking_number="RT1",
        at=at + timedelta(hours=1),
        cost=None,
    )
    ingest(app, shipment("o-1", "Dispatched", at + timedelta(days=1), direction="return"))
    assert app.load(ReturnCase, case_id).status == "shipped_back"
    ingest(app, shipment("o-1", "Delivered", at + timedelta(days=4), direction="return"))
    assert app.load(ReturnCase, case_id).status == "received"
    inspected = app.inspect_return(
        case_id=case_id, by="wh-1", grade="B", findings="motor dead", at=at + timedelta(days=5)
    )
    assert inspected.decisions[0].outcome == "refurbish"
    resolved = app.resolve_return(case_id=case_id, by="agent-7", at=at + timedelta(days=5))
    refund_id = resolved.related["refund_case_id"]
    refund = app.load(RefundCase, __import__("uuid").UUID(refund_id))
    assert refund.status.value == "approved"  # under the €250 threshold
    assert refund.amount is not None and refund.amount.currency == "EUR"
    assert refund.components["items"] == "60.00"
    app.issue_refund(case_id=refund.id, by="agent-7", at=at + timedelta(days=6))
    app.confirm_refund_settled(case_id=refund.id, provider_ref="psp-1", at=at + timedelta(days=7))
    closed = app.close_return(case_id=case_id, by="agent-7", at=at + timedelta(days=7))
    assert closed.status == "closed"


def test_a_refused_command_leaves_the_store_unchanged(app: AfterSalesApp) -> None:
    delivered_order(app)
    case_id = uuid4()
    app.request_return(
        case_id=case_id,
        order_id="o-1",
        lines=[{"line_id": "1", "quantity": 1}],
        reason="changed_mind",
        outcome="refund",
        requested_by="c-1",
        at=T0 + timedelta(days=4),
    )
    before = stored_count(app)
    with pytest.raises(IllegalTransitionError, match="cannot inspect while approved"):
        app.inspect_return(case_id=case_id, by="wh", grade="A", at=T0 + timedelta(days=5))
    with pytest.raises(InvalidCommandError, match="quantity 5"):
        app.request_return(
            case_id=uuid4(),
            order_id="o-1",
            lines=[{"line_id": "1", "quantity": 5}],
            reason="changed_mind",
            outcome="refund",
            requested_by="c-1",
            at=T0 + timedelta(days=4),
        )
    with pytest.raises(UnknownOrderError):
        app.request_return(
            case_id=uuid4(),
            order_id="nope",
            lines=[{"line_id": "1", "quantity": 1}],
            reason="changed_mind",
            outcome="refund",
            requested_by="c-1",
            at=T0 + timedelta(days=4),
        )
    assert stored_count(app) == before


def test_a_command_dated_before_the_case_last_changed_is_refused(app: AfterSalesApp) -> None:
    delivered_order(app)
    case_id = uuid4()
    app.request_return(
        case_id=case_id,
        order_id="o-1",
        lines=[{"line_id": "1", "quantity": 1}],
        reason="changed_mind",
        outcome="refund",
        requested_by="c-1",
        at=T0 + timedelta(days=4),
    )
    with pytest.raises(InvalidCommandError, match="before the case's last change"):
        app.cancel_return(case_id=case_id, by="c-1", at=T0 + timedelta(days=3))


def test_case_as_of_a_past_moment_shows_the_state_then(app: AfterSalesApp) -> None:
    from aftersales_core.application.history import load_history

    delivered_order(app)
    case_id = uuid4()
    at = T0 + timedelta(days=4)
    app.request_return(
        case_id=case_id,
        order_id="o-1",
        lines=[{"line_id": "2", "quantity": 1}],
        reason="defective",
        outcome="refund",
        requested_by="c-1",
        at=at,
    )
    app.issue_return_label(
        case_id=case_id, by="a", carrier="DHL", tracking_number="T", at=at + timedelta(days=1)
    )
    then = load_history(app, case_id, at + timedelta(hours=1))
    now = load_history(app, case_id)
    assert then.aggregate.status.value == "approved"
    assert now.aggregate.status.value == "label_issued"
    assert len(then.events) < len(now.events)
