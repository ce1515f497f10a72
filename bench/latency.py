"""Command → visible in a projection via Kafka, at 200 commands/s (SPEC §6: p50 < 100 ms,
p99 < 500 ms).

Untimed: delivered orders ingested into a fresh SQLite store; then ``python -m aftersales run
--role relay --role projections`` starts in a subprocess (its own interpreter, so its GIL is
not ours) with the same store, a fresh SQLite read database and a fresh case-events topic, and
catches up with the ingested events.

Timed: this process handles goodwill ``RequestRefund`` commands on those orders in one thread at
a steady 200/s (each at its slot: start + i/200 s); for each, the clock starts just before the
call, and stops when a separate read-only connection to the read database, polled every 2 ms
by a poller process (its own GIL too; time.monotonic is one clock for all processes), first
sees the case's row in the ``cases`` table (store → relay → Kafka → projection runner →
SQLite commit → visible). A warm-up second is not counted.

Baseline: a raw kafka-python produce → consume round trip of one message at the same rate and
for as long: a producer with the product's settings (consumers/kafka_clients.producer) sends a
CloudEvent-sized message and flushes (as the relay does after each batch); a consumer with the
runner's settings, in a fresh group, in a second thread, notes when each arrives."""

from __future__ import annotations

import bisect
import math
import struct
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer

from aftersales import children
from aftersales.bootstrap import TOPIC_PARTITIONS
from aftersales.brokers import ensure_topics
from aftersales_core.application.services import Services
from bench.context import Context
from bench.kafka_util import StartClock
from bench.memory import ROOT, applied, runner_env
from bench.report import BenchResult, Figure, percentile, progress
from bench.workload import COMMANDS_AT, as_principal, ingest_orders, new_app
from consumers import kafka_clients
from consumers.case_events import count_relayed

RATE = 200.0  # commands per second
POLL_S = 0.002  # how often the read database is polled
REFUNDS_PER_ORDER = 5  # goodwill refunds of 5.00 on an order of 124.00
TARGET_P50_MS, TARGET_P99_MS = 100.0, 500.0
CATCH_UP_S = 120.0
DRAIN_S = 30.0
MESSAGE_BYTES = 540  # the mean CloudEvent size measured by the relay benchmark


class Paced:
    """Call ``work(i)`` for i in range(count) at ``rate`` per second, each at its own slot
    (start + i/rate), in this thread; a call that is late runs at once."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.late = 0

    def run(self, count: int, work: Callable[[int], None]) -> float:
        started = time.perf_counter()
        for i in range(count):
            slot = started + i / self.rate
            wait = slot - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            elif wait < -1 / self.rate:
                self.late += 1
            work(i)
        return time.perf_counter() - started


#: The poller: its own process (so no GIL is shared with the commands), every POLL_S reading
#: the new rows of ``cases`` (by rowid) in the read database and the relay's position in the
#: store's tracking table, appending "case_id time" and "@relay position time" lines to a file.
POLLER = """
import signal, sqlite3, sys, time
read_db, store, relay_name, out_path, every = sys.argv[1:6]
stop = []
signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
read = sqlite3.connect(f"file:{read_db}?mode=ro", uri=True, timeout=5)
events = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5)
last = read.execute("SELECT COALESCE(MAX(rowid), 0) FROM cases").fetchone()[0]
relayed = 0
polls = 0
with open(out_path, "w") as out:
    print("ready", flush=True)
    while not stop:
        rows = read.execute("SELECT rowid, case_id FROM cases WHERE rowid > ? ORDER BY rowid",
                            (last,)).fetchall()
        position = events.execute("SELECT MAX(notification_id) FROM tracking "
                                  "WHERE application_name = ?", (relay_name,)).fetchone()[0]
        now = time.monotonic()
        polls += 1
        if rows:
            last = rows[-1][0]
            out.write("".join(f"{case_id} {now!r}\\n" for _, case_id in rows))
        if position is not None and position > relayed:
            relayed = position
            out.write(f"@relay {position} {now!r}\\n")
        out.flush()
        time.sleep(float(every))
    out.write(f"@polls {polls} 0\\n")
