"""The running pipeline the demo drives: a local broker, `aftersales run`, and the CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from kafka import TopicPartition

from aftersales import children
from aftersales.bootstrap import ensure_pipeline_topics
from aftersales.brokers import BrokerProcess, start_broker
from aftersales.settings import Settings
from consumers import kafka_clients
from demo import principals


class Pipeline:
    """Start with `with Pipeline(workdir, broker) as p:`; everything stops at the end."""

    def __init__(self, workdir: Path, broker: str) -> None:
        self.workdir, self.kind = workdir, broker
        self.broker: BrokerProcess | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.env: dict[str, str] = {}
        self.ends: dict[TopicPartition, int] = {}

    def __enter__(self) -> Pipeline:
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir.mkdir(parents=True)
        external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        if not external:
            self.broker = start_broker(self.kind, self.workdir / "broker")  # type: ignore[arg-type]
        servers = external or (self.broker.bootstrap_servers if self.broker else "")
        self.env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": servers,
                    "AFTERSALES_DATABASE_URL": f"sqlite:///{self.workdir / 'events.sqlite'}",
                    "AFTERSALES_READ_DATABASE_URL": f"sqlite:///{self.workdir / 'read.sqlite'}",
                    "COLUMNS": "110"}
        self.settings = Settings.from_env(self.env)
        ensure_pipeline_topics(self.settings)
        # Two worker processes, as on two machines: the inbound consumers, and the relay with
        # the projection runner (2 cores; threads of one process would share one). Deadlines
        # fire in business time (`aftersales deadlines fire --now`), not by the wall clock.
        log = (self.workdir / "run.log").open("wb")
        self.workers = [
            children.popen([sys.executable, "-m", "aftersales", "run", *roles], env=self.env,
                           stdout=log, stderr=subprocess.STDOUT)
            for roles in (["--role", "inbound"], ["--role", "relay", "--role", "projections"])
        ]
        self.producer = kafka_clients.producer(servers, linger_ms=20)
        return self

    def __exit__(self, *_: object) -> None:
        self.producer.close(timeout=10)
        for worker in self.workers:
            worker.terminate()
        for worker in self.workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        if self.broker is not None:
            self.broker.stop()

    # ---- public interfaces -----------------------------------------------------------------
    def publish(self, topic: str, messages: Iterable[dict[str, Any]],
                advance: Callable[[int], None]) -> int:
        futures = []
        for message in messages:
            futures.append(self.producer.send(topic, key=message["order_id"].encode(),
                                              value=json.dumps(message).encode()))
            if len(futures) % 1000 == 0:
                advance(1000)
        self.producer.flush(timeout=120)
        for future in futures:
            meta = future.get(timeout=60)
            tp = TopicPartition(meta.topic, meta.partition)
            self.ends[tp] = max(self.ends.get(tp, 0), meta.offset + 1)
        advance(len(futures) % 1000)
        return len(futures)

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return children.run([sys.executable, "-m", "aftersales", *args], input=stdin,
                            capture_output=True, text=True, env=self.env, check=False)

    def principals(self, carriers: set[str], customers: set[str]) -> int:
        """The administrator (`aftersales principals bootstrap`), then the staff, the carriers
        and every customer (`aftersales principals import`); how many principals exist."""
        done = self.cli("principals", "bootstrap", principals.ADMIN)
        if done.returncode:
            raise RuntimeError(f"aftersales principals bootstrap failed: {done.stderr}")
        lines = [*principals.staff_lines(carriers | {"DHL"}),
                 *principals.customer_lines(customers)]
        path = self.workdir / "principals.jsonl"
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))
        done = self.cli("principals", "import", str(path), "--as", principals.ADMIN)
        if done.returncode:
            raise RuntimeError(f"aftersales principals import failed: {done.stderr[-2000:]}")
        return len(lines) + 1

    def carrier_scans(self, scans: list[dict[str, Any]]) -> None:
        """Return-shipment scans reported by each carrier as its own principal
        (`aftersales ingest --as carrier-…`: a carrier may report return shipments only)."""
        by_carrier: dict[str, list[dict[str, Any]]] = {}
        for scan in scans:
            by_carrier.setdefault(principals.carrier(scan["carrier"]), []).append(scan)
        for name, batch in by_carrier.items():
            path = self.workdir / "scans.jsonl"
            path.write_text("".join(json.dumps(scan) + "\n" for scan in batch))
            done = self.cli("ingest", str(path), "--as", name)
            with (self.workdir / "refused.log").open("a") as log:
                log.write(done.stderr)

    def submit(self, commands: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
        """Submit envelopes ``{"as": principal, "command": …}`` through `aftersales submit
        --envelopes`: each command is sent by its principal; (results in order, refused)."""
        if not commands:
            return [], 0
        path = self.workdir / "commands.jsonl"
        path.write_text("".join(json.dumps(c) + "\n" for c in commands))
        done = self.cli("submit", str(path), "--envelopes")
        results = [json.loads(line) for line in done.stdout.splitlines() if line]
        refused = sum(1 for line in done.stderr.splitlines() if "refused" in line
                      or "invalid" in line or "denied" in line)
        with (self.workdir / "refused.log").open("a") as log:
            log.write(done.stderr)
        return results, refused

    def query(self, table: str, *where: str) -> list[dict[str, Any]]:
        args = ["query", table, "--format", "json", "--limit", "1000000",
                "--as", "supervisor-ana"]
        for condition in where:
            args += ["--where", condition]
        done = self.cli(*args)
        if done.returncode:
            raise RuntimeError(f"aftersales query {table} failed: {done.stderr}")
        rows: list[dict[str, Any]] = json.loads(done.stdout)
        return rows

    def wait_inbound(self, timeout: float = 900) -> None:
        """Until the inbound consumer group committed everything published so far."""
        consumer = kafka_clients.consumer(self.env["KAFKA_BOOTSTRAP_SERVERS"],
                                          self.settings.inbound_group)
        try:
            deadline = time.monotonic() + timeout
            inbound = {self.settings.orders_topic, self.settings.shipments_topic}
            while time.monotonic() < deadline:
                behind = [tp for tp, end in self.ends.items() if tp.topic in inbound
                          and (consumer.committed(tp) or 0) < end]
                if not behind:
                    return
                self._check_worker()
                time.sleep(0.5)
        finally:
            consumer.close()
        raise TimeoutError("the inbound consumers did not catch up in time")

    def wait_projections(self, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = self.cli("status", "--format", "json")
            if done.returncode == 0 and all(r["lag_events"] == 0 for r in
                                            json.loads(done.stdout)["projections"]):
                return
            self._check_worker()
            time.sleep(0.5)
        raise TimeoutError("the projections did not catch up in time")

    def dead_letters(self) -> dict[str, int]:
        """Dead letters by error type, read from the dead-letter topic."""
        consumer = kafka_clients.consumer(self.env["KAFKA_BOOTSTRAP_SERVERS"], None)
        counts: dict[str, int] = {}
        try:
            tp = TopicPartition(self.settings.dlq_topic, 0)
            consumer.assign([tp])
            consumer.seek_to_beginning(tp)
            idle = 0
            while idle < 3:
                batch = consumer.poll(timeout_ms=300)
                idle = 0 if batch else idle + 1
                for records in batch.values():
                    for record in records:
                        kind = dict(record.headers).get("error_type", b"?").decode()
                        counts[kind] = counts.get(kind, 0) + 1
        finally:
            consumer.close()
        return counts

    def _check_worker(self) -> None:
        if any(worker.poll() is not None for worker in self.workers):
            tail = (self.workdir / "run.log").read_text()[-3000:]
            raise RuntimeError(f"`aftersales run` stopped:\n{tail}")
