"""Upstream facts against the whole store: an ``event_id`` is taken once in the store, not once
per order (SPEC §4.1), and nothing happens to an order before it was placed (README, Input
limits: a case opened on an order cannot be dated before the order). On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from uuid import UUID

import pytest

from aftersales.bootstrap import open_app
from aftersales.settings import Settings, eventsourcing_env
from aftersales_core.application.services import Services
from aftersales_core.domain.ids import order_aggregate_id
from aftersales_core.domain.order import Order
from aftersales_core.errors import ConcurrentChangeError, InvalidCommandError
from tests.factories import T0, ingest, order_paid, order_placed, shipment

LONG_AGO = datetime.fromisoformat("1999-01-01T00:00:00+00:00")


def stored(app: Services) -> int:
    return app.store.recorder.max_notification_id() or 0


def test_an_event_id_used_on_another_order_is_refused_naming_that_order(app: Services) -> None:
    ingest(app, order_placed("A"), order_paid(order_placed("A")),
           order_placed("B", customer_id="c-2"), order_paid(order_placed("B")))
    lost_a = {**shipment("A", "Lost", T0 + timedelta(days=1)), "event_id": "e-X"}
    (first,) = ingest(app, lost_a)
    assert first.applied
    before = stored(app)
    lost_b = {**lost_a, "order_id": "B"}
    with pytest.raises(InvalidCommandError,
                       match=r"event_id: 'e-X' was already used for order A \(its outbound "
                             r"Lost fact\); .* fact of order B is no redelivery"):
        ingest(app, lost_b)
    assert stored(app) == before  # nothing stored
    assert app.store.load(Order, order_aggregate_id("B")).shipments == {}
    assert ingest(app, lost_a)[0].applied is False  # an exact replay: a duplicate, as before
    assert stored(app) == before


def test_an_event_id_used_with_other_fields_is_refused_an_exact_replay_is_not(
        app: Services) -> None:
    placed = order_placed("A")
    paid = order_paid(placed)
    ingest(app, placed, paid)
    with pytest.raises(InvalidCommandError, match="was already used for order A"):
        ingest(app, {**paid, "amount": "1.00"})
    with pytest.raises(InvalidCommandError, match="was already used for order A"):
        ingest(app, {**order_placed("C"), "event_id": placed["event_id"]})  # a second order
    assert app.store.find(Order, order_aggregate_id("C")) is None
    assert ingest(app, paid, {**paid, "note": "unknown fields are not compared"})[1].applied \
        is False
    assert app.store.load(Order, order_aggregate_id("A")).paid.amount == 124


@pytest.fixture
def other_process(store_settings: Settings) -> Iterator[Services]:
    """A second process on the same store."""
    application = open_app(eventsourcing_env(store_settings.database_url,
                                             store_settings.postgres_schema))
    yield application
    application.close()


def test_two_processes_cannot_both_take_one_event_id(app: Services,
                                                     other_process: Services) -> None:
    """The store refuses the second claim of an id: no read-then-write race between
    processes that both found the id free."""
    ingest(app, order_placed("A"), order_placed("B", customer_id="c-2"))
    lost = {**shipment("A", "Lost", T0 + timedelta(days=1)), "event_id": "e-X"}
    with app.store.batch():
        ingest(app, lost)  # decided and staged, found the id free
        ingest(other_process, {**lost, "order_id": "B"})  # found it free too, and saved
        with pytest.raises(ConcurrentChangeError):
            app.store.flush()
    # run again on fresh state, the first one now finds the id taken
    with pytest.raises(InvalidCommandError, match="was already used for order B"):
        ingest(app, lost)
    assert app.store.load(Order, order_aggregate_id("A")).shipments == {}


@pytest.mark.parametrize("fact", [
    {"event_type": "OrderCancelled", "reason": "too late"},
    {"event_type": "Lost"},
    {"event_type": "CustomsReleased"},
    {"event_type": "InTransit", "direction": "return"},
])
def test_a_fact_dated_before_its_orders_placement_is_refused(app: Services,
                                                            fact: dict[str, str]) -> None:
    placed = order_placed("A")
    ingest(app, placed, order_paid(placed))
    if fact["event_type"] == "OrderCancelled":
        message = {"event_id": "A-cancelled", "occurred_at": LONG_AGO.isoformat(),
                   "order_id": "A", **fact}
    else:
        message = shipment("A", fact["event_type"], LONG_AGO,
                           direction=fact.get("direction", "outbound"))
    before = stored(app)
    with pytest.raises(InvalidCommandError,
                       match=r"occurred_at: 1999-01-01T00:00:00\+00:00 is before order A was "
                             r"placed \(2026-03-02T09:00:00\+00:00\): .* cannot predate its "
                             "order"):
        ingest(app, message)
    assert stored(app) == before  # no case, no fact, no claim of its id
    order = app.store.load(Order, order_aggregate_id("A"))
    assert order.cases == {} and order.cancelled_at is None and order.shipments == {}
    assert order.paid.amount == 124


def test_a_payment_captured_before_its_order_was_recorded_counts(app: Services) -> None:
    """A checkout may capture the payment before the order service records the order: a
    payment dated before the placement is taken (it opens no case), whether it arrives after
    the placement or was held for it, so the order is paid and refundable."""
    placed = order_placed("A")
    early = datetime.fromisoformat(placed["occurred_at"]) - timedelta(seconds=2)
    ingest(app, placed)
    (paid,) = ingest(app, order_paid(placed, early))
    assert paid.applied
    assert app.store.load(Order, order_aggregate_id("A")).paid.amount == 124
    placed_b = order_placed("B")
    (held,) = ingest(app, order_paid(placed_b, early))
    assert held.held
    (placed,) = ingest(app, placed_b)
    assert placed.applied and not placed.held
    assert app.store.load(Order, order_aggregate_id("B")).paid.amount == 124


def test_a_fact_held_before_its_placement_opens_cases_dated_at_the_placement(
        app: Services) -> None:
    """A fact held for an order not placed yet is not refused when the placement arrives (one
    wrong time must not keep the whole order out): what it opens is dated at the placement,
    never before the order."""
    (held,) = ingest(app, shipment("A", "Lost", LONG_AGO))
    assert held.held
    placed_message = order_placed("A")
    (placed,) = ingest(app, placed_message, order_paid(placed_message))[:1]
    assert placed.applied and not placed.held
    order = app.store.load(Order, order_aggregate_id("A"))
    assert order.cases, "the held Lost scan opens its cases once the order is placed"
    placed_at = datetime.fromisoformat(placed_message["occurred_at"])
    for case_id in (c for ids in order.cases.values() for c in ids):
        case = app.store.load_any(UUID(str(case_id)))
        assert case is not None and case.created_on >= placed_at
