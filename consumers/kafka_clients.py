"""kafka-python clients with the settings measured on Apache Kafka and Tansu (SPEC §4.6), and
the connection every client of the engine shares: where the brokers are, how to authenticate
(SASL PLAIN or SCRAM) and encrypt (TLS, with a CA and a client certificate), client tuning.

Nothing here is broker-specific; every value comes from the settings (aftersales/settings.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # kafka is imported by the clients' makers only: the settings need none
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

# api_version skips ~100 ms of version probing per client; both brokers speak 3.9.
API_VERSION = (3, 9)
# How long an operator command (`status`, `dlq`) waits for the brokers to answer at all before
# it says they cannot be reached (exit 5): a consumer's first metadata call would wait forever.
COMMAND_TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class KafkaConnection:
    """Bootstrap servers, the security options every client gets, client tuning."""

    servers: str
    security: dict[str, Any] = field(default_factory=dict, repr=False)  # holds secrets
    linger_ms: int = 5
    session_timeout_ms: int = 6000
    heartbeat_ms: int = 1000


Connection = KafkaConnection | str  # a plain address: PLAINTEXT with default tuning


def _connection(where: Connection) -> KafkaConnection:
    return where if isinstance(where, KafkaConnection) else KafkaConnection(where)


def _base(where: KafkaConnection) -> dict[str, Any]:
    return {"bootstrap_servers": where.servers, "api_version": API_VERSION, **where.security}


def producer(where: Connection, **overrides: Any) -> KafkaProducer:
    """A producer that keeps order per partition across retries and waits for all replicas."""
    connection = _connection(where)
    config: dict[str, Any] = {
        **_base(connection),
        "acks": "all",
        "linger_ms": connection.linger_ms,
        "max_in_flight_requests_per_connection": 1,
        "request_timeout_ms": 10_000,
        "max_block_ms": 10_000,
        "client_id": "aftersales",
    }
    config.update(overrides)
    from kafka import KafkaProducer

    return KafkaProducer(**config)


def consumer(where: Connection, group_id: str | None, **overrides: Any) -> KafkaConsumer:
    """A consumer that commits by hand, after the effect is durable."""
    connection = _connection(where)
    config: dict[str, Any] = {
        **_base(connection),
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "fetch_max_wait_ms": 100,
        "session_timeout_ms": connection.session_timeout_ms,
        "heartbeat_interval_ms": connection.heartbeat_ms,
        "max_poll_records": 500,
        "client_id": "aftersales",
    }
    config.update(overrides)
    from kafka import KafkaConsumer

    return KafkaConsumer(**config)


def admin(where: Connection, **overrides: Any) -> KafkaAdminClient:
    """An admin client (topics, configs)."""
    config: dict[str, Any] = {**_base(_connection(where)), "client_id": "aftersales-admin",
                              **overrides}
    from kafka import KafkaAdminClient

    return KafkaAdminClient(**config)


def partitions_of(where: Connection, topic: str, timeout_ms: int = COMMAND_TIMEOUT_MS
                  ) -> list[int]:
    """The partition numbers of ``topic`` ([] when it does not exist), asked by an admin client
    that raises KafkaTimeoutError when no broker answered within ``timeout_ms`` (a consumer's
    ``partitions_for_topic`` would wait for ever): how an operator command first reaches the
    brokers."""
    client = admin(where, bootstrap_timeout_ms=timeout_ms, request_timeout_ms=timeout_ms,
                   client_id="aftersales-command")
    try:
        [described] = client.describe_topics([topic])
        return sorted(p["partition_index"] for p in described["partitions"])
    finally:
        client.close()


def servers_of(where: Connection) -> str:
    """The bootstrap servers, to name in a message (they hold no credentials: those are in
    the security settings, never shown)."""
    return _connection(where).servers
