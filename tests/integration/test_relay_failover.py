"""Two relays on one store: one leads, the other stands by and takes over when the leader is
killed with kill -9; the topic holds every stored event, none re-sent under a new id, each
case's events in order (PostgreSQL: an advisory lock; SQLite: a lock file)."""

from __future__ import annotations

import time
from pathlib import Path
from random import Random

import pytest

from aftersales.bootstrap import open_app
from aftersales.settings import Settings, eventsourcing_env
from tests.crash_helpers import (
    LINES,
    Desk,
    WorkerProcess,
    check_case_events,
    private_positions,
    wait_for,
)
from tests.factories import delivered_order
from tests.kafka_fixtures import TestBroker
from tests.pipeline import pipeline_settings

pytestmark = pytest.mark.kafka
LEADS = "leads now"


def leads(worker: WorkerProcess) -> int:
    """How often this worker took the lead (its log says so each time)."""
    return worker.log_path.read_text(errors="replace").count(LEADS) \
        if worker.log_path.exists() else 0


def alive(workers: list[WorkerProcess]) -> None:
    for worker in workers:
        worker.check_alive()


def since_start(worker: WorkerProcess, mark: str) -> bool:
    """The worker runs and its log says ``mark`` since it last started."""
    text = worker.log_path.read_text(errors="replace") if worker.log_path.exists() else ""
    return worker.running() and text.find(mark, text.rfind(f"--- start {worker.starts} ---")) >= 0


def leading(worker: WorkerProcess) -> bool:
    return since_start(worker, LEADS)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_the_standby_relay_takes_over_from_a_killed_leader_without_gap_or_reordering(
    backend: str, kafka_broker: TestBroker, tmp_path: Path, topic_prefix: str,
    request: pytest.FixtureRequest,
) -> None:
    if backend == "sqlite":
        base = Settings(database_url=f"sqlite:///{tmp_path / 'events.sqlite'}")
    else:
        url, schema = request.getfixturevalue("pg_schema")
        base = Settings(database_url=url, postgres_schema=schema)
    settings = pipeline_settings(base, kafka_broker.bootstrap_servers, topic_prefix)
    app = open_app(eventsourcing_env(settings.database_url, settings.postgres_schema))
    tracking = app.store.factory.tracking_recorder()
    tracked = f"relay:{settings.case_events_topic}"
    relays = [WorkerProcess("relay", settings, tmp_path / f"relay-{n}.log") for n in (1, 2)]
    rng = Random(15)
    takeovers: list[float] = []
    try:
        orders = [f"o-{n}" for n in range(6)]
        for order_id in orders:
            delivered_order(app, order_id, lines=LINES, customer_id=f"c-{order_id}")
        desk = Desk(app, rng, orders)
        for relay in relays:
            relay.start()
        wait_for(lambda: sum(leads(r) for r in relays) == 1, 60, "one relay leads",
                 lambda: alive(relays))
        wait_for(lambda: any(since_start(r, "stands by") for r in relays), 60,
                 "the other relay stands by", lambda: alive(relays))
        desk.keep_busy(1.0)
        assert sum(leads(r) for r in relays) == 1, "only one relay leads while it lives"
        for _ in range(3):
            leader, = (r for r in relays if leading(r))
            standby = next(r for r in relays if r is not leader)
            before = leads(standby)
            desk.keep_busy(rng.uniform(0.1, 0.8))
            leader.kill()
            killed_at = time.monotonic()
            desk.keep_busy(0.2)
            wait_for(lambda: leads(standby) > before, 60,  # noqa: B023
                     "the standby relay took over", standby.check_alive, interval=0.05)
            takeovers.append(time.monotonic() - killed_at)
            leader.start()  # back as the standby
            wait_for(lambda: since_start(leader, "running relay"), 60,  # noqa: B023
                     "the restarted relay runs", leader.check_alive)
            desk.keep_busy(rng.uniform(0.2, 0.8))
        stored = app.store.recorder.max_notification_id() or 0
        wait_for(lambda: (tracking.max_tracking_id(tracked) or 0) == stored, 60,
                 f"the leader published up to {stored}",
                 lambda: alive(relays))
        for relay in relays:
            assert relay.stop() == 0, relay.log_tail()
        private = private_positions(app, stored)
    finally:
        for relay in relays:
            relay.stop()
        app.close()
    context = f"{backend}: takeovers after {[round(t, 2) for t in takeovers]} s, {desk.done}"
    print(context)
    check_case_events(kafka_broker.bootstrap_servers, settings.case_events_topic, stored,
                      private, context)
