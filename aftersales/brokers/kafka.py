"""Start a single-node Apache Kafka 4 broker (KRaft: broker and controller in one JVM) on loopback.

The jars come from Maven Central through `kafka_jars.fetch_kafka_jars()` (run automatically).
The storage is formatted once per data folder; restarting on the same folder keeps the topics,
the offsets and the ports it had.
"""

from __future__ import annotations

import base64
import logging
import os
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from aftersales import children
from aftersales.brokers.kafka_jars import KAFKA_VERSION, fetch_kafka_jars
from aftersales.brokers.process import (
    LOOPBACK,
    BrokerProcess,
    BrokerStartError,
    free_port,
    wait_until_ready,
)

log = logging.getLogger(__name__)

START_TIMEOUT_S = 90.0
#: Small and quick to start on 2 cores (SPEC §4.6). Extra flags: $AFTERSALES_KAFKA_JVM_OPTS.
JVM_OPTS = [
    "-Xms512m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
    "-Djava.awt.headless=true", "-Djava.net.preferIPv4Stack=true",
]  # fmt: skip

_LOG4J2 = """\
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
logger.state.name = state.change.logger
logger.state.level = WARN
"""


@dataclass(frozen=True)
class SecureListener:
    """A second client listener, SASL_SSL on 127.0.0.1 (managed Kafka as it is reached in
    production): TLS with the broker's PEM key and certificate chain, clients' certificates
    checked against ``truststore`` when ``client_auth`` is "required"; SASL PLAIN for
    ``plain_users``, SCRAM-SHA-256/512 for ``scram_users`` (mechanism, name, password)."""

    port: int
    keystore: Path  # PEM: the broker's PKCS#8 private key and its certificate chain
    truststore: Path  # PEM: CA certificates the broker trusts for client certificates
    plain_users: dict[str, str] = field(default_factory=dict, repr=False)
    scram_users: tuple[tuple[str, str, str], ...] = field(default=(), repr=False)
    client_auth: str = "required"

    def properties(self) -> dict[str, str]:
        plain = " ".join(f'user_{name}="{secret}"' for name, secret in self.plain_users.items())
        prefix = "listener.name.sasl_ssl"
        return {
            "ssl.keystore.type": "PEM", "ssl.keystore.location": str(self.keystore),
            "ssl.truststore.type": "PEM", "ssl.truststore.location": str(self.truststore),
            "ssl.client.auth": self.client_auth,
            "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
            f"{prefix}.plain.sasl.jaas.config":
                f"org.apache.kafka.common.security.plain.PlainLoginModule required {plain};",
            f"{prefix}.scram-sha-256.sasl.jaas.config":
                "org.apache.kafka.common.security.scram.ScramLoginModule required;",
            f"{prefix}.scram-sha-512.sasl.jaas.config":
                "org.apache.kafka.common.security.scram.ScramLoginModule required;",
        }

    def scram_arguments(self) -> list[str]:
        """StorageTool format arguments that create the SCRAM credentials."""
        return [arg for mechanism, name, secret in self.scram_users
                for arg in ("--add-scram", f"{mechanism}=[name={name},password={secret}]")]


