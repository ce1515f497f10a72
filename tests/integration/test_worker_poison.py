"""No single message stops or crash-loops a worker (issue 9), on the real broker: the
projection runner, fed records on the case-events topic that are not case events, or events a
projection cannot take, leaves them out, dead-letters them with where they came from, moves
past them and keeps applying the rest, on SQLite and PostgreSQL read databases.

What is not poison (a bug, an outage, a read database that goes away and comes back) is
retried, never dead-lettered: tests/integration/test_worker_failures.py."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import pytest

from aftersales.bootstrap import build_relay, open_app
from aftersales.settings import Settings, eventsourcing_env
from aftersales_core.application.services import Services
from consumers import kafka_clients
from consumers.projection_runner import ProjectionRunner
from projections.catalog import all_projections
from projections.db import ReadDatabase
from tests.crash_helpers import publish_located, read_to_end
from tests.factories import ingest, order_paid, order_placed, shipment
from tests.integration.test_projection_runner import caught_up, rebuilt, snapshot
from tests.kafka_fixtures import TestBroker
from tests.pipeline import eventually, pipeline_settings

pytestmark = pytest.mark.kafka


def envelope(**changes: Any) -> bytes:
    event = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "x",
             "type": "aftersales.order.Placed", "subject": str(uuid.uuid4()),
             "time": "2026-03-02T09:00:00+00:00", "datacontenttype": "application/json",
             "data": {}, "position": 10**9, "version": 1} | changes
    return orjson.dumps(event)


POISON = {
    b"not json at all": "not_a_case_event",
    b"": "not_a_case_event",
    envelope(time="9999-12-31T23:00:00-14:00"): "not_a_case_event",
    envelope(position="7"): "not_a_case_event",
    envelope(data=[]): "not_a_case_event",
    envelope(data={"customer_id": None}): "unprojectable",  # Placed without its facts
    envelope(type="aftersales.refund.Settled", data={"amount": {"x": 1}}): "unprojectable",
}

def relay_and_runner(app: Services, settings: Settings, read_url: str, stop: threading.Event
                     ) -> tuple[ProjectionRunner, list[threading.Thread]]:
    """A relay and a projection runner with every projection (dead-lettering to the settings'
    topic), each running in a thread of its own until ``stop`` is set."""
    servers = settings.kafka_bootstrap_servers
    assert servers
    relay = build_relay(app, settings)
    runner = ProjectionRunner(
        ReadDatabase(read_url), all_projections(),
        partial(kafka_clients.consumer, servers, settings.projections_group),
        settings.case_events_topic, make_producer=partial(kafka_clients.producer, servers),
        dlq_topic=settings.dlq_topic)
    threads = [threading.Thread(target=w.run, args=(stop,), daemon=True)
               for w in (relay, runner)]
    for thread in threads:
        thread.start()
    return runner, threads


@pytest.fixture(params=["sqlite", "postgres"])
def read_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'read.sqlite'}"
    url, schema = request.getfixturevalue("pg_schema")
    return f"{url}?options=-csearch_path%3D{schema}"


def test_the_projection_runner_leaves_out_and_dead_letters_what_it_cannot_apply(
        tmp_path: Path, read_url: str, kafka_broker: TestBroker, topic_prefix: str) -> None:
    settings = pipeline_settings(Settings(database_url=f"sqlite:///{tmp_path / 'e.sqlite'}"),
                                 kafka_broker.bootstrap_servers, topic_prefix)
    app = open_app(eventsourcing_env(settings.database_url))
    servers = kafka_broker.bootstrap_servers
    stop = threading.Event()
    try:
        placed = order_placed("o-1")
        ingest(app, placed, order_paid(placed),
               shipment("o-1", "Lost", placed_at(placed)))  # opens a complaint and a refund
        poison = publish_located(settings, [(settings.case_events_topic, b"k", value)
                                            for value in POISON])
        runner, threads = relay_and_runner(app, settings, read_url, stop)
        eventually(lambda: caught_up(read_url, app, settings), 90, "the runner applied the store")
        eventually(lambda: runner.stats.dead_lettered == len(POISON), 30, "poison dead-lettered")
        assert all(thread.is_alive() for thread in threads)
        ingest(app, shipment("o-1", "Delivered", placed_at(placed)))  # and it goes on
        eventually(lambda: caught_up(read_url, app, settings), 60, "the runner goes on")
    finally:
        stop.set()
    dead = {(dict(r.headers)["source_partition"], dict(r.headers)["source_offset"]):
            dict(r.headers)["error_type"].decode()
            for r in read_to_end(servers, settings.dlq_topic)}
    for (value, kind), where in zip(POISON.items(), poison, strict=True):
        found = dead[(str(where.partition).encode(), str(where.offset).encode())]
        assert found == kind, (value, found)
    assert runner.stats.skipped_bad + runner.stats.failed >= len(POISON)
    assert snapshot(ReadDatabase(read_url)) == rebuilt(app, tmp_path)
    app.close()


def placed_at(message: dict[str, Any]) -> datetime:
    """Two days after the order was placed."""
    return datetime.fromisoformat(message["occurred_at"]) + timedelta(days=2)