"""


class Visibility:
    """When each case's row first appeared in the read database, and when the relay's
    recorded position moved, seen by a poller process (time.monotonic is CLOCK_MONOTONIC, one
    clock for every process)."""

    def __init__(self, read_db: Path, store: Path, relay_name: str, out_path: Path) -> None:
        self.out_path = out_path
        self.process = children.popen(
            [sys.executable, "-c", POLLER, str(read_db), str(store), relay_name, str(out_path),
             str(POLL_S)], stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("latency: the poller did not start")
        self.polls = 0
        self.relayed: list[tuple[int, float]] = []  # (relay position, when first seen)
        self._relayed_positions: list[int] = []

    def seen(self) -> dict[str, float]:
        out: dict[str, float] = {}
        relayed = []
        for line in self.out_path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2:
                out[parts[0]] = float(parts[1])
            elif len(parts) == 3 and parts[0] == "@relay":
                relayed.append((int(parts[1]), float(parts[2])))
            elif len(parts) == 3 and parts[0] == "@polls":
                self.polls = int(parts[1])
        self.relayed = relayed
        self._relayed_positions = [p for p, _ in relayed]
        return out

    def relayed_at(self, position: int) -> float | None:
        """When the relay's recorded position first reached ``position``."""
        index = bisect.bisect_left(self._relayed_positions, position)
        return self.relayed[index][1] if index < len(self.relayed) else None

    def wait_for(self, case_ids: list[str], timeout: float) -> dict[str, float]:
        """When each of ``case_ids`` became visible; raises if some did not in time."""
        deadline = time.monotonic() + timeout
        while True:
            seen = self.seen()
            missing = [c for c in case_ids if c not in seen]
            if not missing:
                return {c: seen[c] for c in case_ids}
            if time.monotonic() > deadline:
                raise TimeoutError(f"latency: {len(missing)} of {len(case_ids)} cases not "
                                   f"visible after {timeout}s")
            time.sleep(0.05)

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.seen()  # the poll count


def _wait_caught_up(process: subprocess.Popen[bytes], read_db: Path, stored: int,
                    log_path: Path) -> float:
    started = time.perf_counter()
    while applied(read_db) < stored:
        if process.poll() is not None:
            raise RuntimeError(f"the pipeline exited with {process.returncode}: "
                               f"{log_path.read_text()[-2000:]}")
        if time.perf_counter() - started > CATCH_UP_S:
            raise TimeoutError(f"the pipeline applied {applied(read_db)} of {stored} events in "
                               f"{CATCH_UP_S}s")
        time.sleep(0.05)
    return time.perf_counter() - started


