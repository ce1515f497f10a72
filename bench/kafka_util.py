"""Kafka helpers of the benchmarks: publish, and start a clock when a group's partitions arrive."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import orjson
from kafka import ConsumerRebalanceListener, KafkaConsumer, KafkaProducer

from consumers import kafka_clients


class StartClock(ConsumerRebalanceListener):
    """Notes when the consumer got its partitions, so group joining is left out of the time.

    kafka-python calls ``on_partitions_assigned`` inside ``poll()`` after the join and before
    the first fetch, so the clock covers fetching, decoding and handling, nothing else."""

    def __init__(self) -> None:
        self.started: float | None = None

    def on_partitions_revoked(self, revoked: Any) -> None:
        pass

    def on_partitions_assigned(self, assigned: Any) -> None:
        if self.started is None:
            self.started = time.perf_counter()


def publish(bootstrap: str, messages: Iterable[tuple[str, bytes | None, bytes]]) -> int:
    """Send (topic, key, value) messages with the product's producer settings; flush."""
    producer: KafkaProducer = kafka_clients.producer(bootstrap)
    futures = [producer.send(topic, key=key, value=value) for topic, key, value in messages]
    producer.flush(timeout=60)
    for future in futures:
        future.get(timeout=60)
    producer.close(timeout=5)
    return len(futures)


def json_message(topic: str, message: dict[str, Any]) -> tuple[str, bytes, bytes]:
    return topic, message["order_id"].encode(), orjson.dumps(message)


def consume_all(consumer: KafkaConsumer, topics: list[str], expected: int,
                deadline_s: float = 300.0) -> float:
    """Seconds for a raw consumer to read and orjson-decode ``expected`` messages, from the
    moment it got its partitions (the baseline of the consuming benchmarks)."""
    clock = StartClock()
    consumer.subscribe(topics, listener=clock)
    decoded: list[Any] = []
    deadline = time.monotonic() + deadline_s
    try:
        while len(decoded) < expected:
            if time.monotonic() > deadline:
                raise TimeoutError(f"raw: {len(decoded)} of {expected} messages")
            for records in consumer.poll(timeout_ms=200).values():
                decoded.extend(orjson.loads(record.value) for record in records)
        ended = time.perf_counter()
    finally:
        consumer.close(autocommit=False)
    assert clock.started is not None
    return ended - clock.started
