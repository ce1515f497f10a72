"""Refunds through the application: thresholds, approval authority, the cumulative cap."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from aftersales_core.application.services import Services
from aftersales_core.domain.ids import order_aggregate_id
from aftersales_core.domain.order import Order
from aftersales_core.domain.refunds import RefundCase
from aftersales_core.errors import (
    InvalidCommandError,
    NotAuthorisedError,
    UnknownCaseError,
    UnknownOrderError,
)
from tests.factories import (
    T0,
    admin,
    caller,
    customer,
    delivered_order,
    ingest,
    order_paid,
    order_placed,
    pid,
    shipment,
)

AT = T0 + timedelta(days=6)


def goodwill(app: Services, amount: str, by: str = "agent-1", order_id: str = "o-1") -> RefundCase:
    result = app.refunds.request(
        caller(app, by),
        case_id=uuid4(),
        order_id=order_id,
        source="goodwill",
        reason="sorry",
        at=AT,
        amount=Decimal(amount),
    )
    return app.store.load(RefundCase, result.case_id)


def test_refund_above_threshold_waits_for_a_supervisor(app: Services) -> None:
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
    delivered_order(app, "o-2", lines=[{"line_id": "1", "sku": "TV", "category": "electronics",
                                        "quantity": 1, "unit_price": "900.00"}])
    at_threshold = goodwill(app, "250.00", order_id="o-2")  # the threshold is per order
    assert at_threshold.status.value == "approved"


def test_requester_may_not_approve_their_own_refund_and_nothing_is_stored(
    app: Services,
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
    refund = goodwill(app, "400.00", by="sup-1")
    before = app.store.recorder.max_notification_id()
    with pytest.raises(NotAuthorisedError, match="nobody approves what they requested"):
        app.refunds.approve(caller(app, "sup-1"), case_id=refund.id, at=AT)
    with pytest.raises(NotAuthorisedError, match="only a supervisor approves"):
        app.refunds.approve(caller(app, "agent-2"), case_id=refund.id, at=AT)
    assert app.store.recorder.max_notification_id() == before
    approved = app.refunds.approve(caller(app, "sup-2"), case_id=refund.id, at=AT)
    assert approved.status == "approved"
    event = app.store.load(RefundCase, refund.id)
    assert (event.approved_by, event.approved_role) == (pid(app, "sup-2"), "supervisor")


def test_cumulative_refunds_of_an_order_never_exceed_what_was_paid(app: Services) -> None:
    placed = delivered_order(app)  # 40 + 60 + 5 shipping + 19 taxes = 124.00 EUR paid
    assert placed["total"] == "124.00"
    first = goodwill(app, "100.00")
    second = goodwill(app, "100.00")
    third = goodwill(app, "1.00")
    assert first.amount is not None and first.amount.amount == Decimal("100.00")
    assert second.amount is not None and second.amount.amount == Decimal("24.00")  # capped
    assert third.status.value == "rejected"  # nothing left to refund
    # the calculation's reasons say why; no approval decision says it was approved
    assert [d.policy_id for d in third.decisions] == ["refund.calculation"]
    assert not any(d.outcome == "auto_approve" for d in third.decisions)
    rejected = [e for e in app.store.events.get(third.id) if type(e).__name__ == "Rejected"]
    assert [e.reason for e in rejected] == ["; ".join(third.decisions[0].reasons)]
    order = app.store.load(Order, order_aggregate_id("o-1"))
    assert order.refunded.amount == Decimal("124.00")
    app.refunds.reject(caller(app, "sup-1"), case_id=second.id, reason="duplicate", at=AT)
    order = app.store.load(Order, order_aggregate_id("o-1"))
    assert order.refundable.amount == Decimal("24.00")


def test_a_failed_refund_is_retried_with_the_same_idempotency_key(app: Services) -> None:
    delivered_order(app)
    refund = goodwill(app, "10.00")
    first = app.refunds.issue(caller(app, "payments-1"), case_id=refund.id, at=AT)
    app.refunds.record_failed(
        caller(app, "payments-1"), case_id=refund.id, error="psp timeout", at=AT
    )
    second = app.refunds.issue(
        caller(app, "payments-1"), case_id=refund.id, at=AT + timedelta(minutes=5)
    )
    assert first.related["idempotency_key"] == second.related["idempotency_key"] == str(refund.id)
    app.refunds.confirm_settled(
        caller(app, "payments-1"),
        case_id=refund.id,
        provider_ref="psp-9",
        at=AT + timedelta(minutes=6),
    )
    late = app.refunds.issue(  # a retry arriving after the settlement: acknowledged only
        caller(app, "payments-1"), case_id=refund.id, at=AT + timedelta(minutes=7)
    )
    assert (late.applied, late.status) == (False, "settled") and "psp-9" in str(late.note)
    events = [type(e).__name__ for e in app.store.events.get(refund.id)]
    assert events.count("Issued") == 2 and events.count("Settled") == 1


def test_cancelled_paid_order_opens_a_refund_of_everything_paid(app: Services) -> None:
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
    order = app.store.load(Order, order_aggregate_id("o-9"))
    assert order.refundable.is_zero()


def test_lost_parcel_opens_a_proactive_complaint_and_a_refund(app: Services) -> None:
    placed = order_placed("o-5")
    ingest(app, placed, order_paid(placed))
    [result] = ingest(app, shipment("o-5", "Lost", T0 + timedelta(days=9)))
    assert any(e.startswith("complaint") for e in result.effects)
    assert any(e.startswith("refund") for e in result.effects)
    again = ingest(app, shipment("o-5", "Lost", T0 + timedelta(days=9)))
    assert not again[0].applied  # redelivery of the same event id changes nothing


def test_redelivered_upstream_event_changes_nothing(app: Services) -> None:
    placed = order_placed("o-2")
    ingest(app, placed, order_paid(placed))
    before = app.store.recorder.max_notification_id()
    results = ingest(app, placed, order_paid(placed))
    assert [r.applied for r in results] == [False, False]
    assert app.store.recorder.max_notification_id() == before


def test_nobody_approves_or_requests_a_refund_paid_to_themselves(app: Services) -> None:
    tv = [{"line_id": "1", "sku": "TV", "category": "electronics", "quantity": 1,
           "unit_price": "900.00"}]
    delivered_order(app, lines=tv)  # customer c-1
    delivered_order(app, "o-2", lines=tv, customer_id="c-2")
    app.principals.add(admin(app), "olga", ["supervisor", "customer"], T0, customer_id="c-1")
    olga = caller(app, "olga")
    before = app.store.recorder.max_notification_id()
    with pytest.raises(NotAuthorisedError, match="paid to themselves"):
        app.refunds.request(olga, uuid4(), "o-1", "goodwill", "for me", AT, amount=Decimal("5"))
    mine = goodwill(app, "400.00", by="agent-1")
    with pytest.raises(NotAuthorisedError, match="paid to themselves"):
        app.refunds.approve(olga, mine.id, AT)
    assert app.store.recorder.max_notification_id() == before + len(
        list(app.store.events.get(mine.id))) + 2  # only agent-1's request: refund, order
    theirs = goodwill(app, "400.00", by="agent-1", order_id="o-2")
    approved = app.refunds.approve(olga, theirs.id, AT)
    assert approved.status == "approved"
    denials = app.access.denials.list(principal="olga")  # type: ignore[attr-defined]
    assert [(d["operation"], d["rule"]) for d in denials] == [
        ("RequestRefund", "access.not_beneficiary"), ("ApproveRefund", "access.not_beneficiary")]
    assert denials[1]["case_id"] == str(mine.id)


def test_a_customer_acts_on_their_own_orders_and_cases_only(app: Services) -> None:
    delivered_order(app)  # c-1
    delivered_order(app, "o-2", customer_id="c-2")
    mine = goodwill(app, "10.00")
    answers = set()
    for case_id in (mine.id, uuid4()):  # a role that may not: the same, case or no case
        with pytest.raises(NotAuthorisedError) as denied:
            app.refunds.approve(customer(app, "c-2"), case_id, AT)
        answers.add(str(denied.value))
    assert answers == {"ApproveRefund denied: customer may not ApproveRefund; supervisor, "
                       "agent may"}
    returned = app.returns.request(customer(app, "c-1"), uuid4(), "o-1",
                                   [{"line_id": "1", "quantity": 1}], "changed_mind", "refund",
                                   AT)
    for case_id in (returned.case_id, uuid4()):  # may in general, not this one: "not found"
        with pytest.raises(UnknownCaseError, match=f"^no case {case_id}$"):
            app.returns.cancel(customer(app, "c-2"), case_id, AT)
    with pytest.raises(UnknownOrderError) as theirs:
        app.returns.request(customer(app, "c-2"), uuid4(), "o-1",
                            [{"line_id": "1", "quantity": 1}], "changed_mind", "refund", AT)
    with pytest.raises(UnknownOrderError) as missing:
        app.returns.request(customer(app, "c-2"), uuid4(), "o-404",
                            [{"line_id": "1", "quantity": 1}], "changed_mind", "refund", AT)
    assert str(theirs.value).replace("o-1", "") == str(missing.value).replace("o-404", "")


def test_a_refunds_source_return_is_a_case_id_of_the_same_order(app: Services) -> None:
    """A source_case_id that is no UUID was an internal error (exit 70); another order's
    return lent its facts (fault, grade, who paid) to this order's refund."""
    delivered_order(app, "o-1")
    delivered_order(app, "o-2")
    other = app.returns.request(caller(app, "customer-c-1"), uuid4(), "o-2",
                                [{"line_id": "2", "quantity": 1}], "defective", "refund", AT)
    before = app.store.recorder.max_notification_id()
    for source_case_id, words in (("abc", "source_case_id: 'abc' is not a case id"),
                                  (str(other.case_id), "is not one of order o-1's")):
        with pytest.raises(InvalidCommandError, match=words):
            app.refunds.request(caller(app, "agent-1"), uuid4(), "o-1", "return", "x", AT,
                                source_case_id=source_case_id, amount=Decimal("1.00"))
    assert app.store.recorder.max_notification_id() == before


