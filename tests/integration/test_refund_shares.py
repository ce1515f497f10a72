"""`insights refunds --view shares` labels each settled refund by its source's code: the return's
reason, the complaint's category, the parcel exception, or the source; never by the free text
the agent wrote in the refund request (it can hold a buyer's name and phone number)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from uuid import UUID, uuid4

from aftersales_core.application.services import Services
from aftersales_core.domain.refunds import RefundCase, RefundStatus
from projections.db import ReadDatabase
from projections.insights.refunds import refunds
from tests.factories import T0, caller, delivered_order, ingest, order_paid, order_placed, shipment
from tests.read_models import applied_by_a_runner

AT = T0 + timedelta(days=6)
PERSONAL = "Call with Mrs Jane Doe +49 170 1234567"


def settle(app: Services, refund_id: UUID) -> None:
    if app.store.load(RefundCase, refund_id).status is not RefundStatus.APPROVED:
        app.refunds.approve(caller(app, "sup-1"), case_id=refund_id, at=AT)
    app.refunds.issue(caller(app, "payments-1"), case_id=refund_id, at=AT)
    app.refunds.confirm_settled(caller(app, "payments-1"), case_id=refund_id,
                                provider_ref=f"psp-{refund_id}", at=AT + timedelta(hours=1))


def refund(app: Services, order_id: str, source: str, source_case_id: str | None) -> UUID:
    done = app.refunds.request(caller(app, "agent-1"), case_id=uuid4(), order_id=order_id,
                               source=source, reason=f"{source}: {PERSONAL}", at=AT,
                               source_case_id=source_case_id, amount=Decimal("5.00"),
                               lines=[{"line_id": "1", "quantity": 1}] if source == "return"
                               else None)
    return done.case_id


def test_refunded_shares_are_labelled_by_the_source_code_never_the_free_text(
        app: Services, read_db: ReadDatabase) -> None:
    delivered_order(app, "o-1", customer_id="c-1")
    delivered_order(app, "o-2", customer_id="c-2")
    returned = app.returns.request(caller(app, "customer-c-1"), case_id=uuid4(), order_id="o-1",
                                   lines=[{"line_id": "1", "quantity": 1}],
                                   reason="changed_mind", outcome="refund", at=AT)
    settle(app, refund(app, "o-1", "return", str(returned.case_id)))
    complaint = app.complaints.file(caller(app, "customer-c-2"), case_id=uuid4(),
                                    order_id="o-2", channel="email", category="damaged",
                                    description="the box was crushed", at=AT)
    settle(app, refund(app, "o-2", "complaint", str(complaint.case_id)))
    settle(app, refund(app, "o-2", "goodwill", None))
    placed = order_placed("o-5", customer_id="c-5")
    ingest(app, placed, order_paid(placed))
    [lost] = ingest(app, shipment("o-5", "Lost", T0 + timedelta(days=5)))
    [opened] = [e for e in lost.effects if e.startswith("refund ")]
    settle(app, UUID(opened.split()[1]))

    applied_by_a_runner(app, read_db)
    rows = refunds(read_db).view("shares").rows
    assert {r["reason"] for r in rows} == {
        "all reasons", "return: changed_mind", "complaint: damaged", "goodwill",
        "logistics_exception: Lost"}
    assert all(r["refunds"] == 1 for r in rows if r["reason"] != "all reasons")
    assert "Jane" not in repr(refunds(read_db).as_json())
