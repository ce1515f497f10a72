"""More than one process of each role (issue 15): two inbound consumers and two projection
runners sharing six partitions, with a relay and a desk writing commands, through rebalances,
graceful restarts and kill -9. Every upstream fact is applied exactly once, every table equals
a rebuild from the store, and `aftersales status` shows no partition behind; on a SQLite store
and read database, and on PostgreSQL for both."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from random import Random

import pytest

from aftersales.bootstrap import open_app
from aftersales.settings import Settings, eventsourcing_env
from projections.db import ReadDatabase
from tests.crash_helpers import (
    LINES,
    REPO,
    Desk,
    StoreView,
    WorkerProcess,
    lag,
    read_to_end,
    wait_for,
)
from tests.factories import delivered_order
from tests.integration.test_kafka_crashes import check_effects, upstream_messages
from tests.integration.test_projection_runner import rebuilt, snapshot
from tests.kafka_fixtures import TestBroker
from tests.pipeline import as_message, pipeline_settings, projected_everything, publish

pytestmark = pytest.mark.kafka
PARTITIONS = 6


def scale_settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest,
                   servers: str, prefix: str) -> Settings:
    groups = {"inbound_group": f"{prefix}-inbound", "projections_group": f"{prefix}-projections",
              "orders_partitions": PARTITIONS, "shipments_partitions": PARTITIONS,
              "case_events_partitions": PARTITIONS}
    if backend == "sqlite":
        base = Settings(database_url=f"sqlite:///{tmp_path / 'events.sqlite'}",
                        read_database_url=f"sqlite:///{tmp_path / 'read.sqlite'}", **groups)
    else:
        url, schema = request.getfixturevalue("pg_schema")
        base = Settings(database_url=url, postgres_schema=schema,
                        read_database_url=f"{url}?options=-csearch_path%3D{schema}", **groups)
    return pipeline_settings(base, servers, prefix)


def status(worker: WorkerProcess) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-m", "aftersales", "status", "--format", "json"],
                          env=worker.env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found: dict[str, object] = json.loads(done.stdout)
    return found


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_two_inbound_consumers_and_two_runners_through_kills_and_restarts(
    backend: str, kafka_broker: TestBroker, tmp_path: Path, topic_prefix: str,
    request: pytest.FixtureRequest,
) -> None:
    rng = Random(1515)
    servers = kafka_broker.bootstrap_servers
    settings = scale_settings(backend, tmp_path, request, servers, topic_prefix)
    orders, scans = upstream_messages(rng, n_orders=60)
    every = orders + scans
    expected_ids = {m["event_id"] for m in every}
    app = open_app(eventsourcing_env(settings.database_url, settings.postgres_schema))
    view = StoreView(app)
    desk_orders = [f"d-{n}" for n in range(4)]
    for order_id in desk_orders:
        delivered_order(app, order_id, lines=LINES, customer_id=f"c-{order_id}")
    desk = Desk(app, rng, desk_orders)
    inbound = [WorkerProcess("inbound", settings, tmp_path / f"inbound-{n}.log") for n in (1, 2)]
    runners = [WorkerProcess("projections", settings, tmp_path / f"runner-{n}.log")
               for n in (1, 2)]
    relay = WorkerProcess("relay", settings, tmp_path / "relay.log")
    everyone = [*inbound, *runners, relay]

    def alive() -> None:
        for worker in everyone:
            worker.check_alive()

    def applied() -> int:
        view.refresh()
        return len(set(view.upstream_ids) & expected_ids)

    try:
        for worker in everyone:
            worker.start()
        half = len(every) // 2
        publish(settings, settings.orders_topic, [as_message(m) for m in orders[:half]])
        publish(settings, settings.shipments_topic, [as_message(m) for m in scans[:half // 2]])
        desk.keep_busy(rng.uniform(0.5, 1.5))
        wait_for(lambda: applied() >= 20, 120, "the inbound group applies", alive)
        inbound[0].kill()  # kill -9 mid-stream: its partitions go to the other one
        runners[1].kill()
        publish(settings, settings.orders_topic, [as_message(m) for m in orders[half:]])
        desk.keep_busy(rng.uniform(0.3, 1.0))
        inbound[0].start()
        runners[1].start()
        publish(settings, settings.shipments_topic, [as_message(m) for m in scans[half // 2:]])
        desk.keep_busy(rng.uniform(0.3, 1.0))
        assert runners[0].stop() == 0, runners[0].log_tail()  # a graceful restart: rebalance
        desk.keep_busy(rng.uniform(0.2, 0.6))
        runners[0].start()
        inbound[1].kill()
        desk.keep_busy(rng.uniform(0.2, 0.6))
        inbound[1].start()
        desk.keep_busy(0.5)

        wait_for(lambda: applied() == len(expected_ids), 180, "every upstream fact applied",
                 alive, interval=0.2)
        topics = [settings.orders_topic, settings.shipments_topic]
        wait_for(lambda: not any(lag(servers, topics, settings.inbound_group).values()), 120,
                 "inbound offsets committed to the end", alive, interval=0.5)
        stored = app.store.recorder.max_notification_id() or 0
        wait_for(lambda: projected_everything(settings.read_database_url, app, servers,
                                              settings.case_events_topic), 180,
                 f"projections caught up with position {stored}", alive, interval=0.5)
        expected = rebuilt(app, tmp_path)
        live = ReadDatabase(settings.read_database_url)
        wait_for(lambda: snapshot(live) == expected, 120, "every partition applied", alive,
                 interval=0.5)
        shown = status(relay)
        projections = shown["projections"]
        assert isinstance(projections, list)
        for row in projections:
            assert row["partition_lag"] == {str(p): 0 for p in range(PARTITIONS)}, row
        for worker in everyone:
            assert worker.stop() == 0, worker.log_tail()
        context = f"{backend}: {stored} events, {desk.done}"
        view.refresh()
        doubled = {k: n for k, n in view.upstream_ids.items() if n != 1}
        assert not doubled, f"applied more than once: {doubled}; {context}"
        check_effects(app, view, orders, scans, context, other_refunds=desk.done["goodwill"])
        assert read_to_end(servers, settings.dlq_topic) == [], "valid messages dead-lettered"
        assert snapshot(live) == expected, context
    finally:
        for worker in everyone:
            worker.stop()
        app.close()
