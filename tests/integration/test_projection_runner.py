"""Projection runners fed by Kafka: batches, re-sends, several runners, equal to a rebuild."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from uuid import uuid4

import pytest

from aftersales.bootstrap import build_relay, store_reader
from aftersales.settings import Settings
from aftersales_core.application.services import Services
from consumers import kafka_clients
from consumers.case_events import count_relayed
from consumers.projection_runner import ProjectionRunner
from consumers.relay import Relay
from projections import positions
from projections.catalog import all_projections
from projections.db import ReadDatabase
from projections.rebuild import rebuild
from tests.factories import T0, caller
from tests.integration.test_projections import TABLES, busy_day
from tests.kafka_fixtures import TestBroker
from tests.pipeline import eventually, pipeline_settings, projected_everything

pytestmark = pytest.mark.kafka


@pytest.fixture(params=["sqlite", "postgres"])
def read_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'read.sqlite'}"
    url, schema = request.getfixturevalue("pg_schema")
    return f"{url}?options=-csearch_path%3D{schema}"


def runner(settings: Settings, url: str, group: str) -> ProjectionRunner:
    assert settings.kafka_bootstrap_servers
    return ProjectionRunner(ReadDatabase(url), all_projections(),
                            partial(kafka_clients.consumer, settings.kafka_bootstrap_servers,
                                    group), settings.case_events_topic)


def snapshot(db: ReadDatabase) -> dict[str, list[dict[str, object]]]:
    """Every table's rows, sorted (row order in SQL is not part of a table's content)."""
    return {t: sorted(db.query(f"SELECT * FROM {t}"), key=repr) for t in TABLES}


def rebuilt(app: Services, tmp_path: Path) -> dict[str, list[dict[str, object]]]:
    db = ReadDatabase(f"sqlite:///{tmp_path / f'rebuild-{uuid4().hex}.sqlite'}")
    rebuild(db, None, store_reader(app))
    return snapshot(db)


class Running:
    def __init__(self) -> None:
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.failures: list[BaseException] = []

    def start(self, work: object) -> None:
        def guarded() -> None:
            try:
                work.run(self.stop)  # type: ignore[attr-defined]
            except BaseException as error:
                self.failures.append(error)
                raise

        thread = threading.Thread(target=guarded, daemon=True)
        thread.start()
        self.threads.append(thread)

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


@pytest.fixture
def running() -> Iterator[Running]:
    workers = Running()
    yield workers
    workers.close()


def caught_up(url: str, app: Services, settings: Settings) -> bool:
    """Every projection in the read database at url has applied the whole store."""
    assert settings.kafka_bootstrap_servers
    return projected_everything(url, app, settings.kafka_bootstrap_servers,
                                settings.case_events_topic)


def test_runner_tables_equal_a_rebuild_from_the_store(
        app: Services, sqlite_url: str, read_url: str, kafka_broker: TestBroker,
        topic_prefix: str, running: Running, tmp_path: Path) -> None:
    settings = pipeline_settings(Settings(database_url=sqlite_url),
                                 kafka_broker.bootstrap_servers, topic_prefix)
    busy_day(app)
    one = runner(settings, read_url, settings.projections_group)
    running.start(build_relay(app, settings))
    running.start(one)
    eventually(lambda: caught_up(read_url, app, settings), 60, "runner caught up",
               running.failures)
    assert snapshot(ReadDatabase(read_url)) == rebuilt(app, tmp_path)


def test_relay_re_sends_change_nothing_and_two_runners_split_the_partitions(
        app: Services, sqlite_url: str, kafka_broker: TestBroker, topic_prefix: str,
        running: Running, tmp_path: Path) -> None:
    settings = pipeline_settings(Settings(database_url=sqlite_url),
                                 kafka_broker.bootstrap_servers, topic_prefix)
    busy_day(app)
    read = f"sqlite:///{tmp_path / 'read.sqlite'}"
    group = settings.projections_group
    first, second = runner(settings, read, group), runner(settings, read, group)
    running.start(first)
    running.start(second)
    eventually(lambda: len(first.stats.assigned) + len(second.stats.assigned) == 6
               and bool(first.stats.assigned) and bool(second.stats.assigned), 60,
               "both runners hold partitions", running.failures)
    running.start(build_relay(app, settings))
    eventually(lambda: caught_up(read, app, settings), 60, "runners caught up",
               running.failures)
    # a second relay (another tracking name) publishes every event again: all duplicates
    again = Relay(app.store.recorder, app.store.factory.tracking_recorder(),
                  partial(kafka_clients.producer, kafka_broker.bootstrap_servers),
                  settings.case_events_topic, name="replay")
    stored = app.store.recorder.max_notification_id() or 0
    running.start(again)
    eventually(lambda: again.stats.position == stored, 60, "re-sent", running.failures)
    published = count_relayed(app.store.recorder, 0)[0]  # principals' events stay inside
    eventually(lambda: first.stats.events + second.stats.events >= 2 * published, 60,
               "duplicates consumed", running.failures)
    assert first.stats.events > 0 and second.stats.events > 0  # both got partitions
    assert snapshot(ReadDatabase(read)) == rebuilt(app, tmp_path)


def test_commands_keep_flowing_into_the_projections(
        app: Services, sqlite_url: str, kafka_broker: TestBroker, topic_prefix: str,
        running: Running, tmp_path: Path) -> None:
    settings = pipeline_settings(Settings(database_url=sqlite_url),
                                 kafka_broker.bootstrap_servers, topic_prefix)
    busy_day(app)
    read = f"sqlite:///{tmp_path / 'read.sqlite'}"
    one = runner(settings, read, settings.projections_group)
    running.start(build_relay(app, settings))
    running.start(one)
    refund = app.refunds.request(caller(app, "agent-1"), case_id=uuid4(), order_id="o-3",
                                 source="goodwill", reason="late", at=T0 + timedelta(days=9),
                                 amount=Decimal("5.00"))
    view = ReadDatabase(read)
    eventually(lambda: view.query("SELECT status FROM cases WHERE case_id = ?",
                                  (str(refund.case_id),)) == [{"status": "approved"}],
               60, "the new refund is visible", running.failures)


def test_a_runner_whose_offsets_are_past_the_partitions_end_reads_it_again(
        app: Services, sqlite_url: str, kafka_broker: TestBroker, topic_prefix: str,
        running: Running, tmp_path: Path) -> None:
    """A topic re-created, or a local broker (memory only) restarted: the offsets stored with
    the rows are beyond every partition's end, and a runner seeking there would wait for ever
    while the relay publishes. It reads each such partition again from its beginning,
    skipping by store position what it applied, and the stored offsets follow the topic."""
    settings = pipeline_settings(Settings(database_url=sqlite_url),
                                 kafka_broker.bootstrap_servers, topic_prefix)
    busy_day(app)
    read = f"sqlite:///{tmp_path / 'read.sqlite'}"
    running.start(build_relay(app, settings))
    first = runner(settings, read, settings.projections_group)
    running.start(first)
    eventually(lambda: caught_up(read, app, settings), 60, "runner caught up",
               running.failures)
    first_stop = running.stop
    first_stop.set()  # the runner (and the relay) stop: another broker's topic comes
    for thread in running.threads:
        thread.join(timeout=30)
    running.stop, running.threads = threading.Event(), []
    db = ReadDatabase(read)
    with db.transaction() as tx:  # what the read database holds of the topic it knew
        tx.execute("UPDATE projection_positions SET next_offset = next_offset + 1000")
    db.close()
    app.complaints.file(caller(app, "customer-c-3"), case_id=uuid4(), order_id="o-3",
                        channel="chat", category="service", description="after the restart",
                        at=T0 + timedelta(days=9))
    running.start(build_relay(app, settings))
    running.start(runner(settings, read, settings.projections_group))
    topic = settings.case_events_topic

    def at_the_ends() -> bool:  # (Tansu's end offsets count batches: not compared with them)
        check = ReadDatabase(read)
        try:
            with check.transaction() as tx:
                loaded = [positions.load(tx, p.name) for p in all_projections()]
        finally:
            check.close()
        return not any(count_relayed(app.store.recorder, where.highest())[0]
                       for where in loaded) and \
            all(offset < 1000 for where in loaded
                for (source, _), (offset, _) in where.parts.items() if source == topic)

    eventually(at_the_ends, 60, "the new event applied, offsets back within the topic",
               running.failures)
    assert snapshot(ReadDatabase(read)) == rebuilt(app, tmp_path)