def _measure_product(ctx: Context, bootstrap: str, warm: int, count: int
                     ) -> tuple[list[float], list[float], dict[str, Any]]:
    """Latencies (s) of ``count`` commands after ``warm`` warm-up ones, and their handling."""
    store = ctx.path("latency-store").with_suffix(".sqlite")
    read_db = ctx.path("latency-read").with_suffix(".sqlite")
    log_path = ctx.path("latency-pipeline").with_suffix(".log")
    total = warm + count
    orders = math.ceil(total / REFUNDS_PER_ORDER)
    progress(f"latency: ingesting {orders} delivered orders (untimed)")
    app: Services = new_app(store)
    order_ids = ingest_orders(app, orders, prefix="lo")
    stored = app.store.recorder.max_notification_id() or 0
    published, _ = count_relayed(app.store.recorder, 0, cap=stored + 1)  # not principals'
    topic = ctx.topic("latency-case-events")
    ensure_topics(bootstrap, {topic: TOPIC_PARTITIONS["case_events"]})
    env = runner_env(bootstrap, topic, read_db, store)
    command = [sys.executable, "-m", "aftersales", "run", "--role", "relay", "--role",
               "projections", "--no-create-topics"]
    case_ids = [str(uuid.uuid4()) for _ in range(total)]
    sent: list[float] = []
    handling: list[float] = []
    first_positions: list[int] = []
    info: dict[str, Any] = {"orders": orders, "store_events_before": stored}
    with log_path.open("w") as log:
        process = children.popen(command, cwd=ROOT, env=env, stdout=log,
                                 stderr=subprocess.STDOUT)
        visibility: Visibility | None = None
        try:
            progress(f"latency: relay + projections running (pid {process.pid}); catching up "
                     f"with {published} published events")
            info["catch_up_s"] = round(_wait_caught_up(process, read_db, published, log_path),
                                       2)
            visibility = Visibility(read_db, store, f"relay:{topic}",
                                    ctx.path("latency-seen").with_suffix(".txt"))
            last_position = [stored]
            agent = as_principal("agent-3")

            def one(i: int) -> None:
                started = time.monotonic()
                app.refunds.request(
                    agent, case_id=uuid.UUID(case_ids[i]), order_id=order_ids[i % orders],
                    source="goodwill", reason="late delivery",
                    at=COMMANDS_AT + timedelta(seconds=i), amount=Decimal("5.00"))
                saved = time.monotonic()
                sent.append(started)
                handling.append(saved - started)
                # Only this process appends to the store: the command's first event is next.
                first_positions.append(last_position[0] + 1)
                last_position[0] = app.store.recorder.max_notification_id() or 0

            progress(f"latency: {warm} warm-up commands, then {count} at {RATE:.0f}/s")
            Paced(RATE).run(warm, one)
            visibility.wait_for(case_ids[:warm], DRAIN_S)
            paced = Paced(RATE)
            seconds = paced.run(count, lambda i: one(warm + i))
            seen = visibility.wait_for(case_ids[warm:], DRAIN_S)
            info.update(commands_per_s=round(count / seconds, 1), late_slots=paced.late,
                        pipeline_exit_code=process.poll())
        finally:
            if visibility is not None:
                visibility.close()
                info["polls"] = visibility.polls
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            app.close()
    latencies = [seen[case_ids[i]] - sent[i] for i in range(warm, total)]
    relayed = []  # seconds from the command's start until the relay recorded its first event
    for i in range(warm, total):
        at = visibility.relayed_at(first_positions[i]) if visibility is not None else None
        if at is not None:
            relayed.append(at - sent[i])
    info["until_relayed_ms"] = [1000 * s for s in relayed]
    return latencies, handling[warm:], info


