"""The broker frozen for a while (SIGSTOP, then SIGCONT; SPEC §7): commands are still accepted
because the store is the source of truth, and the relay and the inbound consumer catch up by
themselves once the broker answers again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from random import Random

import pytest

from aftersales.settings import Settings
from aftersales_core.application.services import Services
from tests.crash_helpers import (
    LINES,
    Desk,
    StoreView,
    check_case_events,
    lag,
    private_positions,
    wait_for,
)
from tests.factories import T0, delivered_order, order_paid, order_placed, shipment
from tests.kafka_fixtures import TestBroker
from tests.pipeline import as_message, eventually, pipeline_settings, publish, workers

pytestmark = pytest.mark.kafka

OUTAGE_SECONDS = 5.0
Message = tuple[bytes | None, bytes]


@contextmanager
def frozen(broker: TestBroker) -> Iterator[None]:
    """The broker stopped (SIGSTOP) for the block; always thawed afterwards."""
    process = broker.require_process()
    process.pause()
    try:
        yield
    finally:
        process.resume()


def test_commands_are_accepted_while_the_broker_is_frozen_and_the_relay_catches_up(
    app: Services, store_settings: Settings, kafka_broker: TestBroker, topic_prefix: str
) -> None:
    settings = pipeline_settings(store_settings, kafka_broker.bootstrap_servers, topic_prefix)
    orders = [f"o-{n}" for n in range(4)]
    for order_id in orders:
        delivered_order(app, order_id, lines=LINES, customer_id=f"c-{order_id}")
    desk = Desk(app, Random(7), orders)
    with workers(app, settings, "relay") as running:
        relay, failed = running["relay"], running["failures"]
        before = app.store.recorder.max_notification_id() or 0
        eventually(lambda: relay.stats.position == before, 60, "relay caught up", failed)
        with frozen(kafka_broker):
            desk.keep_busy_until(21, OUTAGE_SECONDS, pace=0.02)
            during = app.store.recorder.max_notification_id() or 0
            stuck_at = relay.stats.position
        assert during > before, "no command was stored while the broker was frozen"
        assert desk.stored() > 20
        assert stuck_at < during, "the relay published while the broker was frozen?"
        desk.keep_busy(0.5)  # and more after it came back
        stored = app.store.recorder.max_notification_id() or 0
        eventually(lambda: relay.stats.position == stored, 60,
                   f"relay caught up with {stored} after the outage", failed)
        assert not failed
    check_case_events(kafka_broker.bootstrap_servers, settings.case_events_topic, stored,
                      private_positions(app, stored), f"relay {relay.stats}")


def test_inbound_consumer_survives_a_frozen_broker_and_applies_what_comes_after(
    app: Services, store_settings: Settings, kafka_broker: TestBroker, topic_prefix: str
) -> None:
    settings = pipeline_settings(store_settings, kafka_broker.bootstrap_servers, topic_prefix)
    placed = [order_placed(f"o-{n}", customer_id=f"c-{n}", at=T0) for n in range(12)]
    first: list[Message] = [as_message(m) for m in placed[:6]]
    in_flight: list[Message] = [as_message(m) for m in placed[6:]]
    in_flight += [as_message(order_paid(m)) for m in placed[:6]]
    after: list[Message] = [as_message(order_paid(m)) for m in placed[6:]]
    scans: list[Message] = [
        as_message(shipment(m["order_id"], "Dispatched", T0 + timedelta(hours=n)))
        for n, m in enumerate(placed)]
    view = StoreView(app)

    def applied() -> int:
        view.refresh()
        return len(view.upstream_ids)

    with workers(app, settings, "inbound") as running:
        inbound, failed = running["inbound"], running["failures"]
        publish(settings, settings.orders_topic, first)
        eventually(lambda: applied() == len(first), 60, "first orders applied", failed)
        publish(settings, settings.orders_topic, in_flight)  # possibly not consumed yet
        with frozen(kafka_broker):
            deadline = time.monotonic() + OUTAGE_SECONDS
            while time.monotonic() < deadline:  # the consumer keeps running, sees no broker
                assert not failed, "the inbound consumer died while the broker was frozen"
                time.sleep(0.1)
        eventually(lambda: applied() == len(first) + len(in_flight), 60,
                   "messages published before the outage applied", failed)
        publish(settings, settings.orders_topic, after)
        publish(settings, settings.shipments_topic, scans)
        total = len(first) + len(in_flight) + len(after) + len(scans)
        eventually(lambda: applied() == total, 60, "messages published after it applied",
                   failed)
        topics = [settings.orders_topic, settings.shipments_topic]
        wait_for(lambda: not any(lag(kafka_broker.bootstrap_servers, topics,
                                              settings.inbound_group).values()), 60,
                 "offsets committed to the end", interval=0.2)
        assert not failed
    assert all(n == 1 for n in view.upstream_ids.values()), view.upstream_ids
    assert inbound.stats.dead_lettered == 0, inbound.stats