def test_a_cancellation_after_delivery_opens_its_refund_for_a_supervisor(app: Services) -> None:
    """Cancelled before delivery, the refund is on policy; after the parcel was delivered the
    goods are with the buyer, so refunding everything without them is a supervisor's call."""
    def cancelled(order_id: str, delivered: bool) -> RefundCase:
        placed = order_placed(order_id)
        scans = [shipment(order_id, "Dispatched", T0 + timedelta(hours=5))]
        if delivered:
            scans.append(shipment(order_id, "Delivered", T0 + timedelta(days=2)))
        ingest(app, placed, order_paid(placed), *scans)
        ingest(app, {"event_id": f"{order_id}-cancel", "event_type": "OrderCancelled",
                     "occurred_at": (T0 + timedelta(days=3)).isoformat(),
                     "order_id": order_id, "reason": "upstream cancelled"})
        order = app.store.load(Order, order_aggregate_id(order_id))
        [refund_id] = order.case_ids("refund")
        return app.store.load(RefundCase, UUID(refund_id))

    in_transit = cancelled("o-transit", delivered=False)
    assert in_transit.status == "approved"
    at_home = cancelled("o-home", delivered=True)
    assert at_home.status == "awaiting_approval"
    approval = at_home.decisions[-1]
    assert approval.outcome == "needs_supervisor" and "approval.review" in approval.rules
    assert any("o-home-outbound was delivered" in reason for reason in approval.reasons)


