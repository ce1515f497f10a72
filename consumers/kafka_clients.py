"""kafka-python clients with the settings measured on Apache Kafka and Tansu (SPEC §4.6).

Nothing here is broker-specific: every value can be overridden through the environment."""

from __future__ import annotations

import os
from typing import Any

from kafka import KafkaConsumer, KafkaProducer

# api_version skips ~100 ms of version probing per client; both brokers speak 3.9.
API_VERSION = (3, 9)


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def producer(bootstrap_servers: str, **overrides: Any) -> KafkaProducer:
    """A producer that keeps order per partition across retries and waits for all replicas."""
    config: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers,
        "api_version": API_VERSION,
        "acks": "all",
        "linger_ms": _int_env("AFTERSALES_KAFKA_LINGER_MS", 5),
        "max_in_flight_requests_per_connection": 1,
        "request_timeout_ms": 10_000,
        "max_block_ms": 10_000,
        "client_id": "aftersales",
    }
    config.update(overrides)
    return KafkaProducer(**config)


def consumer(bootstrap_servers: str, group_id: str | None, **overrides: Any) -> KafkaConsumer:
    """A consumer that commits by hand, after the effect is durable."""
    config: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers,
        "api_version": API_VERSION,
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "fetch_max_wait_ms": 100,
        "session_timeout_ms": _int_env("AFTERSALES_KAFKA_SESSION_TIMEOUT_MS", 6000),
        "heartbeat_interval_ms": _int_env("AFTERSALES_KAFKA_HEARTBEAT_MS", 1000),
        "max_poll_records": 500,
        "client_id": "aftersales",
    }
    config.update(overrides)
    return KafkaConsumer(**config)
