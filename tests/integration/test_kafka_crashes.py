"""kill -9 of the pipeline's processes at random moments (SPEC §7): after restarts nothing is
lost and nothing is doubled. The workers run as real `aftersales run` processes on a SQLite
file shared with the test. Everything random comes from a seeded random.Random (override the
seed with AFTERSALES_CRASH_SEED to replay or explore): the commands submitted, and each kill
moment as a count of the worker's durable progress (kill once the relay has published the Nth
event, the runner applied position N, the consumer applied N facts), never a wall-clock sleep."""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from random import Random
from typing import Any

import pytest

from aftersales.bootstrap import open_app, store_reader
from aftersales.settings import Settings, eventsourcing_env
from aftersales_core.application.services import Services
from aftersales_core.domain.ids import case_id_for, order_aggregate_id
from aftersales_core.domain.order import Order
from projections.db import ReadDatabase
from projections.rebuild import rebuild as rebuild_projections
from tests.crash_helpers import (
    LINES,
    Desk,
    StoreView,
    WorkerProcess,
    check_case_events,
    kill_once,
    lag,
    private_positions,
    read_to_end,
    wait_for,
)
from tests.factories import T0, delivered_order, order_paid, order_placed, shipment
from tests.integration.test_projection_runner import TABLES
from tests.kafka_fixtures import TestBroker
from tests.pipeline import as_message, pipeline_settings, projected_everything, publish

pytestmark = pytest.mark.kafka

SEED = int(os.environ.get("AFTERSALES_CRASH_SEED", "20260302"))


def crash_settings(tmp_path: Path, servers: str, prefix: str) -> Settings:
    base = Settings(database_url=f"sqlite:///{tmp_path / 'events.sqlite'}",
                    read_database_url=f"sqlite:///{tmp_path / 'read.sqlite'}")
    return pipeline_settings(base, servers, prefix)


def test_relay_killed_at_random_moments_publishes_every_event_in_order(
    kafka_broker: TestBroker, tmp_path: Path, topic_prefix: str
) -> None:
    rng = Random(SEED)
    settings = crash_settings(tmp_path, kafka_broker.bootstrap_servers, topic_prefix)
    app = open_app(eventsourcing_env(settings.database_url))
    relay = WorkerProcess("relay", settings, tmp_path / "relay.log")
    tracking = app.store.factory.tracking_recorder()
    tracked = f"relay:{settings.case_events_topic}"

    def position() -> int:
        return tracking.max_tracking_id(tracked) or 0

    try:
        orders = [f"o-{n}" for n in range(10)]
        for order_id in orders:
            delivered_order(app, order_id, lines=LINES, customer_id=f"c-{order_id}")
        desk = Desk(app, rng, orders)
        kills = rng.randint(3, 5)
        marks = []
        relay.start()
        for _ in range(kills):
            desk.submit_many(rng.randint(5, 40))
            stored = app.store.recorder.max_notification_id() or 0
            marks.append(rng.randint(position(), stored))  # starting up, publishing, or idle
            kill_once(relay, position, marks[-1], "relay published position")
            desk.submit_many(rng.randint(0, 10))  # commands still accepted: the store is truth
            relay.start()
        stored = app.store.recorder.max_notification_id() or 0
        wait_for(lambda: position() == stored, 60, f"relay caught up with position {stored}",
                 relay.check_alive, interval=0.1)
        assert relay.stop() == 0, relay.log_tail()
        assert relay.kills == kills
        private = private_positions(app, stored)
    finally:
        relay.stop()
        app.close()

    context = f"seed {SEED}, kills at positions {marks}, {stored} events, {desk.done}"
    check_case_events(kafka_broker.bootstrap_servers, settings.case_events_topic, stored,
                      private, context)


