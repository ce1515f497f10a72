"""Every worker under the one error policy (workers/error_policy.py), on real components: a
failure of ours (a bug, fixed by a redeploy) or of the infrastructure (the store, the read
database) stops the worker where it is, it backs off and resumes from its last durable position:
nothing is dead-lettered for it, nothing is lost, nothing is applied twice, the worker thread
never dies. Poison next to it is still dead-lettered."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta
from functools import partial
from pathlib import Path
from random import Random
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import pytest
from eventsourcing.persistence import OperationalError

from aftersales.bootstrap import (
    build_inbound,
    build_relay,
    open_app,
    scheduler_principal,
)
from aftersales.brokers.process import free_port
from aftersales.observability import health
from aftersales.settings import Settings, eventsourcing_env
from aftersales_core.application.deadlines import DeadlineService
from aftersales_core.application.services import Services
from aftersales_core.application.upstream import UpstreamService
from consumers import kafka_clients
from consumers.projection_runner import ProjectionRunner
from consumers.relay import Relay
from projections.catalog import all_projections
from projections.db import ReadDatabase
from scheduling.scheduler import Scheduler
from tests.crash_helpers import (
    StoreView,
    check_case_events,
    private_positions,
    publish_located,
    read_to_end,
)
from tests.factories import T0, caller, delivered_order, ingest, order_placed
from tests.integration.test_projection_runner import caught_up, rebuilt, snapshot
from tests.kafka_fixtures import TestBroker
from tests.pipeline import as_message, eventually, pipeline_settings
from tests.tcp_proxy import TcpProxy
from workers.error_policy import ErrorPolicy

FAILURES = 3  # how many times the failing part fails before it works again


def quick_policy() -> ErrorPolicy:
    """The production policy with short delays, so a test waits seconds, not minutes."""
    return ErrorPolicy(first_delay=0.05, max_delay=0.4, rng=Random(12))


def failing_first(error: Exception, times: int = FAILURES) -> Any:
    """A callable that raises ``error`` its first ``times`` calls and counts every call."""
    calls = [0]

    def maybe_fail() -> int:
        calls[0] += 1
        if calls[0] <= times:
            raise error
        return calls[0]

    return maybe_fail


class FailingOnOneOrder(UpstreamService):
    """The real upstream service, failing for one order its first few times (a bug until the
    redeploy, or the store down until it is back)."""

    fail: Any = None

    def order_placed(self, caller: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if kwargs["order_id"] == "o-cursed":
            self.fail()
        return super().order_placed(caller, *args, **kwargs)


BUG = RuntimeError("a bug in the new deploy")
STORE_DOWN = OperationalError("server closed the connection unexpectedly")


@pytest.mark.kafka
@pytest.mark.parametrize("error", [BUG, STORE_DOWN], ids=["ours", "infrastructure"])
def test_inbound_retries_what_is_not_poison_and_dead_letters_only_the_poison(
        error: Exception, tmp_path: Path, kafka_broker: TestBroker, topic_prefix: str) -> None:
    settings = pipeline_settings(Settings(database_url=f"sqlite:///{tmp_path / 'e.sqlite'}"),
                                 kafka_broker.bootstrap_servers, topic_prefix)
    app = open_app(eventsourcing_env(settings.database_url))
    up = app.upstream
    failing = FailingOnOneOrder(up.store, up.work, up.access, up.refunds, up.logistics)
    failing.fail = attempts = failing_first(error)
    app = replace(app, upstream=failing)
    stop = threading.Event()
    try:
        cursed, fine = order_placed("o-cursed"), order_placed("o-fine")
        publish_located(settings, [(settings.orders_topic, *as_message(cursed)),
                                   (settings.orders_topic, b"o-bad", b"{not json"),
                                   (settings.orders_topic, *as_message(fine))])
        consumer = build_inbound(app, settings, quick_policy())
        thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
        thread.start()
        eventually(lambda: consumer.stats.applied == 2 and consumer.stats.dead_lettered > 0,
                   120, "both orders applied and the poison dead-lettered")
        assert thread.is_alive()
        assert consumer.stats.by_kind == {"not_json": 1}
        assert attempts() > FAILURES + 1  # it failed, and was asked again until it worked
    finally:
        stop.set()
        thread.join(timeout=30)  # it has left its group before the next test joins one
    view = StoreView(app)
    view.refresh()
    assert view.upstream_ids == {cursed["event_id"]: 1, fine["event_id"]: 1}
    [dead] = read_to_end(kafka_broker.bootstrap_servers, settings.dlq_topic)
    assert dead.value == b"{not json"
    app.close()


@pytest.mark.kafka
@pytest.mark.postgres
def test_the_runner_waits_out_a_read_database_that_goes_away_and_comes_back(
        tmp_path: Path, pg_schema: tuple[str, str], kafka_broker: TestBroker,
        topic_prefix: str) -> None:
    url, schema = pg_schema
    direct = f"{url}?options=-csearch_path%3D{schema}"
    parts = urlsplit(url)
    assert parts.hostname and parts.port
    proxy = TcpProxy(parts.hostname, parts.port)
    proxy.up()
    netloc = parts.netloc.rsplit(":", 1)[0] + f":{proxy.port}"
    through_proxy = urlunsplit(parts._replace(netloc=netloc)) + \
        f"?options=-csearch_path%3D{schema}"
    settings = pipeline_settings(Settings(database_url=f"sqlite:///{tmp_path / 'e.sqlite'}"),
                                 kafka_broker.bootstrap_servers, topic_prefix)
    app = open_app(eventsourcing_env(settings.database_url))
    servers = kafka_broker.bootstrap_servers
    stop = threading.Event()
    threads: list[threading.Thread] = []
    try:
        ingest(app, order_placed("o-1"))
        runner = ProjectionRunner(
            ReadDatabase(through_proxy), all_projections(),
            partial(kafka_clients.consumer, servers, settings.projections_group),
            settings.case_events_topic, make_producer=partial(kafka_clients.producer, servers),
            dlq_topic=settings.dlq_topic, policy=quick_policy())
        threads += [threading.Thread(target=w.run, args=(stop,), daemon=True)
                    for w in (build_relay(app, settings), runner)]
        for thread in threads:
            thread.start()
        eventually(lambda: caught_up(direct, app, settings), 90, "caught up")
        proxy.down()  # the read database is gone: connections cut, new ones refused
        ingest(app, order_placed("o-2"), order_placed("o-3"))
        eventually(lambda: runner.stats.failures >= 3, 90, "the runner failed, and retried")
        assert not caught_up(direct, app, settings)
        proxy.up()  # and back, on the same address
        eventually(lambda: caught_up(direct, app, settings), 90, "caught up once it is back")
        assert all(thread.is_alive() for thread in threads)
        assert runner.stats.dead_lettered == 0
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        proxy.down()
    assert snapshot(ReadDatabase(direct)) == rebuilt(app, tmp_path)
    app.close()


class FailingRecorder:
    """The store's recorder, whose reads of notifications fail the first few times."""

    def __init__(self, recorder: Any, error: Exception) -> None:
        self.recorder, self.fail = recorder, failing_first(error)

    def select_notifications(self, *args: Any, **kwargs: Any) -> Any:
        self.fail()
        return self.recorder.select_notifications(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.recorder, name)


