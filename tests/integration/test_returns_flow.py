"""Returns through the application, on a real SQLite file and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from aftersales_core.application.services import Services
from aftersales_core.domain.refunds import RefundCase
from aftersales_core.domain.returns import ReturnCase
from aftersales_core.errors import IllegalTransitionError, InvalidCommandError, UnknownOrderError
from tests.factories import T0, caller, delivered_order, ingest, shipment


def stored_count(app: Services) -> int:
    return app.store.recorder.max_notification_id() or 0


def test_return_within_the_eu_withdrawal_window_is_approved_with_its_decisions(
    app: Services,
) -> None:
    delivered_order(app, buyer_informed_of_return_cost=True)  # told before ordering: the buyer
    at = T0 + timedelta(days=10)  # pays the return (test_customer_choices: when not told)
    result = app.returns.request(
        caller(app, "customer-c-1"),
        case_id=uuid4(),
        order_id="o-1",
        lines=[{"line_id": "1", "quantity": 1}],
        reason="changed_mind",
        outcome="refund",
        at=at,
    )
    assert result.status == "approved"
    assert [d.policy_id for d in result.decisions] == [
        "return.eligibility",
        "buyer.abuse_signal",
        "return.shipping",
    ]
    case = app.store.load(ReturnCase, result.case_id)
    assert case.return_shipping_payer == "buyer"
    assert case.latest("return.eligibility").details["regime"] == "eu_withdrawal"


def test_return_after_the_window_is_rejected_by_policy(app: Services) -> None:
    delivered_order(app)
    result = app.returns.request(
        caller(app, "customer-c-1"),
        case_id=uuid4(),
        order_id="o-1",
        lines=[{"line_id": "2", "quantity": 1}],
        reason="changed_mind",
        outcome="refund",
        at=T0 + timedelta(days=3, hours=1) + timedelta(days=15),
    )
    assert result.status == "rejected"
    assert "14" in " ".join(result.decisions[0].reasons)


def test_whole_return_from_request_to_settled_refund(app: Services) -> None:
    delivered_order(app)
    at = T0 + timedelta(days=5)
    case_id = uuid4()
    app.returns.request(
        caller(app, "customer-c-1"),
        case_id=case_id,
        order_id="o-1",
        lines=[{"line_id": "2", "quantity": 1}],
        reason="defective",
        outcome="refund",
        at=at,
    )
    app.returns.issue_label(
        caller(app, "agent-7"),
        case_id=case_id,
        carrier="DHL",
        tracking_number="RT1",
        at=at + timedelta(hours=1),
        cost=None,
    )
    ingest(app, shipment("o-1", "Dispatched", at + timedelta(days=1), direction="return"))
    assert app.store.load(ReturnCase, case_id).status == "shipped_back"
    ingest(app, shipment("o-1", "Delivered", at + timedelta(days=4), direction="return"))
    assert app.store.load(ReturnCase, case_id).status == "received"
    inspected = app.returns.inspect(
        caller(app, "warehouse-1"),
        case_id=case_id,
        grade="B",
        findings="motor dead",
        at=at + timedelta(days=5),
    )
    assert inspected.decisions[0].outcome == "refurbish"
    resolved = app.resolutions.resolve(
        caller(app, "agent-7"), case_id=case_id, at=at + timedelta(days=5)
    )
    refund_id = resolved.related["refund_case_id"]
    refund = app.store.load(RefundCase, __import__("uuid").UUID(refund_id))
    assert refund.status.value == "approved"  # under the €250 threshold
    assert refund.amount is not None and refund.amount.currency == "EUR"
    assert refund.components["items"] == "60.00"
    app.refunds.issue(caller(app, "payments-1"), case_id=refund.id, at=at + timedelta(days=6))
    app.refunds.confirm_settled(
        caller(app, "payments-1"),
        case_id=refund.id,
        provider_ref="psp-1",
        at=at + timedelta(days=7),
    )
    closed = app.returns.close(caller(app, "agent-7"), case_id=case_id, at=at + timedelta(days=7))
    assert closed.status == "closed"


def test_a_refused_command_leaves_the_store_unchanged(app: Services) -> None:
    delivered_order(app)
    case_id = uuid4()
    app.returns.request(
        caller(app, "customer-c-1"),
        case_id=case_id,
        order_id="o-1",
        lines=[{"line_id": "1", "quantity": 1}],
        reason="changed_mind",
        outcome="refund",
        at=T0 + timedelta(days=4),
    )
    before = stored_count(app)
    with pytest.raises(IllegalTransitionError, match="cannot inspect while approved"):
        app.returns.inspect(
            caller(app, "warehouse-1"), case_id=case_id, grade="A", at=T0 + timedelta(days=5)
        )
    with pytest.raises(InvalidCommandError, match="quantity 5"):
        app.returns.request(
            caller(app, "customer-c-1"),
            case_id=uuid4(),
            order_id="o-1",
            lines=[{"line_id": "1", "quantity": 5}],
            reason="changed_mind",
            outcome="refund",
            at=T0 + timedelta(days=4),
        )
    with pytest.raises(UnknownOrderError):
        app.returns.request(
            caller(app, "customer-c-1"),
            case_id=uuid4(),
            order_id="nope",
            lines=[{"line_id": "1", "quantity": 1}],
            reason="changed_mind",
            outcome="refund",
            at=T0 + timedelta(days=4),
        )
    assert stored_count(app) == before


def test_a_command_dated_before_the_case_last_changed_is_refused(app: Services) -> None:
    delivered_order(app)
    case_id = uuid4()
    app.returns.request(
        caller(app, "customer-c-1"),
        case_id=case_id,
        order_id="o-1",
        lines=[{"line_id": "1", "quantity": 1}],
        reason="changed_mind",
        outcome="refund",
        at=T0 + timedelta(days=4),
    )
    with pytest.raises(InvalidCommandError, match="before the case's last change"):
        app.returns.cancel(caller(app, "customer-c-1"), case_id=case_id, at=T0 + timedelta(days=3))


def test_case_as_of_a_past_moment_shows_the_state_then(app: Services) -> None:
    delivered_order(app)
    case_id = uuid4()
    at = T0 + timedelta(days=4)
    app.returns.request(
        caller(app, "customer-c-1"),
        case_id=case_id,
        order_id="o-1",
        lines=[{"line_id": "2", "quantity": 1}],
        reason="defective",
        outcome="refund",
        at=at,
    )
    app.returns.issue_label(
        caller(app, "agent-1"),
        case_id=case_id,
        carrier="DHL",
        tracking_number="T",
        at=at + timedelta(days=1),
    )
    auditor = caller(app, "auditor-1")
    then = app.reads.case(auditor, case_id, at + timedelta(hours=1))
    now = app.reads.case(auditor, case_id)
    assert then.aggregate.status.value == "approved"
    assert now.aggregate.status.value == "label_issued"
    assert len(then.events) < len(now.events)


def test_the_return_rate_counts_returns_not_requests_the_rules_refused(app: Services) -> None:
    """SPEC §3: "a buyer whose return rate over the last N orders exceeds a limit goes to
    manual review". Two requests refused outright (after the window) returned nothing: the
    fourth order's return finds no return before it among the 4 orders, not 2."""
    late = T0 + timedelta(days=3, hours=1) + timedelta(days=15)
    for n in range(4):
        delivered_order(app, f"o-{n}")
    for n in range(2):
        refused = app.returns.request(caller(app, "customer-c-1"), uuid4(), f"o-{n}",
                                      [{"line_id": "2", "quantity": 1}], "changed_mind",
                                      "refund", late)
        assert refused.status == "rejected"
    counted = app.returns.request(caller(app, "customer-c-1"), uuid4(), "o-3",
                                  [{"line_id": "2", "quantity": 1}], "changed_mind", "refund",
                                  T0 + timedelta(days=5))
    abuse = next(d for d in counted.decisions if d.policy_id == "buyer.abuse_signal")
    assert (abuse.inputs["recent_orders"], abuse.inputs["recent_returns"]) == (4, 0)
    assert abuse.outcome == "ok" and counted.status == "approved"
