"""pytest fixtures for tests that need a real Kafka-protocol broker (SPEC §4.6).

Load with ``pytest_plugins = ["tests.kafka_fixtures"]`` in tests/conftest.py, or
``pytest -p tests.kafka_fixtures``.

* ``kafka_broker`` (session): ``$KAFKA_BOOTSTRAP_SERVERS`` when set (nothing is started),
  otherwise one Apache Kafka 4 broker on loopback for the whole session. Set
  ``AFTERSALES_TEST_BROKER=tansu`` to run those tests on Tansu instead where Java is missing.
* ``tansu_broker`` (session): one Tansu broker on loopback.
* ``topic_prefix`` / ``unique_topic`` (function): names no other test uses.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from aftersales.brokers import BrokerKind, BrokerProcess, start_broker

CLIENT_API_VERSION = (3, 9)


@dataclass(frozen=True)
class TestBroker:
    """A broker for tests: where to connect and, when we started it, its process."""

    __test__ = False  # not a test class, despite the name

    kind: str  # "kafka", "tansu" or "external"
    bootstrap_servers: str
    process: BrokerProcess | None = None

    def require_process(self) -> BrokerProcess:
        """The broker process (for pause/resume); skips the test on an external broker."""
        if self.process is None:
            pytest.skip("the broker is external ($KAFKA_BOOTSTRAP_SERVERS): cannot signal it")
        return self.process

    def producer_config(self, **overrides: Any) -> dict[str, Any]:
        """kafka-python KafkaProducer settings measured to work on both brokers."""
        return {
            "bootstrap_servers": self.bootstrap_servers,
            "api_version": CLIENT_API_VERSION,
            "acks": "all",
            **overrides,
        }

    def consumer_config(self, group_id: str | None, **overrides: Any) -> dict[str, Any]:
        """kafka-python KafkaConsumer settings measured to work on both brokers (SPEC §4.6)."""
        return {
            "bootstrap_servers": self.bootstrap_servers,
            "api_version": CLIENT_API_VERSION,
            "group_id": group_id,
            "enable_auto_commit": False,
            "auto_offset_reset": "earliest",
            "fetch_max_wait_ms": 100,
            # Tansu lets a member join only after session_timeout_ms / 2; 6 s is also Apache
            # Kafka's group.min.session.timeout.ms, so the same settings serve every broker.
            "session_timeout_ms": 6000,
            "heartbeat_interval_ms": 1000,
            **overrides,
        }


def _start(kind: BrokerKind, factory: pytest.TempPathFactory) -> Iterator[TestBroker]:
    process = start_broker(kind, factory.mktemp(f"{kind}-broker"))
    try:
        yield TestBroker(kind, process.bootstrap_servers, process)
    finally:
        process.stop()


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestBroker]:
    """The session's Kafka: $KAFKA_BOOTSTRAP_SERVERS, else Apache Kafka started on loopback."""
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
    if external:
        yield TestBroker("external", external)
        return
    kind = os.environ.get("AFTERSALES_TEST_BROKER", "kafka").strip() or "kafka"
    if kind not in ("kafka", "tansu"):
        raise pytest.UsageError(f"AFTERSALES_TEST_BROKER must be kafka or tansu, not {kind!r}")
    yield from _start("tansu" if kind == "tansu" else "kafka", tmp_path_factory)


@pytest.fixture(scope="session")
def tansu_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestBroker]:
    """One Tansu broker (memory only) on loopback for the whole session."""
    yield from _start("tansu", tmp_path_factory)


@pytest.fixture
def topic_prefix(request: pytest.FixtureRequest) -> str:
    """A prefix for topic and group names that is unique to this test (uuid per test)."""
    name = re.sub(r"[^a-zA-Z0-9]+", "-", request.node.name).strip("-")[:60]
    return f"t-{name}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def unique_topic(topic_prefix: str) -> Callable[[str], str]:
    """Build topic names unique to this test: ``unique_topic("orders") -> "t-…-orders"``."""

    def make(suffix: str = "topic") -> str:
        return f"{topic_prefix}-{suffix}"

    return make
