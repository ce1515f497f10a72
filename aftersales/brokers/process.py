"""A broker child process the project started itself, and the helpers shared by both launchers.

Everything here speaks to loopback only: ports are taken on 127.0.0.1 and clients are pointed
at 127.0.0.1.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from kafka import KafkaAdminClient
from kafka.errors import KafkaError

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
#: Skip kafka-python's version probing (see SPEC §4.6); both brokers speak this.
CLIENT_API_VERSION = (3, 9)
_ERROR_WORDS = re.compile(r"\bERROR\b|\bFATAL\b|Exception\b|panicked")


class BrokerStartError(RuntimeError):
    """The broker process did not come up; the message carries the tail of its log."""


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def log_tail(path: Path, lines: int = 30) -> str:
    """The first error lines and the last `lines` lines of a log file ('' when it is missing)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    tail = text[-lines:]
    head = [line for line in text[: -lines or None] if _ERROR_WORDS.search(line)][:10]
    return "\n".join([*head, "...", *tail] if head else tail)


@dataclass
class BrokerProcess:
    """A running local broker: where clients connect, its pid and log, and how to stop it."""

    kind: str
    bootstrap_servers: str
    popen: subprocess.Popen[bytes] = field(repr=False)
    log_path: Path
    data_dir: Path

    @property
    def pid(self) -> int:
        """The broker's process id."""
        return self.popen.pid

    @property
    def port(self) -> int:
        """The client (PLAINTEXT) port on 127.0.0.1."""
        return int(self.bootstrap_servers.rsplit(":", 1)[1])

    def is_running(self) -> bool:
        """True while the process has not exited."""
        return self.popen.poll() is None

    def stop(self, timeout: float = 20.0) -> None:
        """Terminate the broker (SIGTERM), then SIGKILL it if it is still there after `timeout`."""
        if not self.is_running():
            return
        log.info("stopping %s broker pid=%d port=%d", self.kind, self.pid, self.port)
        os.kill(self.pid, signal.SIGCONT)  # a paused (SIGSTOP) process cannot act on SIGTERM
        self.popen.terminate()
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log.warning("%s broker pid=%d ignored SIGTERM; killing it", self.kind, self.pid)
            self.popen.kill()
            self.popen.wait(timeout=timeout)

    def pause(self) -> None:
        """Freeze the broker with SIGSTOP (clients see an unresponsive broker)."""
        if self.is_running():
            log.info("pausing %s broker pid=%d (SIGSTOP)", self.kind, self.pid)
            os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """Thaw a paused broker with SIGCONT (harmless when it is not paused)."""
        if self.is_running():
            log.info("resuming %s broker pid=%d (SIGCONT)", self.kind, self.pid)
            os.kill(self.pid, signal.SIGCONT)

    def __enter__(self) -> BrokerProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def metadata_ready(bootstrap: str, timeout_s: float = 5.0) -> bool:
    """True when the broker at `bootstrap` answers a metadata request with at least one broker."""
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            api_version=CLIENT_API_VERSION,
            request_timeout_ms=int(timeout_s * 1000),
            bootstrap_timeout_ms=int(timeout_s * 1000),
            client_id="aftersales-broker-probe",
        )
    except (KafkaError, OSError):
        return False
    try:
        return bool(admin.describe_cluster().get("brokers"))
    except (KafkaError, OSError):
        return False
    finally:
        admin.close()


def wait_until_ready(
    broker: BrokerProcess,
    deadline_s: float,
    ready: Callable[[str], bool] = metadata_ready,
) -> None:
    """Poll until `broker` answers metadata; stop it and raise BrokerStartError otherwise."""
    started = time.monotonic()
    while time.monotonic() - started < deadline_s:
        if not broker.is_running():
            raise BrokerStartError(
                f"{broker.kind} broker pid={broker.pid} exited with code "
                f"{broker.popen.returncode}; log {broker.log_path}:\n{log_tail(broker.log_path)}"
            )
        if _port_open(broker.port) and ready(broker.bootstrap_servers):
            log.info(
                "%s broker ready on %s pid=%d after %.1f s",
                broker.kind,
                broker.bootstrap_servers,
                broker.pid,
                time.monotonic() - started,
            )
            return
        time.sleep(0.1)
    broker.stop()
    raise BrokerStartError(
        f"{broker.kind} broker pid={broker.pid} did not answer metadata on "
        f"{broker.bootstrap_servers} within {deadline_s:.0f} s; log {broker.log_path}:\n"
        f"{log_tail(broker.log_path)}"
    )


def _port_open(port: int) -> bool:
    """True when something accepts TCP connections on 127.0.0.1:`port`."""
    try:
        with socket.create_connection((LOOPBACK, port), timeout=0.5):
            return True
    except OSError:
        return False
