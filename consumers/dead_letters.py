"""Dead letters: inbound messages that cannot be accepted go to aftersales.dlq.v1 unchanged,
with headers naming the error and where the message came from."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaTimeoutError

from schemas.outbound import DLQ_HEADERS

MAX_ERROR_BYTES = 2000


@dataclass(frozen=True)
class Rejection:
    """Why a message was not accepted: a short kind (for metrics) and a readable message."""

    kind: str  # oversized | not_json | invalid | wrong_topic | key_mismatch | refused
    message: str


def where(record: ConsumerRecord) -> str:
    return f"{record.topic}[{record.partition}]@{record.offset}"


def fields(record: ConsumerRecord) -> dict[str, object]:
    """The record's place as log fields (``--log-format json`` shows them)."""
    return {"topic": record.topic, "partition": record.partition, "offset": record.offset}


def dead_letter(producer: KafkaProducer, topic: str, record: ConsumerRecord,
                rejection: Rejection, timeout: float = 30.0) -> None:
    """Send the record's key and value unchanged to the dead-letter topic and wait for the ack
    (the caller commits the source offset only after this returns)."""
    headers = [
        ("error", rejection.message.encode()[:MAX_ERROR_BYTES]),
        ("error_type", rejection.kind.encode()),
        ("source_topic", record.topic.encode()),
        ("source_partition", str(record.partition).encode()),
        ("source_offset", str(record.offset).encode()),
        *[(k, v) for k, v in (record.headers or []) if k not in DLQ_HEADERS
          and k != "redriven_from"],
    ]
    future = producer.send(topic, key=record.key, value=record.value, headers=headers)
    future.get(timeout=timeout)


@dataclass(frozen=True)
class DeadLetter:
    """A record of the dead-letter topic: where it is, why it is there, the original."""

    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode(errors="replace")
        return None

    @property
    def where(self) -> str:
        return f"{self.partition}:{self.offset}"

    @property
    def source(self) -> str:
        return (f"{self.header('source_topic')}[{self.header('source_partition')}]@"
                f"{self.header('source_offset')}")

    def original_headers(self) -> list[tuple[str, bytes]]:
        """The headers the message had before it was dead-lettered."""
        return [(k, v) for k, v in self.headers if k not in DLQ_HEADERS]


def read_dead_letters(consumer: KafkaConsumer, topic: str, timeout_s: float = 30.0
                      ) -> Iterator[DeadLetter]:
    """Every record of the dead-letter topic, from the beginning to the end it had when
    reading began (no consumer group: nothing is committed)."""
    partitions = [TopicPartition(topic, p) for p in sorted(
        consumer.partitions_for_topic(topic) or [])]
    if not partitions:
        return
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    ends = {tp: end for tp, end in consumer.end_offsets(partitions).items() if end}
    deadline = time.monotonic() + timeout_s
    while ends and time.monotonic() < deadline:
        for tp, records in consumer.poll(timeout_ms=500).items():
            for record in records:
                if tp in ends and record.offset < ends[tp]:
                    yield DeadLetter(record.partition, record.offset, record.timestamp,
                                     record.key, record.value, tuple(record.headers or ()))
        for tp in list(ends):
            if consumer.position(tp) >= ends[tp]:
                del ends[tp]
    if ends:
        raise KafkaTimeoutError(f"the dead-letter topic {topic} was not read to its end "
                                f"within {timeout_s:.0f}s")


def redrive(producer: KafkaProducer, letter: DeadLetter, dlq_topic: str,
            timeout: float = 30.0) -> str:
    """Send the original bytes (key, value, headers) back to their source topic; returns the
    topic. The engine dedupes on event_id, so redriving twice changes nothing."""
    topic = letter.header("source_topic")
    if not topic:
        raise ValueError(f"dead letter {letter.where} names no source topic")
    headers = [*letter.original_headers(),
               ("redriven_from", f"{dlq_topic}[{letter.partition}]@{letter.offset}".encode())]
    producer.send(topic, key=letter.key, value=letter.value,
                  headers=headers).get(timeout=timeout)
    return topic
