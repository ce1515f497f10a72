"""Helpers for the Kafka reliability tests (poison, crashes, outage): workers as real processes
(to SIGKILL them), a desk submitting commands, exact reads of a topic up to its end, committed
offsets of the inbound group, and a cheap incremental view of the store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from random import Random
from uuid import UUID, uuid4

import orjson
from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.producer.future import RecordMetadata

from aftersales import children
from aftersales.settings import Settings
from aftersales_core.application.services import Services
from aftersales_core.errors import DomainError
from consumers import kafka_clients
from consumers.case_events import is_relayed
from schemas.outbound import CASE_EVENT
from tests.factories import T0, caller

REPO = Path(__file__).resolve().parents[1]
AT = T0 + timedelta(days=5)
LINES = [
    {"line_id": "1", "sku": "TV-55", "category": "electronics", "quantity": 1,
     "unit_price": "900.00"},
    {"line_id": "2", "sku": "MUG-1", "category": "home", "quantity": 30, "unit_price": "10.00"},
]
Addressed = tuple[str, bytes | None, bytes | None]  # (topic, key, value)


def publish_located(settings: Settings, messages: Iterable[Addressed]) -> list[RecordMetadata]:
    """Publish in order (one producer, one request in flight) and return where each landed."""
    assert settings.kafka_bootstrap_servers
    producer = kafka_clients.producer(settings.kafka_bootstrap_servers,
                                      max_request_size=2 * 1024 * 1024)
    try:
        futures = [producer.send(topic, key=key, value=value) for topic, key, value in messages]
        producer.flush(timeout=30)
        return [future.get(timeout=30) for future in futures]
    finally:
        producer.close(timeout=5)


def _partitions(consumer: KafkaConsumer, topic: str) -> list[TopicPartition]:
    deadline = time.monotonic() + 30
    while True:
        found = consumer.partitions_for_topic(topic)
        if found:
            return [TopicPartition(topic, p) for p in sorted(found)]
        if time.monotonic() > deadline:
            raise AssertionError(f"topic {topic} has no partitions")
        time.sleep(0.1)


def read_to_end(servers: str, topic: str, timeout: float = 60.0) -> list[ConsumerRecord]:
    """Every record of ``topic`` from the beginning up to the end offsets of this moment
    (unlike reading until a count, re-sent duplicates cannot end the read early)."""
    consumer = kafka_clients.consumer(servers, None, fetch_max_bytes=8 * 1024 * 1024,
                                      max_partition_fetch_bytes=4 * 1024 * 1024)
    try:
        partitions = _partitions(consumer, topic)
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        records: list[ConsumerRecord] = []
        deadline = time.monotonic() + timeout
        while any(consumer.position(tp) < ends[tp] for tp in partitions):
            if time.monotonic() > deadline:
                raise AssertionError(f"could not read {topic} to its end offsets {ends}")
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(r for r in batch if r.offset < ends[TopicPartition(r.topic,
                                                                                 r.partition)])
        return records
    finally:
        consumer.close()


def private_positions(app: Services, stored: int) -> set[int]:
    """Store positions up to ``stored`` the relay never publishes (principals' events)."""
    return {n.id for n in app.store.recorder.select_notifications(1, stored)
            if not is_relayed(n.topic)}


def check_case_events(servers: str, topic: str, stored: int, private: set[int],
                      context: str = "") -> int:
    """The case-events topic holds every stored event (positions 1..stored) but the private
    ones (principals', never published), keyed by its case;
    per case, the first occurrences (deduplicated on the CloudEvents id) come in version order
    1, 2, 3…; a re-sent event is byte-identical. Returns how many records were re-sends."""
    records = read_to_end(servers, topic)
    context = f"{context}; {len(records)} records for {stored} events"
    events = [CASE_EVENT.validate_json(r.value) for r in records]
    assert {e.position for e in events} == set(range(1, stored + 1)) - private, context
    first: dict[str, bytes] = {}
    versions: dict[str, list[int]] = defaultdict(list)
    for record, event in zip(records, events, strict=True):
        assert record.key == event.subject.encode(), context
        if event.id in first:  # a re-send after a crash or a retry: the very same message
            assert first[event.id] == record.value, context
            continue
        first[event.id] = record.value
        versions[event.subject].append(event.version)
    for subject, seen in versions.items():
        assert seen == list(range(1, len(seen) + 1)), f"{subject}: versions {seen}; {context}"
    published = stored - len(private)
    assert len(first) == published, context
    return len(records) - published


def lag(servers: str, topics: list[str], group: str) -> dict[str, int]:
    """Per partition ("topic[p]"), how far the group's committed offset is behind the end."""
    consumer = kafka_clients.consumer(servers, group)
    try:
        partitions = [tp for topic in topics for tp in _partitions(consumer, topic)]
        ends = consumer.end_offsets(partitions)
        behind = {}
        for tp in partitions:
            committed = consumer.committed(tp) or 0
            behind[f"{tp.topic}[{tp.partition}]"] = ends[tp] - committed
        return behind
    finally:
        consumer.close(autocommit=False)


@dataclass
class StoreView:
    """Reads the store's notifications incrementally: event ids of applied upstream facts, and
    counts of event types per aggregate. Cheap enough to poll while a worker writes."""

    app: Services
    position: int = 0
    upstream_ids: Counter[str] = field(default_factory=Counter)
    types: Counter[tuple[str, str]] = field(default_factory=Counter)  # (aggregate, topic)

    def refresh(self) -> int:
        while True:
            batch = self.app.store.recorder.select_notifications(self.position + 1, 1000)
            if not batch:
                return self.position
            for n in batch:
                self.types[(str(n.originator_id), n.topic)] += 1
                if n.topic.startswith("aftersales.order."):
                    state = orjson.loads(n.state)
                    if "event_id" in state:
                        self.upstream_ids[state["event_id"]] += 1
                self.position = n.id

    def count(self, topic: str) -> int:
        return sum(n for (_, t), n in self.types.items() if t == topic)


class Desk:
    """An agent desk submitting a random mix of commands through the application: goodwill
    refunds, issuing and settling them, and returns."""

    def __init__(self, app: Services, rng: Random, orders: list[str]) -> None:
        self.app, self.rng, self.orders = app, rng, orders
        self.approved: list[UUID] = []
        self.issued: list[UUID] = []
        self.done = Counter[str]()

    def submit(self) -> None:
        rng, app = self.rng, self.app
        choice = rng.random()
        try:
            if choice < 0.2 and self.approved:
                case_id = self.approved.pop(rng.randrange(len(self.approved)))
                app.refunds.issue(caller(app, "payments-1"), case_id=case_id, at=AT)
                self.issued.append(case_id)
                self.done["issued"] += 1
            elif choice < 0.35 and self.issued:
                case_id = self.issued.pop(rng.randrange(len(self.issued)))
                app.refunds.confirm_settled(caller(app, "payments-1"), case_id=case_id,
                                            provider_ref=f"psp-{uuid4().hex}", at=AT)
                self.done["settled"] += 1
            elif choice < 0.75:
                result = app.refunds.request(
                    caller(app, "agent-1"), case_id=uuid4(), order_id=rng.choice(self.orders),
                    source="goodwill", reason="sorry for the wait", at=AT,
                    amount=Decimal(rng.randint(100, 1500)) / 100)
                if result.status == "approved":
                    self.approved.append(result.case_id)
                self.done["goodwill"] += 1
            else:
                order_id = rng.choice(self.orders)  # each order's customer is c-<order id>
                app.returns.request(
                    caller(app, f"customer-c-{order_id}"), case_id=uuid4(), order_id=order_id,
                    lines=[{"line_id": "2", "quantity": 1}], reason="changed_mind",
                    outcome="refund", at=AT)
                self.done["returns"] += 1
        except DomainError as refused:  # e.g. the refund cap of an order: nothing was stored
            self.done[type(refused).__name__] += 1

    def submit_many(self, commands: int) -> None:
        """A given number of commands (drawn from the seed by the caller): replayable."""
        for _ in range(commands):
            self.submit()

    def keep_busy(self, seconds: float, pace: float = 0.01) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.submit()
            time.sleep(pace)

    def keep_busy_until(self, stored: int, seconds: float, timeout: float = 180,
                        pace: float = 0.01) -> None:
        """At least ``seconds``, and until ``stored`` commands were stored (a slow or busy
        machine takes longer; it never fails for being slow)."""
        started = time.monotonic()
        while time.monotonic() - started < seconds or (
            self.stored() < stored and time.monotonic() - started < timeout
        ):
            self.submit()
            time.sleep(pace)

    def stored(self) -> int:
        return sum(self.done[k] for k in ("goodwill", "returns", "issued", "settled"))


class WorkerProcess:
    """``python -m aftersales run --role ROLE --no-create-topics`` as a child process, with its
    configuration in the environment and its output in a log file."""

    def __init__(self, role: str, settings: Settings, log_path: Path) -> None:
        assert settings.kafka_bootstrap_servers
        self.role, self.log_path = role, log_path
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AFTERSALES_", "KAFKA_")) or k == "AFTERSALES_KEK_FILE"}
        env.update({
            "AFTERSALES_DATABASE_URL": settings.database_url,
            "AFTERSALES_READ_DATABASE_URL": settings.read_database_url,
            "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
            "AFTERSALES_ORDERS_TOPIC": settings.orders_topic,
            "AFTERSALES_SHIPMENTS_TOPIC": settings.shipments_topic,
            "AFTERSALES_CASE_EVENTS_TOPIC": settings.case_events_topic,
            "AFTERSALES_DLQ_TOPIC": settings.dlq_topic,
            "AFTERSALES_INBOUND_GROUP": settings.inbound_group,
            "AFTERSALES_PROJECTIONS_GROUP": settings.projections_group,
            "PYTHONUNBUFFERED": "1",
        })
        if settings.postgres_schema:
            env["AFTERSALES_POSTGRES_SCHEMA"] = settings.postgres_schema
        self.env = env
        self.popen: subprocess.Popen[bytes] | None = None
        self.starts = self.kills = 0

    def start(self) -> None:
        assert self.popen is None or self.popen.poll() is not None, "already running"
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts + 1} ---\n".encode())
            log.flush()
            self.popen = children.popen(
                [sys.executable, "-m", "aftersales", "run", "--role", self.role,
                 "--no-create-topics"],
                env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
            )
        self.starts += 1

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL: no cleanup of any kind runs in the worker."""
        assert self.popen is not None
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
            self.kills += 1
        self.popen.wait(timeout=10)

    def started(self) -> bool:
        """The worker says it runs (its signal handlers are in place) since its last start."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return text.find("running ", text.rfind(f"--- start {self.starts} ---")) >= 0

    def stop(self, timeout: float = 40.0) -> int:
        """SIGTERM, the worker's graceful stop (once it has started: a SIGTERM while it is
        still importing would just end it); SIGKILL when it does not exit in time."""
        if self.popen is None:
            return 0
        deadline = time.monotonic() + 60
        while self.popen.poll() is None and not self.started() and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)
        return self.popen.returncode

    def check_alive(self) -> None:
        if self.popen is not None and self.popen.poll() is not None:
            raise AssertionError(f"the {self.role} worker exited with {self.popen.returncode} "
                                 f"on its own:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def kill_once(worker: WorkerProcess, observed: Callable[[], int], mark: int, what: str) -> None:
    """SIGKILL the worker as soon as ``observed()`` (its durable progress: a position, a count
    of facts applied) reaches ``mark``. Marks come from the test's seed, so a seed replays the
    same kill moments whatever the machine's speed; a mark already reached kills it at once
    (while it starts up)."""
    wait_for(lambda: observed() >= mark, 120, f"{what} {mark} before a kill", worker.check_alive,
             interval=0.005)
    worker.kill()


def wait_for(condition: Callable[[], bool], timeout: float, what: str,
             check: Callable[[], None] | None = None, interval: float = 0.05) -> None:
    """Poll ``condition`` until true; ``check`` raises early when a worker died."""
    deadline = time.monotonic() + timeout
    while True:
        if check is not None:
            check()
        if condition():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout:.0f}s: {what}")
        time.sleep(interval)
