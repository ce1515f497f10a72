"""Refund components through the application: each refund's components add up to its amount,
and an order's refunds never return more of a component than was paid for it (issue 10)."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from aftersales_core.application.services import Services
from aftersales_core.domain.refunds import RefundCase
from aftersales_core.domain.returns import ReturnCase
from audit.auditor import Auditor
from projections.db import ReadDatabase
from tests.factories import T0, caller, delivered_order
from tests.read_models import applied_by_a_runner

AT = T0 + timedelta(days=5)


def returned(app: Services, order_id: str, lines: list[dict[str, Any]], reason: str,
             at: datetime = AT) -> RefundCase:
    """A return of ``lines`` taken through label, arrival, inspection and a refund (a
    returnless one straight to its refund)."""
    case_id = uuid4()
    app.returns.request(caller(app, "customer-c-1"), case_id=case_id, order_id=order_id,
                        lines=lines, reason=reason, outcome="refund", at=at)
    if not app.store.load(ReturnCase, case_id).returnless:
        app.returns.issue_label(caller(app, "agent-7"), case_id=case_id, carrier="DHL",
                                tracking_number=f"RT-{case_id}", at=at + timedelta(hours=1))
        app.returns.receive(caller(app, "warehouse-1"), case_id=case_id,
                            at=at + timedelta(days=2))
        app.returns.inspect(caller(app, "warehouse-1"), case_id=case_id, grade="A",
                            at=at + timedelta(days=2, hours=1))
    resolved = app.resolutions.resolve(caller(app, "agent-7"), case_id=case_id,
                                       at=at + timedelta(days=2, hours=2))
    return app.store.load(RefundCase, UUID(resolved.related["refund_case_id"]))


def parts(refund: RefundCase) -> dict[str, Decimal]:
    return {name: Decimal(value) for name, value in refund.components.items()}


def assert_adds_up(refund: RefundCase) -> None:
    assert refund.amount is not None
    assert sum(parts(refund).values(), Decimal(0)) == refund.amount.amount


def test_a_capped_return_refund_records_only_what_is_left_of_each_component(
        app: Services, tmp_path: Path) -> None:
    delivered_order(app, "pr2", lines=[{"line_id": "l1", "sku": "MUG-1", "category": "home",
                                         "quantity": 2, "unit_price": "40.00"}],
                    shipping_fee="10.00", taxes="0.00")
    filed = app.complaints.file(caller(app, "customer-c-1"), uuid4(), "email", "damaged",
                                "scratched", AT, order_id="pr2")
    complaint = app.refunds.request(caller(app, "agent-1"), case_id=uuid4(), order_id="pr2",
                                    source="complaint", reason="scratched", at=AT,
                                    source_case_id=str(filed.case_id),
                                    lines=[{"line_id": "l1", "quantity": 2}])
    first = app.store.load(RefundCase, complaint.case_id)
    assert (first.amount and first.amount.amount, first.components) == (
        Decimal("80.00"), {"items": "80.00"})
    refund = returned(app, "pr2", [{"line_id": "l1", "quantity": 2}], "changed_mind",
                      AT + timedelta(days=1))
    assert refund.amount is not None and refund.amount.amount == Decimal("10.00")
    assert refund.components == {"outbound_shipping": "10.00"}
    assert_adds_up(refund)
    calculation = next(d for d in refund.decisions if d.policy_id == "refund.calculation")
    assert calculation.policy_version == 6
    assert calculation.inputs["already_refunded_by_component"]["items"] == {
        "amount": "80.00", "units": [{"line_id": "l1", "quantity": 2}]}
    assert app.store.books.rerun(calculation).same_result_as(calculation)
    read = ReadDatabase(f"sqlite:///{tmp_path / 'read.sqlite'}")
    applied_by_a_runner(app, read)
    row, = read.query("SELECT * FROM refunds WHERE refund_id = ?", (str(refund.id),))
    read.close()
    assert (Decimal(row["amount"]), row["items"], row["outbound_shipping"]) == (
        Decimal("10.00"), None, "10.00")
    components = row["components"]
    assert (json.loads(components) if isinstance(components, str) else components) == {
        "outbound_shipping": "10.00"}


def test_single_unit_returns_of_a_whole_line_refund_exactly_what_was_paid(
        app: Services) -> None:
    delivered_order(app, "jp2", market="JP", currency="JPY", discount="100",
                    lines=[{"line_id": "l1", "sku": "CUP-3", "category": "home", "quantity": 3,
                            "unit_price": "1000"}],
                    shipping_fee="500", duties="0", taxes="0", total="3400")
    refunds = [returned(app, "jp2", [{"line_id": "l1", "quantity": 1}], "defective",
                        AT + timedelta(hours=6 * n)) for n in range(3)]
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for refund in refunds:
        assert_adds_up(refund)
        for name, value in parts(refund).items():
            totals[name] += value
    assert dict(totals) == {"items": Decimal("2900"), "outbound_shipping": Decimal("500")}
    assert sum(r.amount.amount for r in refunds if r.amount is not None) == Decimal("3400")
    report = Auditor(app.store.recorder, app.store.mapper, rerun=app.store.books.rerun).verify(
        decisions=True)
    assert report.decisions_checked and report.decision_mismatches == []


def test_a_refund_capped_below_its_items_records_items_equal_to_the_amount(
        app: Services) -> None:
    delivered_order(app, "eu1", lines=[{"line_id": "l1", "sku": "PEN-1", "category": "home",
                                         "quantity": 1, "unit_price": "10.00"}],
                    shipping_fee="0.00", taxes="0.00")
    app.refunds.request(caller(app, "agent-1"), case_id=uuid4(), order_id="eu1",
                        source="goodwill", reason="late", at=AT, amount=Decimal("0.01"))
    refund = returned(app, "eu1", [{"line_id": "l1", "quantity": 1}], "changed_mind",
                      AT + timedelta(days=1))
    assert refund.amount is not None and refund.amount.amount == Decimal("9.99")
    assert refund.components == {"items": "9.99"}
