"""The relay never stalls silently (issue 9), on the real broker.

* The store refuses an event whose message would be too large for the case-events topic
  (measured as the relay will encode it): it cannot be stored, so it cannot stall the relay.
* Should the broker refuse an event anyway (here: a topic configured smaller than the store
  allows), the relay publishes everything before it, records its position, reports the refused
  position in the log and in `aftersales status` (exit 7), and publishes nothing after it; once
  the topic takes it, everything follows with each case's events in order."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

from aftersales import children
from aftersales.bootstrap import build_inbound, build_relay, open_app
from aftersales.brokers import ensure_topics
from aftersales.settings import Settings, eventsourcing_env
from aftersales_core.application.services import Services
from consumers.case_events import EventTooLargeError, is_relayed
from consumers.relay import Relay, refused_position
from tests.crash_helpers import publish_located, read_to_end, wait_for
from tests.factories import ingest, order_paid, order_placed
from tests.kafka_fixtures import CLIENT_API_VERSION, TestBroker
from tests.pipeline import as_message, eventually, pipeline_settings

pytestmark = pytest.mark.kafka
SMALL_TOPIC = 20_000  # the topic's max.message.bytes in these tests
LINES = 500  # an order of 500 lines with long SKUs: its placement is about 130 KB


def big_order(order_id: str) -> dict[str, object]:
    """An order placed with 500 lines of long SKUs: its placement event is as big on the topic
    as in the store (an order's lines are nobody's personal data: nothing of it is sealed and
    sent redacted, as a fact's unknown fields are)."""
    lines = [{"line_id": str(n), "sku": f"SKU-{n:04d}-" + "x" * 180, "category": "home",
              "quantity": 1, "unit_price": "1.00"} for n in range(LINES)]
    return order_placed(order_id, lines=lines)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Services, Settings]]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'events.sqlite'}",
                        read_database_url=f"sqlite:///{tmp_path / 'read.sqlite'}")
    app = open_app(eventsourcing_env(settings.database_url),
                   max_event_bytes=settings.case_event_max_bytes)
    yield app, settings
    app.close()


def test_an_event_too_large_for_the_topic_cannot_be_stored(tmp_path: Path) -> None:
    app = open_app(eventsourcing_env(f"sqlite:///{tmp_path / 'e.sqlite'}"),
                   max_event_bytes=70_000)
    try:
        ingest(app, order_placed("o-1"))
        before = app.store.recorder.max_notification_id()
        with pytest.raises(EventTooLargeError, match="over its limit of 70000 bytes"):
            ingest(app, big_order("o-2"))
        assert app.store.recorder.max_notification_id() == before  # nothing of it was stored
    finally:
        app.close()


def test_on_kafka_an_event_too_large_to_store_is_dead_lettered(
        tmp_path: Path, kafka_broker: TestBroker, topic_prefix: str) -> None:
    settings = pipeline_settings(
        Settings(database_url=f"sqlite:///{tmp_path / 'e.sqlite'}", case_event_max_bytes=70_000),
        kafka_broker.bootstrap_servers, topic_prefix)
    app = open_app(eventsourcing_env(settings.database_url), max_event_bytes=70_000)
    stop = threading.Event()
    try:
        big, after = big_order("o-2"), order_placed("o-3")
        publish_located(settings, [(settings.orders_topic, *as_message(m)) for m in (big, after)])
        consumer = build_inbound(app, settings)
        thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
        thread.start()
        eventually(lambda: consumer.stats.applied + consumer.stats.dead_lettered == 2, 60,
                   "both handled")
        assert consumer.stats.by_kind == {"oversized": 1} and consumer.stats.applied == 1
        assert thread.is_alive()
    finally:
        stop.set()
        app.close()


def small_topic(settings: Settings) -> None:
    """The case-events topic created before the pipeline's: smaller than the store allows."""
    assert settings.kafka_bootstrap_servers
    ensure_topics(settings.kafka_bootstrap_servers, {settings.case_events_topic: 3},
                  configs={settings.case_events_topic: {"max.message.bytes": str(SMALL_TOPIC)}})


