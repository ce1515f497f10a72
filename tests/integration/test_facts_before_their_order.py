"""Facts for an order that was never placed (its OrderPlaced refused, or not arrived yet) are
held on the order, as shipment scans before their order always were: applied once, saying so,
with nothing following from them (no case, no refund, no quota) until the order is placed;
then they count. Commands on such an order answer "unknown order"."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest
from pydantic import ValidationError

from aftersales_core.application.services import Services
from aftersales_core.domain.ids import order_aggregate_id
from aftersales_core.domain.order import Order
from aftersales_core.errors import InvalidCommandError, UnknownOrderError
from dispatch.upstream import apply_upstream
from schemas.inbound import ANY_INBOUND
from tests.factories import T0, caller, ingest, order_paid, order_placed, shipment


def test_a_payment_after_a_refused_placement_is_held_and_counts_once_the_order_is_placed(
        app: Services) -> None:
    refused = order_placed("w17", buyer_timezone="Mars/Olympus")
    with pytest.raises(ValidationError, match="buyer_timezone"):
        ingest(app, refused)
    (paid,) = ingest(app, order_paid(refused))
    assert paid.applied and paid.held
    assert paid.effects[0] == "payment pay-w17 of 124.00 EUR"  # never "paid 124.00 EUR"
    assert "held: order w17 has not been placed" in paid.effects[-1]
    order = app.store.load(Order, order_aggregate_id("w17"))
    assert not order.placed
    with pytest.raises(UnknownOrderError, match="w17"):
        app.returns.request(caller(app, "customer-c-1"), uuid4(), "w17",
                            [{"line_id": "2", "quantity": 1}], "changed_mind", "refund",
                            T0 + timedelta(days=5))
    assert ingest(app, order_paid(refused))[0].applied is False  # a redelivery: nothing

    corrected = {**order_placed("w17"), "event_id": "w17-placed-again"}
    (placed,) = ingest(app, corrected)
    assert placed.applied and not placed.held
    assert placed.effects[0] == "order placed"
    assert app.store.load(Order, order_aggregate_id("w17")).paid.amount == 124


def test_scans_and_a_cancellation_before_the_order_say_they_are_held(app: Services) -> None:
    scanned, cancelled = ingest(
        app, shipment("m1", "Lost", T0), {"event_id": "m1-cancelled",
                                          "event_type": "OrderCancelled",
                                          "occurred_at": T0.isoformat(), "order_id": "m1",
                                          "reason": "out of stock"})
    for result in (scanned, cancelled):
        assert result.applied and result.held
        assert result.effects[-1].startswith("held: order m1 has not been placed")
    assert app.store.load(Order, order_aggregate_id("m1")).cases == {}  # no case opened


def test_a_fact_under_an_event_id_another_kind_of_fact_used_is_refused_not_dropped(
        app: Services) -> None:
    """Event ids are unique, and a redelivery is the same fact again (an OrderPlaced, an
    OrderPaid, an outbound Delivered scan…): a fact of another kind under a used id is no
    redelivery. It is refused (dead-lettered from Kafka), naming the id, never dropped as
    "already seen": a carrier, who may report return scans only, sending one first under the
    id of the order's placement cannot make the placement vanish unseen."""
    carrier = caller(app, "carrier-1")
    placed = order_placed("o-7")
    scan = {**shipment("o-7", "InTransit", T0, direction="return"),
            "event_id": placed["event_id"]}
    assert apply_upstream(app, carrier, ANY_INBOUND.validate_python(scan)).applied
    with pytest.raises(InvalidCommandError, match="event_id: 'o-7-placed' was already used "
                                                  "for order o-7 \\(its return InTransit"):
        ingest(app, placed)
    assert not app.store.load(Order, order_aggregate_id("o-7")).placed
    assert not apply_upstream(app, carrier, ANY_INBOUND.validate_python(scan)).applied  # again
    ingest(app, order_placed("o-8"))
    paid = {**order_paid(order_placed("o-8")), "event_id": "o-8-placed"}
    with pytest.raises(InvalidCommandError, match="used for order o-8 \\(its OrderPlaced fact\\); "
                                                  "event ids are unique, and this OrderPaid"):
        ingest(app, paid)
    assert app.store.load(Order, order_aggregate_id("o-8")).paid.amount == 0


@pytest.mark.parametrize("direction", ["outbound", "return"])
def test_a_scan_naming_the_other_directions_shipment_is_refused(
        app: Services, direction: str) -> None:
    """A shipment keeps its direction: a carrier's return scan cannot land on the outbound
    shipment (its last scan would become the carrier's "Lost"), nor the other way round."""
    ingest(app, order_placed("o-8"), shipment("o-8", "InTransit", T0, direction=direction))
    other = "return" if direction == "outbound" else "outbound"
    forged = shipment("o-8", "Lost", T0 + timedelta(hours=1), direction=other,
                      shipment_id=f"o-8-{direction}")
    who = caller(app, "carrier-1") if other == "return" else caller(app, "upstream-1")
    with pytest.raises(InvalidCommandError, match=f"o-8-{direction}.*{direction} shipment"):
        apply_upstream(app, who, ANY_INBOUND.validate_python(forged))
    shipments = app.store.load(Order, order_aggregate_id("o-8")).shipments
    assert shipments[f"o-8-{direction}"]["last_scan"] == "InTransit"
    assert list(shipments) == [f"o-8-{direction}"]