def upstream_messages(rng: Random, n_orders: int = 50) -> tuple[list[dict[str, Any]],
                                                                list[dict[str, Any]]]:
    """About 300 valid upstream messages: orders placed and paid, shipments scanned to the
    door, a few parcels Lost (complaint and refund by policy) and a few orders cancelled."""
    orders: list[dict[str, Any]] = []
    scans: list[dict[str, Any]] = []
    for n in range(n_orders):
        order_id = f"o-{n}"
        start = T0 + timedelta(hours=n)
        placed = order_placed(order_id, customer_id=f"c-{n % 7}", at=start,
                              market=rng.choice(["DE", "FR", "NL", "GB"]))
        orders += [placed, order_paid(placed)]
        fate = "lost" if n % 9 == 4 else "cancelled" if n % 11 == 7 else "delivered"
        if fate == "cancelled":
            orders.append({"event_id": f"{order_id}-cancelled", "event_type": "OrderCancelled",
                           "occurred_at": (start + timedelta(hours=1)).isoformat(),
                           "order_id": order_id, "reason": "customer changed their mind"})
            continue
        route = ["Dispatched", "InTransit", "Lost"] if fate == "lost" else [
            "Dispatched", "CustomsReleased", "InTransit", "OutForDelivery", "Delivered"]
        scans += [shipment(order_id, scan, start + timedelta(days=1, hours=k))
                  for k, scan in enumerate(route)]
    return orders, scans


def test_inbound_consumer_killed_at_random_moments_applies_every_event_exactly_once(
    kafka_broker: TestBroker, tmp_path: Path, topic_prefix: str
) -> None:
    rng = Random(SEED + 1)
    settings = crash_settings(tmp_path, kafka_broker.bootstrap_servers, topic_prefix)
    orders, scans = upstream_messages(rng)
    publish(settings, settings.orders_topic, [as_message(m) for m in orders])
    publish(settings, settings.shipments_topic, [as_message(m) for m in scans])
    every = orders + scans
    expected_ids = {m["event_id"] for m in every}
    assert len(expected_ids) == len(every) >= 290
    app = open_app(eventsourcing_env(settings.database_url))
    view = StoreView(app)
    inbound = WorkerProcess("inbound", settings, tmp_path / "inbound.log")
    kills = rng.randint(3, 5)
    # kill once the store holds at least this many of the facts (random, increasing)
    marks = sorted(rng.sample(range(15, len(every) - 15), kills))

    def applied() -> set[str]:
        view.refresh()
        return set(view.upstream_ids)

    try:
        for mark in marks:
            inbound.start()
            kill_once(inbound, lambda: len(applied()), mark, "facts applied")
        inbound.start()
        servers = kafka_broker.bootstrap_servers
        topics = [settings.orders_topic, settings.shipments_topic]
        wait_for(lambda: applied() == expected_ids, 90,
                 "every upstream fact applied", inbound.check_alive, interval=0.1)
        wait_for(lambda: not any(lag(servers, topics, settings.inbound_group).values()), 60,
                 "offsets committed to the end", inbound.check_alive, interval=0.2)
        assert inbound.stop() == 0, inbound.log_tail()
        view.refresh()
        context = f"seed {SEED + 1}, kills at {marks}"
        doubled = {k: n for k, n in view.upstream_ids.items() if n != 1}
        assert not doubled, f"applied more than once: {doubled}; {context}"
        assert set(view.upstream_ids) == expected_ids, context
        check_effects(app, view, orders, scans, context)
        assert read_to_end(servers, settings.dlq_topic) == [], "valid messages dead-lettered"
    finally:
        inbound.stop()
        app.close()