def raise_topic_limit(settings: Settings) -> None:
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers,
                             api_version=CLIENT_API_VERSION)
    try:
        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, settings.case_events_topic,
                                            configs={"max.message.bytes": "2000000"})])
    finally:
        admin.close()


def a_busy_store(app: Services) -> int:
    """Orders before and after one big event, and events of its own order after it; returns
    the big event's store position."""
    first, second = order_placed("o-1"), order_placed("o-3")
    ingest(app, first, order_paid(first))
    placed = big_order("o-2")
    ingest(app, placed)
    [big] = [n.id for n in app.store.recorder.select_notifications(1, 100) if len(n.state) > 90_000]
    ingest(app, order_paid(placed), second, order_paid(second))
    assert app.store.recorder.max_notification_id() > big + 2
    return big


def published(settings: Settings) -> list[dict[str, object]]:
    assert settings.kafka_bootstrap_servers
    return [json.loads(r.value) for r in
            read_to_end(settings.kafka_bootstrap_servers, settings.case_events_topic)]


def status(settings: Settings) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AFTERSALES_DATABASE_URL": settings.database_url,
           "AFTERSALES_READ_DATABASE_URL": settings.read_database_url,
           "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers or "",
           "AFTERSALES_CASE_EVENTS_TOPIC": settings.case_events_topic}
    return children.run([sys.executable, "-m", "aftersales", "status", "--format", "json"],
                          env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("who_refuses", ["the relay, knowing the topic's limit",
                                         "the broker"])
def test_a_refused_event_is_reported_and_nothing_after_it_is_published(
        store: tuple[Services, Settings], kafka_broker: TestBroker, topic_prefix: str,
        caplog: pytest.LogCaptureFixture, who_refuses: str) -> None:
    app, base = store
    settings = base.model_copy(update={"kafka_bootstrap_servers": kafka_broker.bootstrap_servers,
                                       "case_events_topic": f"{topic_prefix}-case-events"})
    small_topic(settings)
    settings = pipeline_settings(settings, kafka_broker.bootstrap_servers, topic_prefix)
    big = a_busy_store(app)
    relay: Relay = build_relay(app, settings)
    relay.refused_retry = 0.5
    if who_refuses == "the broker":
        relay.topic_limit = None  # it does not know: the broker itself refuses the event
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    caplog.set_level(logging.ERROR, logger="consumers.relay")
    thread.start()
    try:
        wait_for(lambda: relay.stats.refused_at == big, 60, "the relay reports the refusal")
        assert relay.stats.position == big - 1
        assert sorted(e["position"] for e in published(settings)) == relayed(app, 1, big - 1)
        assert f"STUCK at store position {big}" in caplog.text
        tracking = app.store.factory.tracking_recorder()
        assert refused_position(tracking, settings.case_events_topic) == big
        shown = status(settings)
        assert shown.returncode == 7, shown.stderr
        assert json.loads(shown.stdout)["relay"]["refused_at"] == big
        assert f"STUCK at store position {big}" in shown.stderr
        assert thread.is_alive()

        raise_topic_limit(settings)
        end = app.store.recorder.max_notification_id() or 0
        wait_for(lambda: relay.stats.position == end, 60, "the rest is published")
        assert relay.stats.refused_at is None
        assert refused_position(tracking, settings.case_events_topic) is None
        assert status(settings).returncode == 0
    finally:
        stop.set()
        thread.join(timeout=30)
    events = published(settings)
    assert sorted(e["position"] for e in events) == relayed(app, 1, end)
    versions: dict[object, list[object]] = defaultdict(list)
    for event in events:  # in topic order (per partition): each case's versions ascend
        versions[event["subject"]].append(event["version"])
    assert all(v == sorted(v) for v in versions.values()), versions


def relayed(app: Services, first: int, last: int) -> list[int]:
    """The store positions from first to last the relay publishes (not principals')."""
    return [n.id for n in app.store.recorder.select_notifications(first, last - first + 1)
            if is_relayed(n.topic)]
