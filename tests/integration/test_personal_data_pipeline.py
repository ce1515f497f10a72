"""Personal data through the whole pipeline on a real broker: after an erasure, the planted
strings are nowhere: not in the store (SQLite file and WAL, or PostgreSQL tables), not on the
case-events topic, not in the read database the projection runner filled; and the runner
purged the erased customer's id when it applied the erasure."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aftersales.bootstrap import build_relay
from aftersales.settings import Settings
from aftersales_core.application.services import Services
from aftersales_core.personal import ERASED
from projections.db import ReadDatabase
from tests.factories import ADMIN, caller
from tests.integration.test_projection_runner import Running, caught_up, runner
from tests.kafka_fixtures import TestBroker
from tests.personal import plant, postgres_bytes, sqlite_bytes
from tests.pipeline import eventually, pipeline_settings, read_all

pytestmark = pytest.mark.kafka
NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


@pytest.fixture
def running() -> Iterator[Running]:
    workers = Running()
    yield workers
    workers.close()


def test_nothing_personal_reaches_the_topic_or_the_read_database_and_erasure_purges(
    app: Services, store_settings: Settings, kafka_broker: TestBroker, topic_prefix: str,
    running: Running, tmp_path: Path, request: pytest.FixtureRequest,
) -> None:
    settings = pipeline_settings(store_settings, kafka_broker.bootstrap_servers, topic_prefix)
    pg = None if store_settings.postgres_schema is None else request.getfixturevalue("pg_schema")
    read_url = (f"sqlite:///{tmp_path / 'read.sqlite'}" if pg is None
                else f"{pg[0]}?options=-csearch_path%3D{pg[1]}")
    planted = plant(app)
    kept = plant(app, customer_id="c-8", order_id="o-8")
    running.start(build_relay(app, settings))
    running.start(runner(settings, read_url, settings.projections_group))
    eventually(lambda: caught_up(read_url, app, settings), 90, "projections caught up",
               running.failures)
    app.privacy.erase(caller(app, ADMIN), planted.customer_id, "request DSR-9", NOW)
    eventually(lambda: caught_up(read_url, app, settings), 90, "the erasure projected",
               running.failures)

    stored = app.store.recorder.max_notification_id() or 0
    records = read_all(settings, settings.case_events_topic, stored)
    topic = b"\x00".join(r.value + (r.key or b"") + b"".join(v for _, v in r.headers)
                         for r in records)
    assert planted.found_in(topic) == [] and kept.found_in(topic) == []
    assert b'"personal_data":"redacted"' in topic
    assert b"aftersales.customer.PersonalDataErased" in topic
    store = (sqlite_bytes(Path(store_settings.database_url.removeprefix("sqlite:///")))
             if pg is None else postgres_bytes(*pg))
    read = sqlite_bytes(tmp_path / "read.sqlite") if pg is None else postgres_bytes(*pg)
    for raw in (store, read):
        assert planted.found_in(raw) == [] and kept.found_in(raw) == []
    db = ReadDatabase(read_url)
    try:
        by_order = {r["order_id"]: r["customer_id"] for r in
                    db.query("SELECT order_id, customer_id FROM cases")}
        assert by_order == {"o-9": ERASED, "o-8": "c-8"}
        complaints = {r["customer_id"] for r in db.query("SELECT customer_id FROM complaints")}
        assert complaints == {ERASED, "c-8"}
    finally:
        db.close()