def _measure_raw(ctx: Context, bootstrap: str, warm: int, count: int) -> list[float]:
    """Produce → consume latencies (s) of ``count`` messages at RATE, after ``warm``."""
    topic = ctx.topic("latency-raw")
    ensure_topics(bootstrap, {topic: TOPIC_PARTITIONS["case_events"]})
    consumer: KafkaConsumer = kafka_clients.consumer(bootstrap, ctx.topic("latency-raw-group"),
                                                     max_poll_records=2000)
    producer: KafkaProducer = kafka_clients.producer(bootstrap)
    producer.partitions_for(topic)
    clock = StartClock()
    consumer.subscribe([topic], listener=clock)
    arrived: dict[int, float] = {}
    stop = threading.Event()
    total = warm + count

    def consume() -> None:
        while not stop.is_set() and len(arrived) < total:
            for records in consumer.poll(timeout_ms=100).values():
                now = time.monotonic()
                for record in records:
                    index, sent = struct.unpack_from("!Id", record.value)
                    arrived[index] = now - sent

    thread = threading.Thread(target=consume, name="raw-consumer", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while clock.started is None:  # the group has its partitions before the first send
            if time.monotonic() > deadline:
                raise TimeoutError("latency: the raw consumer got no partitions")
            time.sleep(0.01)
        padding = b"x" * (MESSAGE_BYTES - 12)

        def send(i: int) -> None:
            value = struct.pack("!Id", i, time.monotonic()) + padding
            producer.send(topic, key=uuid.uuid4().bytes, value=value)
            producer.flush(timeout=10)

        Paced(RATE).run(warm, send)
        Paced(RATE).run(count, lambda i: send(warm + i))
        deadline = time.monotonic() + DRAIN_S
        while len(arrived) < total and time.monotonic() < deadline:
            time.sleep(0.01)
        if len(arrived) < total:
            raise TimeoutError(f"latency: {total - len(arrived)} raw messages never arrived")
    finally:
        stop.set()
        thread.join(timeout=5)
        consumer.close(autocommit=False)
        producer.close(timeout=5)
    return [arrived[warm + i] for i in range(count)]


def run(ctx: Context) -> BenchResult:
    seconds = ctx.size(20, 5)
    count, warm = int(seconds * RATE), int(RATE)
    broker = ctx.broker()
    bootstrap = broker.bootstrap_servers
    latencies, handling, info = _measure_product(ctx, bootstrap, warm, count)
    relayed_ms: list[float] = info.pop("until_relayed_ms")
    ms = [1000 * s for s in latencies]
    handling_ms = [1000 * s for s in handling]
    p50, p99 = percentile(ms, 50), percentile(ms, 99)
    progress(f"latency: command → visible p50 {p50:.1f} ms, p99 {p99:.1f} ms; now the raw "
             f"produce → consume baseline ({count} messages at {RATE:.0f}/s)")
    raw_ms = [1000 * s for s in _measure_raw(ctx, bootstrap, warm, count)]
    raw50, raw99 = percentile(raw_ms, 50), percentile(raw_ms, 99)
    progress(f"latency: raw produce → consume p50 {raw50:.1f} ms, p99 {raw99:.1f} ms")
    bench = BenchResult("latency", params={
        "rate_per_s": RATE, "seconds": seconds, "commands": count, "warm_up_commands": warm,
        "command": "goodwill RequestRefund (9 events, the first opens the case)",
        "poll_ms": POLL_S * 1000, "broker": broker.kind,
        "pipeline": "python -m aftersales run --role relay --role projections (subprocess)",
        **info})
    bench.repeats = {"latency_ms": ms, "handling_ms": handling_ms, "raw_latency_ms": raw_ms,
                     "until_relayed_ms": relayed_ms}
    raw_what = ("raw kafka-python produce (product settings, flush per message) → consume "
                "(runner settings) of one CloudEvent-sized message at the same rate, ms")
    bench.figures = [
        Figure("latency: command → visible in cases, p50", p50, "ms", raw50,
               baseline_what=raw_what, higher_is_better=False, target="p50 < 100 ms",
               met=p50 < TARGET_P50_MS),
        Figure("latency: command → visible in cases, p99", p99, "ms", raw99,
               higher_is_better=False, target="p99 < 500 ms", met=p99 < TARGET_P99_MS),
        Figure("latency: of which command handling, p50", percentile(handling_ms, 50), "ms",
               higher_is_better=False, target="—"),
        Figure("latency: of which until the relay recorded it, p50",
               percentile(relayed_ms, 50) if relayed_ms else 0.0, "ms",
               higher_is_better=False, target="—"),
    ]
    relayed_note = (f"p50 {percentile(relayed_ms, 50):.1f} ms, p99 "
                    f"{percentile(relayed_ms, 99):.1f} ms" if relayed_ms else "not seen")
    bench.notes.append(
        f"{count} commands at {info.get('commands_per_s')}/s ({info.get('late_slots')} slots "
        f"more than 5 ms late); max {max(ms):.0f} ms. Stages, from the command's start: "
        f"saved (load, decide, save) p50 {percentile(handling_ms, 50):.1f} ms, p99 "
        f"{percentile(handling_ms, 99):.1f} ms; the relay's position recorded in the store "
        f"(after its batch was acknowledged; it sleeps 20 ms when idle, flushes each batch with "
        f"acks=all and linger 5 ms) {relayed_note}; visible in cases p50 {p50:.1f} ms, p99 "
        f"{p99:.1f} ms (the runner may apply an event before the relay records its position).")
    return bench
