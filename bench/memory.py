"""Memory of a projection runner after 1 M events (SPEC §6: < 200 MB RSS).

Untimed: real CloudEvents are made by the relay's encoder (consumers.case_events.encode) from a
small store filled by the workload; they are the templates. N events are generated from them
by copying the templates over and over, each copy with its own aggregate ids, event ids and
order ids (every UUID and every order id in an event is replaced consistently within a copy)
and store positions that keep increasing, so every copy opens new cases, orders, refunds and
decisions in the read database, as N real events would. They are produced to a fresh
6-partition topic by a raw producer tuned for throughput (acks=1, big batches), keyed by subject
as the relay does.

Measured: ``python -m aftersales run --role projections --no-create-topics`` in a subprocess,
with KAFKA_BOOTSTRAP_SERVERS, AFTERSALES_CASE_EVENTS_TOPIC and AFTERSALES_READ_DATABASE_URL
(and AFTERSALES_DATABASE_URL) pointing at the topic, a fresh SQLite read database and a scratch
store. Its VmRSS and VmHWM are read from /proc/PID/status every half second until the
projection positions in the read database show all N events applied by every projection; the
figure is VmRSS then (after N events), and VmHWM (the peak) is shown too.

Baseline: VmRSS of a bare Python process (the same interpreter) that imports the modules the
runner's process imports (aftersales.cli, aftersales.bootstrap, the projections, kafka) and
does nothing else: the ratio shows what consuming N events adds."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from kafka import KafkaProducer
from kafka.partitioner.default import murmur2

from aftersales import children
from aftersales.bootstrap import TOPIC_PARTITIONS
from aftersales.brokers import ensure_topics
from bench.context import Context
from bench.report import BenchResult, Figure, progress
from bench.workload import new_app, populate
from consumers import kafka_clients
from consumers.case_events import encode
from projections.catalog import PROJECTIONS

PARTITIONS = TOPIC_PARTITIONS["case_events"]
TARGET_MB = 200.0
ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_ORDERS = 20
ORDER_PREFIX = "qz"  # the template store's order ids: qz-0, qz-1, … (nothing else has "qz-")
POSITION = "@@position@@"
UUID_TEXT = rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
TOKENS = re.compile(b"(" + UUID_TEXT + b"|" + ORDER_PREFIX.encode() + rb"-|\"" +
                    POSITION.encode() + rb"\")")
DEADLINE_S = 600.0
SAMPLE_EVERY_S = 0.5
BARE_IMPORTS = ("import aftersales.cli, aftersales.bootstrap, aftersales.cli_run, "
                "consumers.projection_runner, projections.catalog, kafka, orjson, sqlite3")


# -- the events ------------------------------------------------------------------------------

class Template:
    """One real CloudEvent, cut at the places a copy changes: literal bytes and tokens."""

    def __init__(self, value: bytes) -> None:
        self.parts: list[bytes] = []
        self.tokens: list[bytes] = []  # one between each two parts
        start = 0
        for match in TOKENS.finditer(value):
            self.parts.append(value[start:match.start()])
            self.tokens.append(match.group(0))
            start = match.end()
        self.parts.append(value[start:])
        event = orjson.loads(value.replace(f'"{POSITION}"'.encode(), b"0"))
        self.subject: bytes = event["subject"].encode()


def templates(ctx: Context) -> list[Template]:
    """Real CloudEvents of TEMPLATE_ORDERS orders and their commands, as the relay encodes them,
    each with its position replaced by a placeholder."""
    app = new_app(ctx.path("memory-templates").with_suffix(".sqlite"))
    stored = populate(app, TEMPLATE_ORDERS, ORDER_PREFIX)
    out = []
    for notification in app.store.recorder.select_notifications(1, stored):
        _, value = encode(notification)
        event = orjson.loads(value)
        event["position"] = POSITION
        out.append(Template(orjson.dumps(event)))
    app.close()
    return out


def copies(found: list[Template], count: int) -> Iterator[tuple[bytes, bytes]]:
    """``count`` (key, value) messages: the templates copied over and over. Copy c replaces the
    last 12 hex digits of every UUID with c (so ids stay unique and consistent across the
    events of a copy), order ids qz-… with c<c>-…, and numbers positions 1, 2, 3…"""
    position = 0
    copy = 0
    while True:
        suffix = f"{copy:012x}".encode()
        order = f"c{copy}-".encode()
        for template in found:
            if position == count:
                return
            position += 1
            out = [template.parts[0]]
            for token, part in zip(template.tokens, template.parts[1:], strict=True):
                if len(token) == 36:
                    out.append(token[:24] + suffix)
                elif token[0] == 34:  # b'"': the position placeholder
                    out.append(str(position).encode())
                else:
                    out.append(order)
                out.append(part)
            yield template.subject[:24] + suffix, b"".join(out)
        copy += 1


def produce(bootstrap: str, topic: str, messages: Iterator[tuple[bytes, bytes]]) -> int:
    """Send every message with a producer tuned for throughput; flush; returns the count."""
    producer: KafkaProducer = kafka_clients.producer(
        bootstrap, acks=1, enable_idempotence=False, linger_ms=50, batch_size=512 * 1024,
        max_in_flight_requests_per_connection=5, max_request_size=4 * 1024 * 1024,
        metrics_enabled=False)
    # The default partitioner's murmur2 (pure Python) once per key, not once per message.
    partition_of: dict[bytes, int] = {}
    sent = 0
    try:
        for key, value in messages:
            partition = partition_of.get(key)
            if partition is None:
                if len(partition_of) > 100_000:
                    partition_of.clear()
                partition = partition_of[key] = (murmur2(key) & 0x7FFFFFFF) % PARTITIONS
            producer.send(topic, key=key, value=value, partition=partition)
            sent += 1
        producer.flush(timeout=120)
    finally:
        producer.close(timeout=10)
    return sent


# -- the processes ---------------------------------------------------------------------------

def status_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in KiB (from /proc/PID/status)."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            out[name] = int(value.split()[0])
    return out


def bare_rss_mb() -> float:
    """VmRSS of a Python process that imported what the runner's process imports."""
    code = f"{BARE_IMPORTS}; import sys; print('ready', flush=True); sys.stdin.read()"
    process = children.popen([sys.executable, "-c", code], cwd=ROOT, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError("the bare process did not start")
        time.sleep(0.3)
        return status_kb(process.pid)["VmRSS"] / 1024
    finally:
        process.kill()
        process.wait(timeout=10)


def applied(read_db: Path) -> int:
    """Events every projection has applied (sum of next offsets over the partitions, as the
    topic started empty), 0 before the runner made its tables."""
    if not read_db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{read_db}?mode=ro", uri=True, timeout=5) as conn:
            rows = conn.execute("SELECT projection, SUM(next_offset) FROM projection_positions "
                                "GROUP BY projection").fetchall()
    except sqlite3.OperationalError:  # not created yet
        return 0
    done = {name: int(total) for name, total in rows}
    if set(done) != set(PROJECTIONS):
        return 0
    return min(done.values())


def runner_env(bootstrap: str, topic: str, read_db: Path, store: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    env.update({
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "AFTERSALES_CASE_EVENTS_TOPIC": topic,
        "AFTERSALES_READ_DATABASE_URL": f"sqlite:///{read_db}",
        "AFTERSALES_DATABASE_URL": f"sqlite:///{store}",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    })
    return env


def watch_runner(ctx: Context, bootstrap: str, topic: str, expected: int
                 ) -> dict[str, Any]:
    """Run the projection runner in a subprocess until it applied ``expected`` events;
    sample its memory; return the samples and the final figures."""
    read_db = ctx.path("memory-read").with_suffix(".sqlite")
    log_path = ctx.path("memory-runner").with_suffix(".log")
    env = runner_env(bootstrap, topic, read_db, ctx.path("memory-store").with_suffix(".sqlite"))
    command = [sys.executable, "-m", "aftersales", "run", "--role", "projections",
               "--no-create-topics"]
    samples: list[tuple[float, int, float]] = []  # seconds, events applied, RSS MB
    with log_path.open("w") as log:
        process = children.popen(command, cwd=ROOT, env=env, stdout=log,
                                 stderr=subprocess.STDOUT)
        started = time.perf_counter()
        first: float | None = None
        try:
            done = 0
            while done < expected:
                if process.poll() is not None:
                    raise RuntimeError(f"the runner exited with {process.returncode}: "
                                       f"{log_path.read_text()[-2000:]}")
                if time.perf_counter() - started > DEADLINE_S:
                    raise TimeoutError(f"the runner applied {done} of {expected} events in "
                                       f"{DEADLINE_S}s")
                time.sleep(SAMPLE_EVERY_S)
                done = applied(read_db)
                kb = status_kb(process.pid)
                now = time.perf_counter() - started
                if done and first is None:
                    first = now
                samples.append((round(now, 2), done, round(kb["VmRSS"] / 1024, 1)))
                if len(samples) % 20 == 0:
                    progress(f"memory: {done:,} of {expected:,} applied, RSS "
                             f"{kb['VmRSS'] / 1024:.0f} MB")
            ended = time.perf_counter() - started
            final = status_kb(process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
    return {"samples": samples, "rss_mb": final["VmRSS"] / 1024, "hwm_mb": final["VmHWM"] / 1024,
            "seconds": ended - (first or 0.0), "startup_s": first or 0.0,
            "read_db_mb": read_db.stat().st_size / 1024 / 1024}


def run(ctx: Context) -> BenchResult:
    count = ctx.size(1_000_000, 50_000)
    broker = ctx.broker()
    bootstrap = broker.bootstrap_servers
    progress(f"memory: template events from {TEMPLATE_ORDERS} orders and their commands")
    found = templates(ctx)
    topic = ctx.topic("memory")
    ensure_topics(bootstrap, {topic: PARTITIONS})
    progress(f"memory: producing {count:,} generated CloudEvents to {topic} (untimed)")
    started = time.perf_counter()
    sent = produce(bootstrap, topic, copies(found, count))
    produce_s = time.perf_counter() - started
    progress(f"memory: produced {sent:,} in {produce_s:.1f}s; starting the runner")
    watched = watch_runner(ctx, bootstrap, topic, count)
    bare = bare_rss_mb()
    rss, hwm = watched["rss_mb"], watched["hwm_mb"]
    samples = watched["samples"]
    bench = BenchResult("memory", params={
        "events": count, "template_events": len(found), "template_orders": TEMPLATE_ORDERS,
        "broker": broker.kind, "partitions": PARTITIONS, "produce_seconds": round(produce_s, 1),
        "runner_seconds": round(watched["seconds"], 1),
        "runner_startup_seconds": round(watched["startup_s"], 1),
        "read_db_mb": round(watched["read_db_mb"], 1), "bare_rss_mb": round(bare, 1)})
    # RSS at every tenth of the way, to show whether it grows with the events or levels off.
    marks = []
    for tenth in range(1, 11):
        reached = [s for s in samples if s[1] >= count * tenth / 10]
        if reached and (reached[0][1], reached[0][2]) not in marks:
            marks.append((reached[0][1], reached[0][2]))
    bench.repeats = {"rss_mb_samples": [s[2] for s in samples],
                     "applied_samples": [float(s[1]) for s in samples]}
    label = f"{count / 1_000_000:g} M" if count >= 1_000_000 else f"{count:,}"
    bench.figures = [
        Figure(f"memory: runner RSS after {label} events", rss, "MB", bare,
               baseline_what="VmRSS of a bare Python process importing the same modules "
                             "(aftersales.cli, bootstrap, projections, kafka), MB",
               higher_is_better=False, target="< 200 MB RSS", met=rss < TARGET_MB),
        Figure("memory: runner peak RSS (VmHWM)", hwm, "MB", bare, higher_is_better=False,
               target="< 200 MB RSS", met=hwm < TARGET_MB),
        Figure("memory: runner throughput in that run", count / watched["seconds"],
               "events/s", target="—"),
    ]
    bench.notes.append(
        f"{count:,} events generated from {len(found)} real CloudEvents of {TEMPLATE_ORDERS} "
        f"orders; produced in {produce_s:.0f}s; the runner process applied them in "
        f"{watched['seconds']:.0f}s after a {watched['startup_s']:.1f}s start (imports, group "
        f"join); read database {watched['read_db_mb']:.0f} MB on disk. RSS (MB) at each tenth "
        f"of the events: " + ", ".join(f"{mb:.0f} @ {n:,}" for n, mb in marks))
    return bench