def server_properties(data_dir: Path, port: int, controller_port: int,
                      secure: SecureListener | None = None) -> str:
    """The server.properties text of a one-node KRaft cluster listening on 127.0.0.1 only
    (PLAINTEXT, and SASL_SSL when ``secure`` is given)."""
    logs = data_dir / "kraft-logs"
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.bootstrap.servers": f"{LOOPBACK}:{controller_port}",
        "listeners": f"PLAINTEXT://{LOOPBACK}:{port},CONTROLLER://{LOOPBACK}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{LOOPBACK}:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(logs),
        "num.partitions": "3",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "auto.create.topics.enable": "true",
        "group.initial.rebalance.delay.ms": "0",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "10",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "10",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "num.network.threads": "2",
        "num.io.threads": "4",
        "num.recovery.threads.per.data.dir": "1",
    }
    if secure is not None:
        settings["listeners"] += f",SASL_SSL://{LOOPBACK}:{secure.port}"
        settings["advertised.listeners"] += f",SASL_SSL://{LOOPBACK}:{secure.port}"
        settings["listener.security.protocol.map"] += ",SASL_SSL:SASL_SSL"
        settings.update(secure.properties())
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def _previous_ports(properties: Path) -> tuple[int, int] | None:
    """The (client, controller) ports of an earlier run on this folder, if it was formatted."""
    if not (properties.parent / "kraft-logs" / "meta.properties").exists():
        return None
    for line in properties.read_text().splitlines():
        if line.startswith("listeners="):
            ports = [int(url.rsplit(":", 1)[1]) for url in line.split("=", 1)[1].split(",")]
            return ports[0], ports[1]
    return None


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    candidate = Path(java_home) / "bin" / "java" if java_home else None
    if candidate is not None and candidate.exists():
        return str(candidate)
    found = shutil.which("java")
    if found is None:
        raise BrokerStartError("Java 17+ is needed for Apache Kafka 4 but `java` is not on PATH")
    return found


def _format_storage(java: str, classpath: str, properties: Path,
                    extra: list[str] | None = None) -> None:
    """Run kafka.tools.StorageTool format --standalone with a fresh cluster id."""
    cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    cluster_id = "a" + cluster_id[1:] if cluster_id.startswith("-") else cluster_id  # not a flag
    cmd = [
        java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", classpath, "kafka.tools.StorageTool",
        "format", "--standalone", "-t", cluster_id, "-c", str(properties), *(extra or []),
    ]  # fmt: skip
    done = children.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise BrokerStartError(
            f"StorageTool format failed (exit {done.returncode}):\n{done.stdout}{done.stderr}"
        )


def start_kafka(data_dir: Path, port: int | None = None,
                secure: SecureListener | None = None) -> BrokerProcess:
    """Start Apache Kafka on 127.0.0.1:`port` (a free one when None) and wait until it serves.

    Fetches the jars on first use (not counted in the timeout), formats `data_dir` on first
    use, writes the broker's output to `data_dir/kafka.log`, and raises BrokerStartError (with
    that log's tail) when the broker does not answer metadata within START_TIMEOUT_S.
    """
    classpath = str(fetch_kafka_jars() / "*")
    java = _java()
    started = time.monotonic()
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    properties = data_dir / "server.properties"
    previous = _previous_ports(properties) if properties.exists() else None
    if previous is not None:
        port, controller_port = port or previous[0], previous[1]
    else:
        port, controller_port = port or free_port(), free_port()
    properties.write_text(server_properties(data_dir, port, controller_port, secure))
    (data_dir / "log4j2.properties").write_text(_LOG4J2)
    if previous is None:
        shutil.rmtree(data_dir / "kraft-logs", ignore_errors=True)
        _format_storage(java, classpath, properties,
                        secure.scram_arguments() if secure is not None else None)
    log_path = data_dir / "kafka.log"
    cmd = [
        java, *JVM_OPTS, *os.environ.get("AFTERSALES_KAFKA_JVM_OPTS", "").split(),
        f"-Dlog4j2.configurationFile={data_dir / 'log4j2.properties'}",
        f"-Dkafka.logs.dir={data_dir}", "-cp", classpath, "kafka.Kafka", str(properties),
    ]  # fmt: skip
    with open(log_path, "wb") as out:
        popen = children.popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=data_dir
        )
    broker = BrokerProcess("kafka", f"{LOOPBACK}:{port}", popen, log_path, data_dir)
    log.info(
        "started Apache Kafka %s pid=%d on %s (controller port %d), log %s",
        KAFKA_VERSION, broker.pid, broker.bootstrap_servers, controller_port, log_path,
    )  # fmt: skip
    wait_until_ready(broker, max(1.0, START_TIMEOUT_S - (time.monotonic() - started)))
    return broker
