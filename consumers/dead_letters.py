"""Dead letters: inbound messages that cannot be accepted go to aftersales.dlq.v1 unchanged,
with headers naming the error and where the message came from."""

from __future__ import annotations

from dataclasses import dataclass

from kafka import KafkaProducer
from kafka.consumer.fetcher import ConsumerRecord

from schemas.outbound import DLQ_HEADERS

MAX_ERROR_BYTES = 2000


@dataclass(frozen=True)
class Rejection:
    """Why a message was not accepted: a short kind (for metrics) and a readable message."""

    kind: str  # oversized | not_json | invalid | wrong_topic | key_mismatch | refused
    message: str


def where(record: ConsumerRecord) -> str:
    return f"{record.topic}[{record.partition}]@{record.offset}"


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
        *[(k, v) for k, v in (record.headers or []) if k not in DLQ_HEADERS],
    ]
    future = producer.send(topic, key=record.key, value=record.value, headers=headers)
    future.get(timeout=timeout)