def check_effects(app: Services, view: StoreView, orders: list[dict[str, Any]],
                  scans: list[dict[str, Any]], context: str, other_refunds: int = 0) -> None:
    """One Paid per order, one complaint and one refund per Lost parcel, one refund per
    cancellation; nothing else opened (but ``other_refunds`` a desk requested), and no order
    refunded beyond what was paid."""
    lost = [s["event_id"] for s in scans if s["event_type"] == "Lost"]
    cancelled = [m["order_id"] for m in orders if m["event_type"] == "OrderCancelled"]
    assert lost and cancelled
    for placed in (m for m in orders if m["event_type"] == "OrderPlaced"):
        aggregate = str(order_aggregate_id(placed["order_id"]))
        for topic in ("Placed", "Paid"):
            assert view.types[(aggregate, f"aftersales.order.{topic}")] == 1, (placed, context)
        order = app.store.load(Order, order_aggregate_id(placed["order_id"]))
        assert sum(order.refunds.values(), Decimal(0)) <= Decimal(placed["total"]), context
    complaints = {str(case_id_for("complaint", f"logistics:{e}")) for e in lost}
    refunds = {str(case_id_for("refund", f"logistics:{e}")) for e in lost} | {
        str(case_id_for("refund", f"cancellation:{o}")) for o in cancelled}
    filed = {a: n for (a, t), n in view.types.items() if t == "aftersales.complaint.Filed"}
    requested = {a: n for (a, t), n in view.types.items() if t == "aftersales.refund.Requested"}
    assert filed == dict.fromkeys(complaints, 1), context
    assert set(requested.values()) == {1} and refunds <= set(requested), context
    assert len(requested) == len(refunds) + other_refunds, context


def test_projection_runner_killed_at_random_moments_equals_a_rebuild(
    kafka_broker: TestBroker, tmp_path: Path, topic_prefix: str
) -> None:
    rng = Random(SEED + 1)
    settings = crash_settings(tmp_path, kafka_broker.bootstrap_servers, topic_prefix)
    app = open_app(eventsourcing_env(settings.database_url))
    relay = WorkerProcess("relay", settings, tmp_path / "relay.log")
    runner = WorkerProcess("projections", settings, tmp_path / "projections.log")
    read_db = ReadDatabase(settings.read_database_url)

    def applied() -> int:
        """The highest store position the runner has applied (0 before its tables exist)."""
        if "projection_positions" not in read_db.tables():
            return 0
        [row] = read_db.query("SELECT MAX(max_position) AS top FROM projection_positions")
        return int(row["top"] or 0)

    try:
        orders = [f"o-{n}" for n in range(10)]
        for order_id in orders:
            delivered_order(app, order_id, lines=LINES, customer_id=f"c-{order_id}")
        desk = Desk(app, rng, orders)
        relay.start()
        runner.start()
        kills = rng.randint(3, 5)
        marks = []
        for _ in range(kills):
            desk.submit_many(rng.randint(5, 40))
            stored = app.store.recorder.max_notification_id() or 0
            marks.append(rng.randint(applied(), stored))  # joining the group, applying, idle
            kill_once(runner, applied, marks[-1], "runner applied position")
            desk.submit_many(rng.randint(0, 10))
            runner.start()
        stored = app.store.recorder.max_notification_id() or 0
        view = ReadDatabase(settings.read_database_url)

        def caught_up() -> bool:
            assert settings.kafka_bootstrap_servers
            return projected_everything(settings.read_database_url, app,
                                        settings.kafka_bootstrap_servers,
                                        settings.case_events_topic)

        wait_for(caught_up, 90, f"projections caught up with position {stored}",
                 runner.check_alive, interval=0.2)
        fresh = ReadDatabase(f"sqlite:///{tmp_path / 'rebuilt.sqlite'}")
        rebuild_projections(fresh, None, store_reader(app))
        rebuilt = {t: sorted(fresh.query(f"SELECT * FROM {t}"), key=repr) for t in TABLES}

        def live() -> dict[str, list[dict[str, Any]]]:
            return {t: sorted(view.query(f"SELECT * FROM {t}"), key=repr) for t in TABLES}

        # the highest position applied is the store's end; the other partitions may still be
        # applying their last batch: wait for them rather than race them
        wait_for(lambda: live() == rebuilt, 90, "every partition applied", runner.check_alive,
                 interval=0.2)
        assert runner.stop() == 0, runner.log_tail()
        assert live() == rebuilt, f"seed {SEED + 1}, kills at positions {marks}, {stored} events"
    finally:
        runner.stop()
        relay.stop()
        app.close()
