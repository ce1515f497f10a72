"""Managed Kafka: the engine's clients (admin, producers, consumers) authenticate with SASL
PLAIN or SCRAM and talk TLS with a CA and a client certificate, all from the settings, against
Apache Kafka started with a SASL_SSL listener (certificates generated here)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import trustme
from cryptography.hazmat.primitives import serialization
from kafka.errors import KafkaError

from aftersales.bootstrap import build_app, ensure_pipeline_topics
from aftersales.brokers.kafka import SecureListener, start_kafka
from aftersales.brokers.process import BrokerProcess, free_port
from aftersales.settings import Settings
from consumers import kafka_clients
from consumers.case_events import count_relayed
from tests.factories import T0, order_paid, order_placed, shipment
from tests.pipeline import as_message, eventually, read_all, workers

pytestmark = pytest.mark.kafka


def pkcs8(key_pem: bytes, password: bytes | None = None) -> bytes:
    key = serialization.load_pem_private_key(key_pem, None)
    encryption = (serialization.BestAvailableEncryption(password) if password
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             encryption)


@dataclass(frozen=True)
class SecureBroker:
    process: BrokerProcess
    address: str
    ca: Path
    client_cert: Path
    client_key: Path
    key_password: str
    users: dict[str, tuple[str, str]]  # mechanism -> (name, password)

    def env(self, mechanism: str, **changes: str) -> dict[str, str]:
        name, password = self.users[mechanism]
        return {
            "AFTERSALES_KAFKA_BOOTSTRAP_SERVERS": self.address,
            "AFTERSALES_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "AFTERSALES_KAFKA_SASL_MECHANISM": mechanism,
            "AFTERSALES_KAFKA_SASL_USERNAME": name,
            "AFTERSALES_KAFKA_SASL_PASSWORD": password,
            "AFTERSALES_KAFKA_SSL_CAFILE": str(self.ca),
            "AFTERSALES_KAFKA_SSL_CERTFILE": str(self.client_cert),
            "AFTERSALES_KAFKA_SSL_KEYFILE": str(self.client_key),
            "AFTERSALES_KAFKA_SSL_PASSWORD": self.key_password,
            **changes,
        }


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    folder = tmp_path_factory.mktemp("sasl-ssl")
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    client = ca.issue_cert("aftersales-client")
    keystore = folder / "broker.pem"  # Kafka's PEM keystore: PKCS#8 key, then the chain
    keystore.write_bytes(pkcs8(server.private_key_pem.bytes())
                         + b"".join(c.bytes() for c in server.cert_chain_pems))
    truststore = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(truststore))
    client_cert = folder / "client.pem"
    client_cert.write_bytes(b"".join(c.bytes() for c in client.cert_chain_pems))
    key_password = secrets.token_urlsafe(12)
    client_key = folder / "client.key"
    client_key.write_bytes(pkcs8(client.private_key_pem.bytes(), key_password.encode()))
    users = {mechanism: (f"user-{n}", secrets.token_urlsafe(12)) for n, mechanism in
             enumerate(("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"))}
    listener = SecureListener(
        port=free_port(), keystore=keystore, truststore=truststore,
        plain_users={users["PLAIN"][0]: users["PLAIN"][1]},
        scram_users=tuple((m, *users[m]) for m in ("SCRAM-SHA-256", "SCRAM-SHA-512")))
    process = start_kafka(folder / "data", secure=listener)
    try:
        yield SecureBroker(process, f"127.0.0.1:{listener.port}", truststore, client_cert,
                           client_key, key_password, users)
    finally:
        process.stop()


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_the_pipeline_runs_over_sasl_ssl_with_a_client_certificate(
        secure_broker: SecureBroker, mechanism: str, tmp_path: Path, topic_prefix: str) -> None:
    settings = Settings.from_env(secure_broker.env(
        mechanism, AFTERSALES_DATABASE_URL=f"sqlite:///{tmp_path / 'events.sqlite'}",
        AFTERSALES_ORDERS_TOPIC=f"{topic_prefix}-orders",
        AFTERSALES_SHIPMENTS_TOPIC=f"{topic_prefix}-shipments",
        AFTERSALES_CASE_EVENTS_TOPIC=f"{topic_prefix}-case-events",
        AFTERSALES_CASE_STATES_TOPIC=f"{topic_prefix}-cases",
        AFTERSALES_DLQ_TOPIC=f"{topic_prefix}-dlq"))
    assert secure_broker.users[mechanism][1] not in repr(settings)
    ensure_pipeline_topics(settings)  # the admin client
    placed = order_placed("o-1")
    upstream = [placed, order_paid(placed), shipment("o-1", "Delivered", T0 + timedelta(days=3))]
    producer = kafka_clients.producer(settings.kafka())
    for message in upstream:
        key, value = as_message(message)
        topic = settings.orders_topic if "event_type" in message and message[
            "event_type"].startswith("Order") else settings.shipments_topic
        producer.send(topic, key=key, value=value)
    producer.flush(timeout=30)
    producer.close()
    app = build_app(settings)
    try:
        with workers(app, settings, "inbound", "relay") as running:  # consumer and producers
            eventually(lambda: running["inbound"].stats.applied == len(upstream), 90,
                       "applied over SASL_SSL", running["failures"])
            end = app.store.recorder.max_notification_id()
            eventually(lambda: running["relay"].stats.position == end, 60, "relayed",
                       running["failures"])
        expected = count_relayed(app.store.recorder, 0)[0]
    finally:
        app.close()
    records = read_all(settings, settings.case_events_topic, expected)  # a secure consumer
    assert len(records) == expected
    assert any(b'"aftersales.order.Placed"' in r.value for r in records)


def test_a_wrong_password_or_no_client_certificate_is_refused(
        secure_broker: SecureBroker, topic_prefix: str) -> None:
    for changes in ({"AFTERSALES_KAFKA_SASL_PASSWORD": "not-the-password"},
                    {"AFTERSALES_KAFKA_SSL_CERTFILE": "", "AFTERSALES_KAFKA_SSL_KEYFILE": "",
                     "AFTERSALES_KAFKA_SSL_PASSWORD": ""}):
        env = {k: v for k, v in secure_broker.env("SCRAM-SHA-256", **changes).items() if v}
        settings = Settings.from_env(env)
        with pytest.raises(KafkaError):
            kafka_clients.admin(settings.kafka(), request_timeout_ms=5000,
                                api_version_auto_timeout_ms=5000).list_topics()