@pytest.mark.kafka
@pytest.mark.parametrize("error", [BUG, STORE_DOWN], ids=["ours", "infrastructure"])
def test_the_relay_resumes_after_its_failures_and_publishes_everything_in_order(
        error: Exception, tmp_path: Path, kafka_broker: TestBroker, topic_prefix: str) -> None:
    settings = pipeline_settings(Settings(database_url=f"sqlite:///{tmp_path / 'e.sqlite'}"),
                                 kafka_broker.bootstrap_servers, topic_prefix)
    app = open_app(eventsourcing_env(settings.database_url))
    for n in range(3):
        delivered_order(app, f"o-{n}", customer_id=f"c-{n}")
    stored = app.store.recorder.max_notification_id() or 0
    relay = Relay(FailingRecorder(app.store.recorder, error),  # type: ignore[arg-type]
                  app.store.factory.tracking_recorder(),
                  partial(kafka_clients.producer, kafka_broker.bootstrap_servers),
                  settings.case_events_topic, policy=quick_policy())
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    try:
        eventually(lambda: relay.stats.position == stored, 90, "relay published everything")
        assert thread.is_alive() and relay.stats.failures == FAILURES
    finally:
        stop.set()
        thread.join(timeout=30)
    assert check_case_events(kafka_broker.bootstrap_servers, settings.case_events_topic,
                             stored, private_positions(app, stored)) == 0
    app.close()


