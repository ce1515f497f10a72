"""The local brokers (Apache Kafka 4 and Tansu) carry keyed messages through consumer groups
with manual commits, and survive being frozen for a few seconds (SPEC §4.6)."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from aftersales.brokers import ensure_topics
from tests.kafka_fixtures import TestBroker

pytestmark = pytest.mark.kafka


@pytest.fixture(params=["kafka", "tansu"])
def broker(request: pytest.FixtureRequest) -> TestBroker:
    """Each test runs once on the session's Kafka broker and once on Tansu."""
    fixture: TestBroker = request.getfixturevalue(f"{request.param}_broker")
    return fixture


Record = tuple[str, int, str, str]  # key, partition, value, topic


def _consume(consumer: KafkaConsumer, count: int, timeout_s: float = 30.0) -> list[Record]:
    """Poll until `count` records arrived (or `timeout_s` passed) and return them."""
    got: list[Record] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < count and time.monotonic() < deadline:
        for tp, records in consumer.poll(timeout_ms=500).items():
            got.extend((r.key.decode(), tp.partition, r.value.decode(), tp.topic) for r in records)
    return got


def test_keyed_messages_round_trip_in_a_consumer_group(
    broker: TestBroker, unique_topic: Callable[[str], str], topic_prefix: str
) -> None:
    topic = unique_topic("events")
    assert ensure_topics(broker.bootstrap_servers, {topic: 3}) == [topic]
    assert ensure_topics(broker.bootstrap_servers, {topic: 3}) == []  # idempotent

    producer = KafkaProducer(**broker.producer_config(linger_ms=5))
    for i in range(100):
        producer.send(topic, key=f"case-{i % 10}".encode(), value=f"{i:03d}".encode())
    producer.flush(timeout=30)
    producer.close()

    group = f"{topic_prefix}-group"
    consumer = KafkaConsumer(topic, **broker.consumer_config(group))
    try:
        records = _consume(consumer, 100)
        consumer.commit()
        partitions = [TopicPartition(topic, p) for p in range(3)]
        committed = sum(consumer.committed(tp) or 0 for tp in partitions)
    finally:
        consumer.close()

    assert sorted(value for _, _, value, _ in records) == [f"{i:03d}" for i in range(100)]
    assert committed == 100
    by_key: dict[str, list[str]] = defaultdict(list)
    partitions_of_key: dict[str, set[int]] = defaultdict(set)
    for key, partition, value, _ in records:
        by_key[key].append(value)
        partitions_of_key[key].add(partition)
    assert all(len(parts) == 1 for parts in partitions_of_key.values())  # keyed = one partition
    assert all(values == sorted(values) for values in by_key.values())  # in order per key
    assert len({p for parts in partitions_of_key.values() for p in parts}) > 1  # spread out

    # The group resumes from its committed offsets: nothing is delivered twice.
    again = KafkaConsumer(topic, **broker.consumer_config(group))
    try:
        redelivered = _poll_until_assigned(again)
        positions = sum(again.position(tp) for tp in partitions)
    finally:
        again.close()
    assert redelivered == []
    assert positions == 100


def _poll_until_assigned(consumer: KafkaConsumer, timeout_s: float = 30.0) -> list[Record]:
    """Poll until the group gave `consumer` its partitions; return what arrived meanwhile."""
    got: list[Record] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for tp, records in consumer.poll(timeout_ms=200).items():
            got.extend((r.key.decode(), tp.partition, r.value.decode(), tp.topic) for r in records)
        if consumer.assignment():
            got.extend(_consume(consumer, 1, timeout_s=0.5))  # anything fetched right after
            return got
    raise AssertionError(f"no partitions assigned within {timeout_s} s")


def test_broker_paused_for_three_seconds_then_resumed_keeps_serving(
    broker: TestBroker, unique_topic: Callable[[str], str]
) -> None:
    process = broker.require_process()
    topic = unique_topic("pause")
    ensure_topics(broker.bootstrap_servers, {topic: 3})
    producer = KafkaProducer(**broker.producer_config(request_timeout_ms=20000))
    try:
        sent = [producer.send(topic, key=b"k", value=b"before").get(timeout=20)]
        process.pause()
        try:
            time.sleep(3)
            in_flight = producer.send(topic, key=b"k", value=b"during")
        finally:
            process.resume()
        sent.append(in_flight.get(timeout=30))
        sent.append(producer.send(topic, key=b"k", value=b"after").get(timeout=30))
    finally:
        producer.close()
    # one key, one partition, in order: what the broker acknowledged
    assert len({m.partition for m in sent}) == 1
    assert [m.offset for m in sent] == [0, 1, 2]

    # read that partition back from its start (assigned: no group or metadata-driven
    # assignment in between the broker and what it stored)
    consumer = KafkaConsumer(**broker.consumer_config(None))
    try:
        partition = TopicPartition(topic, sent[0].partition)
        consumer.assign([partition])
        consumer.seek_to_beginning(partition)
        values = [value for _, _, value, _ in _consume(consumer, 3)]
        end = consumer.end_offsets([partition])
    finally:
        consumer.close()
    assert values == ["before", "during", "after"], f"end offsets {end}"
