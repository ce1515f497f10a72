"""Helpers for tests of the Kafka pipeline: settings per test, workers in threads, readers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from kafka import KafkaConsumer, TopicPartition

from aftersales.bootstrap import (
    build_case_states,
    build_inbound,
    build_relay,
    ensure_pipeline_topics,
)
from aftersales.settings import Settings
from aftersales_core.application.services import Services
from consumers import kafka_clients
from consumers.case_events import count_relayed
from projections import positions
from projections.catalog import all_projections
from projections.db import ReadDatabase


def pipeline_settings(base: Settings, bootstrap: str, prefix: str) -> Settings:
    """The store settings of the test with topic and consumer group names unique to it: a
    consumer another test left in a shared group (closed late, or not polling) would hold
    this test's join for the rebalance timeout (Kafka waits for every known member)."""
    settings = base.model_copy(update={
        "inbound_group": f"{prefix}-inbound",
        "projections_group": f"{prefix}-projections",
        "kafka_bootstrap_servers": bootstrap,
        "orders_topic": f"{prefix}-orders",
        "shipments_topic": f"{prefix}-shipments",
        "case_events_topic": f"{prefix}-case-events",
        "case_states_topic": f"{prefix}-cases",
        "dlq_topic": f"{prefix}-dlq",
    })
    ensure_pipeline_topics(settings)
    return settings


@contextmanager
def workers(app: Services, settings: Settings, *roles: str) -> Iterator[dict[str, Any]]:
    """Run the inbound consumer and/or the relay in threads for the duration of the block."""
    stop = threading.Event()
    built: dict[str, Any] = {}
    if "inbound" in roles:
        built["inbound"] = build_inbound(app, settings)
    if "relay" in roles:
        built["relay"] = build_relay(app, settings)
    if "case-states" in roles:
        built["case-states"] = build_case_states(app, settings)
    failures: list[BaseException] = []
    built["failures"] = failures

    def guarded(work: Callable[[threading.Event], None]) -> None:
        try:
            work(stop)
        except BaseException as error:  # surfaced by eventually() in the test's thread
            failures.append(error)
            raise

    threads = [threading.Thread(target=guarded, args=(w.run,), daemon=True)
               for name, w in built.items() if name != "failures"]
    for thread in threads:
        thread.start()
    try:
        yield built
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)


def publish(settings: Settings, topic: str, messages: list[tuple[bytes | None, bytes]]) -> None:
    assert settings.kafka_bootstrap_servers
    producer = kafka_clients.producer(settings.kafka())
    for key, value in messages:
        producer.send(topic, key=key, value=value)
    producer.flush(timeout=30)
    producer.close()


def as_message(event: dict[str, Any]) -> tuple[bytes, bytes]:
    return event["order_id"].encode(), orjson.dumps(event)


def read_all(settings: Settings, topic: str, expected: int, timeout: float = 60.0
             ) -> list[Any]:
    """Read a topic from the beginning (no group) until ``expected`` records or the timeout."""
    assert settings.kafka_bootstrap_servers
    consumer: KafkaConsumer = kafka_clients.consumer(settings.kafka(), None)
    partitions = [TopicPartition(topic, p) for p in
                  sorted(consumer.partitions_for_topic(topic) or [])]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    records: list[Any] = []
    deadline = time.monotonic() + timeout
    while len(records) < expected and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=200).values():
            records.extend(batch)
    consumer.close()
    return records


def eventually(condition: Callable[[], bool], timeout: float = 60.0, what: str = "",
               failures: list[BaseException] | None = None) -> None:
    """Wait for a condition; a worker that died fails the test at once with its error."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if failures:
            raise AssertionError(f"a worker failed while waiting for {what}") from failures[0]
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"not reached within {timeout:.0f}s: {what}")


def projected_everything(read_url: str, app: Services, servers: str, topic: str) -> bool:
    """Every projection in the read database applied every event of the store: the store's
    last event reached them, and so did every partition up to the topic's end (a projection's
    highest position is over all partitions: another partition may still lag behind)."""
    db = ReadDatabase(read_url)  # its own connection: the runner's belongs to its thread
    try:
        with db.transaction() as tx:
            loaded = [positions.load(tx, p.name) for p in all_projections()]
    except Exception:  # the runner may not have created its tables yet
        return False
    finally:
        db.close()
    if any(count_relayed(app.store.recorder, where.highest())[0] for where in loaded):
        return False
    consumer: KafkaConsumer = kafka_clients.consumer(servers, None)
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        ends = consumer.end_offsets(parts)
    finally:
        consumer.close()
    return all(where.parts.get((topic, tp.partition), (0, 0))[0] >= offset
               for where in loaded for tp, offset in ends.items() if offset)
