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
from aftersales_core.errors import UnknownOrderError
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