def test_a_failed_payment_leaves_the_refund_owed_by_its_due_time(app: Services) -> None:
    """The deadline is met when the refund is issued; a payment that then fails moved no
    money, so the refund is owed again by the same due time (it escalates when missed), and
    met again when issued again (found cold: a failed refund had no deadline at all)."""
    delivered_order(app)
    refund = goodwill(app, "10.00")
    due = app.store.load(RefundCase, refund.id).deadlines["refund"].due_at
    payments = caller(app, "payments-1")
    app.refunds.issue(payments, case_id=refund.id, at=AT + timedelta(hours=1))
    assert app.store.load(RefundCase, refund.id).deadlines["refund"].state == "met"
    app.refunds.record_failed(payments, case_id=refund.id, error="psp declined",
                              at=AT + timedelta(days=1))
    again = app.store.load(RefundCase, refund.id).deadlines["refund"]
    assert (again.is_open, again.due_at) == (True, due)
    assert "a failed payment does not restart the term" in again.basis
    fired = app.deadlines.fire(caller(app, "system.scheduler"), refund.id,
                               due + timedelta(microseconds=1))
    assert [(f.name, f.action) for f in fired] == [("refund", "escalate")]
    app.refunds.issue(payments, case_id=refund.id, at=due + timedelta(days=1))
    assert app.store.load(RefundCase, refund.id).deadlines["refund"].state != "open"


def test_a_refund_request_names_what_to_refund_and_a_complaint_of_its_order(
        app: Services) -> None:
    """SPEC 4.3: RequestRefund names "lines or amount": a request naming nothing stored a
    rejected refund of 0.00 (now invalid, nothing stored); a complaint named as the source
    must be one about the order, as a return must."""
    delivered_order(app, "o-1")
    delivered_order(app, "o-2")
    elsewhere = uuid4()
    app.complaints.file(caller(app, "customer-c-1"), elsewhere, "email", "service", "late", AT,
                        order_id="o-2")
    before = app.store.recorder.max_notification_id()
    with pytest.raises(InvalidCommandError, match="lines, amount or goodwill"):
        app.refunds.request(caller(app, "agent-1"), uuid4(), "o-1", "goodwill", "x", AT)
    for source_case_id, words in (("no-such", "source_case_id: 'no-such' is not a case id"),
                                  (str(elsewhere), "is not about order o-1")):
        with pytest.raises(InvalidCommandError, match=words):
            app.refunds.request(caller(app, "agent-1"), uuid4(), "o-1", "complaint", "x", AT,
                                source_case_id=source_case_id, amount=Decimal("1.00"))
    assert app.store.recorder.max_notification_id() == before
    mine = uuid4()
    app.complaints.file(caller(app, "customer-c-1"), mine, "email", "service", "late", AT,
                        order_id="o-1")
    done = app.refunds.request(caller(app, "agent-1"), uuid4(), "o-1", "complaint", "x", AT,
                               source_case_id=str(mine), amount=Decimal("1.00"))
    assert done.status == "approved"
