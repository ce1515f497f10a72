"""The delivery every period counts from is the order's latest outbound delivery by business
time, whatever order its scans arrive in (upstream topics are not ordered with each other),
and replaying the stored events gives the same."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales_core.domain.order import Order
from tests.unit.domain import builders as b

SCANS = ("Dispatched", "CustomsReleased", "Delivered")


def scan(order: Order, number: int, shipment_id: str, kind: str, at: datetime,
         direction: str = "outbound") -> None:
    order.record_shipment(event_id=f"e-{number}", shipment_id=shipment_id, carrier="DHL",
                          direction=direction, scan=kind, occurred_at=at, location=None,
                          detail=None, by=b.CARRIER.principal_id, role=b.CARRIER.role,
                          timestamp=b.T0 + timedelta(seconds=number))


def test_a_parcel_delivered_earlier_but_scanned_later_does_not_move_the_delivery() -> None:
    first, last = b.T0 + timedelta(days=1), b.T0 + timedelta(days=10)
    in_order, reversed_ = Order(order_id="o-1", timestamp=b.T0), Order(order_id="o-2",
                                                                       timestamp=b.T0)
    scan(in_order, 1, "s1", "Delivered", first)
    scan(in_order, 2, "s2", "Delivered", last)
    scan(reversed_, 1, "s2", "Delivered", last)
    scan(reversed_, 2, "s1", "Delivered", first)
    assert in_order.delivered_at == reversed_.delivered_at == last
    assert in_order.facts()["delivered_at"] == reversed_.facts()["delivered_at"] == \
        last.isoformat()


def test_a_return_parcels_delivery_is_not_the_orders() -> None:
    order = Order(order_id="o-1", timestamp=b.T0)
    scan(order, 1, "s1", "Delivered", b.T0 + timedelta(days=1))
    scan(order, 2, "r1", "Delivered", b.T0 + timedelta(days=20), direction="return")
    assert order.delivered_at == b.T0 + timedelta(days=1)


scans = st.lists(st.tuples(st.sampled_from(["s1", "s2", "s3"]), st.sampled_from(SCANS),
                           st.integers(min_value=0, max_value=60 * 24 * 30)),
                 min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(scans=scans, rng=st.randoms(use_true_random=False))
def test_any_arrival_order_gives_the_same_delivery_and_release(
        scans: list[tuple[str, str, int]], rng: random.Random) -> None:
    """The latest delivery and the earliest release by time, for any permutation of the same
    scans, and the same again when the stored events are replayed."""
    shuffled = list(scans)
    rng.shuffle(shuffled)
    results = []
    for arrival in (scans, shuffled):
        aggregate = Order(order_id="o-1", timestamp=b.T0)
        for number, (shipment_id, kind, minutes) in enumerate(arrival):
            scan(aggregate, number, shipment_id, kind, b.T0 + timedelta(minutes=minutes))
        replayed = b.replay(aggregate.collect_events())
        assert (replayed.delivered_at, replayed.customs_released_at) == \
            (aggregate.delivered_at, aggregate.customs_released_at)
        results.append((aggregate.delivered_at, aggregate.customs_released_at))
    delivered = [b.T0 + timedelta(minutes=m) for _, kind, m in scans if kind == "Delivered"]
    released = [b.T0 + timedelta(minutes=m) for _, kind, m in scans if kind == "CustomsReleased"]
    assert results[0] == results[1] == (max(delivered, default=None),
                                        min(released, default=None))
