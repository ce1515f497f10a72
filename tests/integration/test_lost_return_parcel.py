"""A return parcel the carrier loses (a ``Lost`` scan on the return leg) opens a proactive
complaint (SPEC §3.1: logistics exceptions open cases by policy; ``logistics.exception``'s rule
``logistics.lost_return``), so that the desk settles the return without the goods: before, the
scan was only noted and the return waited for goods that would never come, with no deadline and
nobody told. One loss opens one complaint, however often it is reported; the other return-leg
exceptions stay the carrier's and the return case's business. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

from aftersales_core.application.services import Services
from aftersales_core.domain.complaints import ComplaintCase
from aftersales_core.domain.ids import order_aggregate_id
from aftersales_core.domain.order import Order
from aftersales_core.domain.returns import ReturnCase
from tests.factories import T0, caller, delivered_order, ingest, shipment

REQUESTED = T0 + timedelta(days=5)


def returned_and_shipped(app: Services) -> None:
    delivered_order(app, "o-1", market="DE", currency="EUR", delivered=T0 + timedelta(days=3))
    case_id = uuid4()
    app.returns.request(caller(app, "customer-c-1"), case_id, "o-1",
                        [{"line_id": "2", "quantity": 1}], "defective", "refund", REQUESTED)
    ingest(app, shipment("o-1", "Dispatched", REQUESTED + timedelta(days=1), direction="return"))
    assert app.store.load(ReturnCase, case_id).status.value == "shipped_back"


def complaints(app: Services) -> list[ComplaintCase]:
    order = app.store.load(Order, order_aggregate_id("o-1"))
    return [app.store.load(ComplaintCase, UUID(c)) for c in order.case_ids("complaint")]


def test_a_lost_return_parcel_opens_a_complaint_once(app: Services) -> None:
    returned_and_shipped(app)
    lost = shipment("o-1", "Lost", REQUESTED + timedelta(days=3), direction="return")
    [result] = ingest(app, lost)
    assert any(e.startswith("complaint ") and e.endswith(" opened") for e in result.effects)
    [complaint] = complaints(app)
    assert complaint.proactive and complaint.category == "logistics_delay"
    [cause] = [d for d in complaint.decisions if d.policy_id == "logistics.exception"]
    assert cause.rules == ("logistics.lost_return",) and cause.inputs["direction"] == "return"
    assert "first_response" in complaint.deadlines  # somebody must answer
    again = {**lost, "event_id": "o-1-lost-again",
             "occurred_at": (REQUESTED + timedelta(days=4)).isoformat()}
    ingest(app, again)  # the same loss reported again, under another event id
    assert len(complaints(app)) == 1


def test_other_return_leg_exceptions_open_nothing(app: Services) -> None:
    returned_and_shipped(app)
    ingest(app, shipment("o-1", "Damaged", REQUESTED + timedelta(days=3), direction="return"))
    assert complaints(app) == []
