"""What a benchmark is given: size (quick or full), a scratch folder, and a broker when needed."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from aftersales.brokers import BrokerKind, BrokerProcess, start_broker
from bench.report import progress


@dataclass
class Broker:
    """Where the Kafka-protocol broker is, and the process when this run started it."""

    kind: str  # "kafka", "tansu" or "external"
    bootstrap_servers: str
    process: BrokerProcess | None = None

    def stop(self) -> None:
        if self.process is not None:
            progress(f"stopping the {self.kind} broker (pid {self.process.pid})")
            self.process.stop()
            self.process = None


@dataclass
class Context:
    quick: bool
    workdir: Path
    broker_kind: BrokerKind = "kafka"
    profile: bool = False
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    _broker: Broker | None = None

    def size(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    def path(self, name: str) -> Path:
        """A fresh file name in the scratch folder (nothing is created)."""
        return self.workdir / f"{name}-{uuid.uuid4().hex[:6]}"

    def topic(self, name: str) -> str:
        """A topic (or group) name no earlier run used."""
        return f"bench-{self.run_id}-{name}"

    def broker(self) -> Broker:
        """$KAFKA_BOOTSTRAP_SERVERS when set, else a local broker started once for the run."""
        if self._broker is None:
            external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
            if external:
                progress(f"using the external broker at {external}")
                self._broker = Broker("external", external)
            else:
                progress(f"starting a local {self.broker_kind} broker on loopback")
                process = start_broker(self.broker_kind, self.workdir / f"{self.broker_kind}-data")
                progress(f"{self.broker_kind} broker ready on {process.bootstrap_servers}")
                self._broker = Broker(self.broker_kind, process.bootstrap_servers, process)
        return self._broker

    @property
    def broker_used(self) -> str | None:
        """The kind of broker the run used, None when no benchmark needed one."""
        return self._broker.kind if self._broker is not None else None

    def close(self) -> None:
        if self._broker is not None:
            self._broker.stop()
