"""Consumers whose brokers stop answering say so: kafka-python's poll returns nothing for ever
when no broker answers, so an inbound consumer or a projection runner used to look idle and
healthy (``/healthz`` 200) with its brokers gone or its bootstrap address wrong. Each runs
against a broker of its own here (Tansu, which starts at once), killed and started again on
the same port, so no other test's broker is touched.

And a consumer the client stops feeding (records on the brokers, polls empty: kafka-python
3.0.x has had such bugs) starts afresh instead of waiting for the next rebalance."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from random import Random
from typing import Any

import pytest
from kafka.consumer.subscription_state import ConsumerRebalanceListener

from aftersales.bootstrap import build_inbound, build_projection_runner, open_app
from aftersales.brokers import BrokerProcess, start_broker
from aftersales.brokers.process import free_port
from aftersales.observability import health
from aftersales.settings import Settings, eventsourcing_env
from consumers import kafka_clients
from consumers.broker_watch import BrokerWatch
from tests.factories import order_placed
from tests.integration.test_worker_failures import quick_policy
from tests.kafka_fixtures import TestBroker
from tests.pipeline import as_message, eventually, pipeline_settings, publish
from workers.error_policy import ErrorPolicy

pytestmark = pytest.mark.kafka
QUIET_S = 1.0  # the watch's patience here (30 s in production)


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[list[BrokerProcess]]:
    """A Tansu broker for this test alone (a list: the test replaces it after a restart)."""
    held = [start_broker("tansu", tmp_path / "broker")]
    try:
        yield held
    finally:
        held[0].stop()


def status_of(name: str, worker: Any, thread: threading.Thread) -> tuple[int, dict[str, Any]]:
    return health({name: worker}, lambda _: thread.is_alive())


def running(worker: Any) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    return thread, stop


def test_an_inbound_consumer_whose_broker_dies_turns_unhealthy_and_recovers_when_it_is_back(
        tmp_path: Path, own_broker: list[BrokerProcess], topic_prefix: str) -> None:
    base = Settings(database_url=f"sqlite:///{tmp_path / 'e.sqlite'}")
    settings = pipeline_settings(base, own_broker[0].bootstrap_servers, topic_prefix)
    port = int(own_broker[0].bootstrap_servers.rsplit(":", 1)[1])
    app = open_app(eventsourcing_env(settings.database_url))
    consumer = build_inbound(app, settings, quick_policy())
    consumer.broker_watch = BrokerWatch(after=QUIET_S)
    thread, stop = running(consumer)
    try:
        publish(settings, settings.orders_topic, [as_message(order_placed("o-before"))])
        eventually(lambda: consumer.stats.applied == 1, 60, "the first order applied")
        time.sleep(QUIET_S * 4)  # idle with its broker up: empty polls, a coordinator
        assert status_of("inbound", consumer, thread)[0] == 200
        assert consumer.streak.in_a_row == 0
        own_broker[0].stop()
        eventually(lambda: status_of("inbound", consumer, thread)[0] == 503, 60,
                   "health says the consumer keeps failing")
        body = status_of("inbound", consumer, thread)[1]
        assert body["workers"] == {"inbound": "failing"}
        assert body["failing"]["inbound"]["error"] in ("BrokerUnreachable", "KafkaTimeoutError",
                                                        "NoBrokersAvailable")
        assert thread.is_alive()  # backing off and trying again, not dead
        own_broker[0] = start_broker("tansu", tmp_path / "broker-again", port)
        settings = pipeline_settings(base, own_broker[0].bootstrap_servers, topic_prefix)
        publish(settings, settings.orders_topic, [as_message(order_placed("o-after"))])
        eventually(lambda: consumer.stats.applied == 2, 90, "the order sent after the restart")
        eventually(lambda: status_of("inbound", consumer, thread)[0] == 200, 30,
                   "health is ok again")
    finally:
        stop.set()
        thread.join(timeout=30)
    app.close()


def test_a_projection_runner_pointed_where_no_broker_listens_is_unhealthy(
        tmp_path: Path, topic_prefix: str) -> None:
    nowhere = f"127.0.0.1:{free_port()}"
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'e.sqlite'}",
                        read_database_url=f"sqlite:///{tmp_path / 'r.sqlite'}",
                        kafka_bootstrap_servers=nowhere,
                        projections_group=f"{topic_prefix}-projections",
                        case_events_topic=f"{topic_prefix}-case-events")
    runner = build_projection_runner(settings, quick_policy())
    runner.broker_watch = BrokerWatch(after=QUIET_S)
    thread, stop = running(runner)
    try:
        eventually(lambda: status_of("projections", runner, thread)[0] == 503, 60,
                   "health says the runner keeps failing")
        body = status_of("projections", runner, thread)[1]
        assert body["failing"]["projections"]["error"] == "BrokerUnreachable"
        assert body["failing"]["projections"]["failures_in_a_row"] >= 2
        assert nowhere not in str(body)  # the health body names no address
    finally:
        stop.set()
        thread.join(timeout=30)
    runner.db.close()


def test_an_inbound_consumer_turns_unhealthy_when_its_watch_is_as_patient_as_its_settling(
        tmp_path: Path, topic_prefix: str) -> None:
    """In production both are 30 s: the idle polls just before the watch raises are past the
    policy's settling time, and used to end the failures in a row each time, so the consumer
    said "failure 1 in a row" for ever and its health stayed 200."""
    nowhere = f"127.0.0.1:{free_port()}"
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'e.sqlite'}",
                        kafka_bootstrap_servers=nowhere,
                        inbound_group=f"{topic_prefix}-inbound")
    app = open_app(eventsourcing_env(settings.database_url))
    policy = ErrorPolicy(first_delay=0.05, max_delay=0.4, settle=QUIET_S, rng=Random(12))
    consumer = build_inbound(app, settings, policy)
    consumer.broker_watch = BrokerWatch(after=QUIET_S)
    thread, stop = running(consumer)
    try:
        eventually(lambda: status_of("inbound", consumer, thread)[0] == 503, 20,
                   "health says the consumer keeps failing")
        body = status_of("inbound", consumer, thread)[1]
        assert body["failing"]["inbound"]["error"] == "BrokerUnreachable"
    finally:
        stop.set()
        thread.join(timeout=30)
    app.close()


class StuckClient:
    """The first ``stuck`` consumers made (all of them: None) are stuck ones: each pauses
    whatever it is assigned, as it is assigned, so it is never given a record (as a client bug
    that stops fetching a partition); every later consumer is a plain one."""

    def __init__(self, servers: str, group: str, stuck: int | None = 1) -> None:
        self.servers, self.group, self.stuck, self.made = servers, group, stuck, 0

    def __call__(self) -> Any:
        self.made += 1
        consumer = kafka_clients.consumer(self.servers, self.group)
        if self.stuck is None or self.made <= self.stuck:
            subscribe = consumer.subscribe

            class PauseOnAssign(ConsumerRebalanceListener):
                def on_partitions_revoked(self, revoked: Any) -> None:
                    pass

                def on_partitions_assigned(self, assigned: Any) -> None:
                    consumer.pause(*assigned)

            consumer.subscribe = lambda topics: subscribe(topics, listener=PauseOnAssign())
        return consumer


def test_an_inbound_consumer_not_given_records_that_exist_starts_a_new_consumer(
        tmp_path: Path, kafka_broker: TestBroker, topic_prefix: str,
        caplog: pytest.LogCaptureFixture) -> None:
    settings = pipeline_settings(Settings(database_url=f"sqlite:///{tmp_path / 'e.sqlite'}"),
                                 kafka_broker.bootstrap_servers, topic_prefix)
    app = open_app(eventsourcing_env(settings.database_url))
    publish(settings, settings.orders_topic,
            [as_message(order_placed(f"o-{n}")) for n in range(3)])
    consumer = build_inbound(app, settings, quick_policy())
    consumer.make_consumer = stuck = StuckClient(kafka_broker.bootstrap_servers,
                                                 settings.inbound_group)
    consumer.broker_watch = BrokerWatch(after=QUIET_S)
    thread, stop = running(consumer)
    try:
        eventually(lambda: consumer.stats.applied == 3, 90, "the orders applied")
        assert stuck.made >= 2  # the stuck consumer was replaced
        assert any("PartitionsStuck" in r.getMessage() and "gave no records" in r.getMessage()
                   for r in caplog.records), [r.getMessage() for r in caplog.records]
        eventually(lambda: status_of("inbound", consumer, thread)[0] == 200, 30,
                   "health is ok")
    finally:
        stop.set()
        thread.join(timeout=30)
    app.close()


def test_an_inbound_consumer_that_stays_stuck_turns_unhealthy(
        tmp_path: Path, kafka_broker: TestBroker, topic_prefix: str) -> None:
    """Each new consumer is stuck again: the idle polls between its restarts prove nothing
    (records exist that it is not given), so the failures add up and health says failing,
    with the watch as patient as the policy's settling, as in production."""
    settings = pipeline_settings(Settings(database_url=f"sqlite:///{tmp_path / 'e.sqlite'}"),
                                 kafka_broker.bootstrap_servers, topic_prefix)
    app = open_app(eventsourcing_env(settings.database_url))
    publish(settings, settings.orders_topic, [as_message(order_placed("o-1"))])
    policy = ErrorPolicy(first_delay=0.05, max_delay=0.4, settle=QUIET_S, rng=Random(12))
    consumer = build_inbound(app, settings, policy)
    consumer.make_consumer = StuckClient(kafka_broker.bootstrap_servers,
                                         settings.inbound_group, stuck=None)
    consumer.broker_watch = BrokerWatch(after=QUIET_S)
    thread, stop = running(consumer)
    try:
        eventually(lambda: status_of("inbound", consumer, thread)[0] == 503, 90,
                   "health says the consumer keeps failing")
        body = status_of("inbound", consumer, thread)[1]
        assert body["failing"]["inbound"]["error"] == "PartitionsStuck"
        assert consumer.stats.applied == 0
    finally:
        stop.set()
        thread.join(timeout=30)
    app.close()
