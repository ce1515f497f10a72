"""Which return a carrier's return-shipment scan moves: the one whose parcel it is (its label's
tracking number, or the shipment it was recorded shipped back under); a parcel no return
carries moves the one return that can take it among those whose parcel is not known (no label,
no shipment recorded), else the one return that can take it, and none when several could."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID, uuid4

from aftersales_core.application.services import Services
from aftersales_core.domain.ids import order_aggregate_id
from aftersales_core.domain.order import Order
from aftersales_core.domain.returns import ReturnCase
from tests.factories import T0, caller, delivered_order, ingest, shipment

AT = T0 + timedelta(days=5)
LINES = [  # worth sending back (a cheap item would be a returnless refund)
    {"line_id": "1", "sku": "LAMP-9", "category": "home", "quantity": 1, "unit_price": "60.00"},
    {"line_id": "2", "sku": "LAMP-7", "category": "home", "quantity": 1, "unit_price": "70.00"},
]


def request(app: Services, line_id: str, label: str | None = None) -> UUID:
    """An approved return of one unit of a line (the merchant pays the way back), with a label
    issued under tracking number ``label`` when given."""
    case_id = uuid4()
    result = app.returns.request(
        caller(app, "customer-c-1"), case_id=case_id, order_id="o-1",
        lines=[{"line_id": line_id, "quantity": 1}], reason="defective", outcome="refund",
        at=AT,
    )
    assert result.status == "approved"
    if label is not None:
        app.returns.issue_label(caller(app, "agent-7"), case_id=case_id, carrier="DHL",
                                tracking_number=label, at=AT + timedelta(hours=1), cost=None)
    return case_id


def scan(app: Services, event_type: str, shipment_id: str, at: datetime) -> list[str]:
    [result] = ingest(app, shipment("o-1", event_type, at, direction="return",
                                    shipment_id=shipment_id))
    assert result.applied
    return result.effects


def status(app: Services, case_id: UUID) -> str:
    return app.store.load(ReturnCase, case_id).status.value


def ship_back_open(app: Services, case_id: UUID) -> bool:
    return app.store.load(ReturnCase, case_id).deadlines["ship_back"].is_open


def test_scans_under_a_label_move_only_the_return_it_was_issued_for(app: Services) -> None:
    delivered_order(app, lines=LINES)
    first, second = request(app, "1", label="T1"), request(app, "2", label="T2")
    effects = scan(app, "InTransit", "T1", AT + timedelta(days=1))
    assert effects == ["return shipment T1 InTransit", f"return {first} shipped_back"]
    assert (status(app, first), status(app, second)) == ("shipped_back", "label_issued")
    assert ship_back_open(app, second)  # nothing of it was sent: it may still expire
    effects = scan(app, "Delivered", "T1", AT + timedelta(days=3))
    assert effects == ["return shipment T1 Delivered", f"return {first} received"]
    assert (status(app, first), status(app, second)) == ("received", "label_issued")


def test_a_delivered_scan_receives_only_the_return_whose_label_it_carries(
    app: Services,
) -> None:
    delivered_order(app, lines=LINES)
    first, second = request(app, "1", label="T1"), request(app, "2", label="T2")
    effects = scan(app, "Delivered", "T2", AT + timedelta(days=3))  # no scan on the way
    assert effects == ["return shipment T2 Delivered", f"return {second} received"]
    assert (status(app, first), status(app, second)) == ("label_issued", "received")
    assert ship_back_open(app, first)


def test_a_scan_no_return_carries_moves_none_when_several_could(app: Services) -> None:
    delivered_order(app, lines=LINES)
    first, second = request(app, "1"), request(app, "2")  # neither has a label
    effects = scan(app, "InTransit", "ret-1", AT + timedelta(days=1))
    assert effects[0] == "return shipment ret-1 InTransit"
    assert len(effects) == 2 and "matches no single return" in effects[1]
    assert str(first) in effects[1] and str(second) in effects[1]
    assert (status(app, first), status(app, second)) == ("approved", "approved")
    assert ship_back_open(app, first) and ship_back_open(app, second)
    order = app.store.load(Order, order_aggregate_id("o-1"))
    assert order.shipments["ret-1"]["direction"] == "return"  # the scan itself is kept
    effects = scan(app, "Delivered", "ret-1", AT + timedelta(days=3))
    assert len(effects) == 2 and "matches no single return" in effects[1]
    assert (status(app, first), status(app, second)) == ("approved", "approved")


def test_a_scan_no_label_carries_moves_the_one_return_without_a_label(app: Services) -> None:
    delivered_order(app, lines=LINES)
    labelled, unlabelled = request(app, "1", label="T1"), request(app, "2")
    # a labelled return's parcel carries its label's number: ret-1 can only be the other one
    effects = scan(app, "InTransit", "ret-1", AT + timedelta(days=1))
    assert effects == ["return shipment ret-1 InTransit", f"return {unlabelled} shipped_back"]
    assert (status(app, labelled), status(app, unlabelled)) == ("label_issued", "shipped_back")
    assert ship_back_open(app, labelled)  # nothing of it was sent: it may still expire
    effects = scan(app, "Delivered", "ret-1", AT + timedelta(days=3))
    assert effects == ["return shipment ret-1 Delivered", f"return {unlabelled} received"]
    assert (status(app, labelled), status(app, unlabelled)) == ("label_issued", "received")


def test_a_scan_no_return_carries_is_not_the_parcel_of_a_return_shipped_under_another(
    app: Services,
) -> None:
    delivered_order(app, lines=LINES)
    sent = request(app, "1")
    scan(app, "InTransit", "ret-1", AT + timedelta(days=1))  # its own carrier's parcel
    waiting = request(app, "2")
    effects = scan(app, "Delivered", "ret-2", AT + timedelta(days=3))
    assert effects == ["return shipment ret-2 Delivered", f"return {waiting} received"]
    assert (status(app, sent), status(app, waiting)) == ("shipped_back", "received")


def test_the_one_return_that_can_take_a_scan_no_return_carries_is_moved(
    app: Services,
) -> None:
    delivered_order(app, lines=LINES)
    labelled = request(app, "1", label="T1")
    scan(app, "InTransit", "T1", AT + timedelta(days=1))
    own_carrier = request(app, "2")  # no label: the buyer ships it with a carrier of their own
    effects = scan(app, "InTransit", "ret-2", AT + timedelta(days=2))
    assert effects == ["return shipment ret-2 InTransit", f"return {own_carrier} shipped_back"]
    assert (status(app, labelled), status(app, own_carrier)) == ("shipped_back", "shipped_back")
    # the Delivered scan of that parcel receives its return, not the other one on its way
    effects = scan(app, "Delivered", "ret-2", AT + timedelta(days=4))
    assert effects == ["return shipment ret-2 Delivered", f"return {own_carrier} received"]
    assert (status(app, labelled), status(app, own_carrier)) == ("shipped_back", "received")
    effects = scan(app, "Delivered", "T1", AT + timedelta(days=5))
    assert effects == ["return shipment T1 Delivered", f"return {labelled} received"]