@pytest.mark.kafka
def test_health_says_a_relay_keeps_failing_while_its_broker_is_unreachable_and_ok_once_back(
        tmp_path: Path, kafka_broker: TestBroker, topic_prefix: str) -> None:
    """Its thread runs (backing off, trying again): health said ok while every try failed."""
    settings = pipeline_settings(Settings(database_url=f"sqlite:///{tmp_path / 'e.sqlite'}"),
                                 kafka_broker.bootstrap_servers, topic_prefix)
    app = open_app(eventsourcing_env(settings.database_url))
    delivered_order(app, "o-1")
    stored = app.store.recorder.max_notification_id() or 0
    broker = [f"127.0.0.1:{free_port()}"]  # nothing listens there
    relay = Relay(app.store.recorder, app.store.factory.tracking_recorder(),
                  lambda: kafka_clients.producer(broker[0], max_block_ms=300,
                                                 request_timeout_ms=300),
                  settings.case_events_topic, policy=quick_policy())
    workers = {"relay": relay}
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    try:
        eventually(lambda: health(workers, lambda _: thread.is_alive())[0] == 503, 60,
                   "health says the relay keeps failing")
        status, body = health(workers, lambda _: thread.is_alive())
        assert status == 503 and body["status"] == "unhealthy"
        assert body["workers"] == {"relay": "failing"}
        assert body["failing"]["relay"]["failures_in_a_row"] >= 2
        assert body["failing"]["relay"]["error"].startswith("Kafka")
        assert body["relay_stuck_at"] is None and relay.stats.position < stored
        broker[0] = kafka_broker.bootstrap_servers  # the broker is reachable again
        eventually(lambda: relay.stats.position == stored, 90, "relay published everything")
        eventually(lambda: health(workers, lambda _: thread.is_alive())[0] == 200, 30,
                   "health is ok again")
        assert health(workers, lambda _: True)[1]["failing"] == {}
    finally:
        stop.set()
        thread.join(timeout=30)
    app.close()


class FailingFiring(DeadlineService):
    fail: Any = None

    def fire(self, *args: Any, **kwargs: Any) -> Any:
        self.fail()
        return super().fire(*args, **kwargs)


@pytest.mark.parametrize("error", [BUG, STORE_DOWN], ids=["ours", "infrastructure"])
def test_the_scheduler_keeps_running_through_failures_and_fires_once_they_stop(
        error: Exception, app: Services) -> None:
    delivered_order(app, "o-1")
    complaint = UUID(int=1)
    app.complaints.file(caller(app, "customer-c-1"), complaint, "platform", "damaged", "broken",
                        T0 + timedelta(days=5), customer_id="c-1")
    d = app.deadlines
    failing = FailingFiring(d.store, d.work, d.access, d.bookkeeping, d.complaints)
    failing.fail = failing_first(error)
    app = replace(app, deadlines=failing)
    scheduler = Scheduler(app, scheduler_principal(app), clock=lambda: T0 + timedelta(days=30),
                          interval=0.05, policy=quick_policy())
    stop = threading.Event()
    thread = threading.Thread(target=scheduler.run, args=(stop,), daemon=True)
    thread.start()
    try:
        eventually(lambda: scheduler.stats.fired >= 2, 60, "both complaint deadlines fired")
        assert thread.is_alive() and scheduler.stats.failed == 0  # nothing counted as refused
    finally:
        stop.set()
        thread.join(timeout=30)
    names = [type(e).__name__ for e in app.store.events.get(complaint)]
    assert names.count("DeadlineBreached") == 2  # once each, however often it was tried
