"""More than one process on one PostgreSQL store (issue 15): 1 and 2 processes of every role.

Needs PostgreSQL: ``$AFTERSALES_BENCH_POSTGRES_URL`` (``make bench`` passes the local test
database's); without it the benchmark measures nothing and says so. Every process is a real
``python -m aftersales`` child with its settings in its environment (store and read database
in fresh PostgreSQL schemas, fresh topics and groups, 6 partitions), as an operator runs them.

Untimed: a fresh store schema; the orders the commands need, ingested in-process in batches.

Timed, for P = 1 and then P = 2 processes of each role:

* **commands**: P ``aftersales submit FILE --envelopes`` at once, each a file of its own
  ``RequestReturn`` commands (one per delivered order, sent by its customer), N in all;
  commands/s = N / (launch → the last process exits, every command answered), start-up
  included (the same for both).
* **inbound**: 5 upstream messages per order on fresh ``orders``/``shipments`` topics; P
  ``aftersales run --role inbound`` in a fresh group; messages/s from the first message applied
  to the last (the store polled every 0.2 s), so joining the group is left out.
* **relay**: P ``aftersales run --role relay`` publishing the whole store to a fresh
  case-events topic (one leads, the other waits on the PostgreSQL advisory lock); events/s
  from the first published to the last (the topic's end offsets polled).
* **projections**: P ``aftersales run --role projections`` in a fresh group on that topic, the
  read database a fresh PostgreSQL schema; events/s from the first applied to all applied by
  every projection (their positions polled).

The baseline of each 2-process figure is the 1-process figure of the same run: the ratio is
what the second process adds (on 2 shared cores and one disk)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from kafka import KafkaConsumer, TopicPartition

from aftersales import children
from aftersales.bootstrap import open_app
from aftersales.brokers import ensure_topics
from aftersales.settings import eventsourcing_env
from bench.context import Context
from bench.kafka_util import json_message, publish
from bench.messages import customer_of, delivered_order_messages, is_order_message, order_id_of
from bench.report import BenchResult, Figure, progress
from bench.submit import commands_file
from bench.workload import ingest_in_batches
from consumers.case_events import PRIVATE_TOPICS
from privacy.kek import write_key_file
from projections.catalog import PROJECTIONS

URL_VARIABLE = "AFTERSALES_BENCH_POSTGRES_URL"
ROOT = Path(__file__).resolve().parent.parent
PARTITIONS = 6
PROCESSES = (1, 2)
POLL_S = 0.2
DEADLINE_S = 600.0
ORDER_TOPICS = ("aftersales.order.Placed", "aftersales.order.Paid",
                "aftersales.order.ShipmentScanned")  # one stored event per upstream message


class Cluster:
    """The PostgreSQL store and read schemas, the broker and the children's environment."""

    def __init__(self, ctx: Context, url: str) -> None:
        self.ctx, self.url = ctx, url
        self.bootstrap = ctx.broker().bootstrap_servers
        self.schema = f"bench_{ctx.run_id}"
        self.read_schemas: list[str] = []
        self.kek = ctx.path("kek").with_suffix(".key")
        write_key_file(self.kek)
        self._sql(f'CREATE SCHEMA "{self.schema}"')
        self.app = open_app(eventsourcing_env(url, self.schema),
                            environ={"AFTERSALES_KEK_FILE": str(self.kek)})

    def _sql(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            cursor = conn.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    def read_schema(self, name: str) -> str:
        schema = f"bench_{self.ctx.run_id}_{name}"
        self._sql(f'CREATE SCHEMA "{schema}"')
        self.read_schemas.append(schema)
        return schema

    def env(self, **settings: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
        env.update({
            "AFTERSALES_DATABASE_URL": self.url, "AFTERSALES_POSTGRES_SCHEMA": self.schema,
            "AFTERSALES_KEK_FILE": str(self.kek), "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "AFTERSALES_ORDERS_PARTITIONS": str(PARTITIONS),
            "AFTERSALES_SHIPMENTS_PARTITIONS": str(PARTITIONS),
            "AFTERSALES_CASE_EVENTS_PARTITIONS": str(PARTITIONS),
            "AFTERSALES_DLQ_TOPIC": self.ctx.topic("scale-dlq"),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                        os.environ.get("PYTHONPATH")])),
        })
        env.update({f"AFTERSALES_{k.upper()}": v for k, v in settings.items()})
        return env

    def count(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        try:
            found = self._sql(sql, params)
        except psycopg.errors.UndefinedTable:  # not made yet by the processes
            return 0
        return int(found[0][0] or 0) if found else 0

    @property
    def events_table(self) -> str:
        return f'"{self.schema}".{self.app.store.recorder.events_table_name}'  # type: ignore[attr-defined]

    def stored(self, topics: tuple[str, ...]) -> int:
        """Stored events of these topics (a count, not the highest position: PostgreSQL
        leaves gaps)."""
        return self.count(f"SELECT COUNT(*) FROM {self.events_table} WHERE topic = ANY(%s)",
                          (list(topics),))

    def published(self) -> int:
        """The stored events the relay publishes (principals' events stay in the store)."""
        private = " AND ".join("topic NOT LIKE %s" for _ in PRIVATE_TOPICS)
        return self.count(f"SELECT COUNT(*) FROM {self.events_table} WHERE {private}",
                          tuple(f"{prefix}%" for prefix in PRIVATE_TOPICS))

    def close(self) -> None:
        self.app.close()
        for schema in (self.schema, *self.read_schemas):
            with suppress(psycopg.Error):
                self._sql(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def processes(cluster: Cluster, argv: list[list[str]], env: dict[str, str], name: str
              ) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Children running ``python -m aftersales ARGV...``, stopped (SIGTERM, then SIGKILL) at
    the end; their output goes to log files in the scratch folder."""
    started: list[subprocess.Popen[bytes]] = []
    logs = []
    try:
        for index, args in enumerate(argv):
            log = cluster.ctx.path(f"{name}-{index}").with_suffix(".log").open("wb")
            logs.append(log)
            started.append(children.popen([sys.executable, "-m", "aftersales", *args],
                                           cwd=ROOT, env=env, stdout=log,
                                           stderr=subprocess.STDOUT))
        yield started
    finally:
        for process in started:
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        for log in logs:
            log.close()


def watch(done: Callable[[], int], expected: int, started: list[subprocess.Popen[bytes]],
          what: str) -> tuple[float, int]:
    """Poll ``done()`` until it reaches ``expected``; (seconds from the first progress to the
    end, what was done before that first progress was seen). When everything was done at the
    first sight (a tiny run), the seconds since the processes were launched, and 0."""
    launched = time.perf_counter()
    deadline = time.monotonic() + DEADLINE_S
    first: tuple[float, int] | None = None
    while True:
        found = done()
        now = time.perf_counter()
        if found and first is None:
            first = (now, found)
        if found >= expected:
            assert first is not None
            if first[1] >= expected:
                return now - launched, 0
            return now - first[0], first[1]
        for process in started:
            if process.poll() is not None:
                raise RuntimeError(f"{what}: a process exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: {found} of {expected} in {DEADLINE_S}s")
        time.sleep(POLL_S)


def rate(count: int, seconds: float, before: int) -> float:
    """Items per second over the watched interval (what was done before the first poll that
    saw progress does not count)."""
    return (count - before) / max(seconds, POLL_S)


# ---- the roles ----------------------------------------------------------------------------------
def commands(cluster: Cluster, count: int, procs: int) -> float:
    order_ids = ingest_in_batches(cluster.app, count, f"sc{procs}")
    share = -(-count // procs)
    files = [commands_file(cluster.ctx.path(f"scale-commands-{procs}-{n}").with_suffix(".jsonl"),
                           order_ids[n * share:(n + 1) * share], first=n * share)
             for n in range(procs)]
    env = cluster.env()
    argv = [["submit", str(file), "--envelopes"] for file in files]
    started = time.perf_counter()
    with processes(cluster, argv, env, f"submit-{procs}") as running:
        for process in running:
            if process.wait(timeout=DEADLINE_S) != 0:
                raise RuntimeError(f"submit exited with {process.returncode}")
    return count / (time.perf_counter() - started)


def inbound(cluster: Cluster, orders: int, procs: int) -> float:
    ctx = cluster.ctx
    orders_topic, shipments_topic = ctx.topic(f"scale-orders-{procs}"), ctx.topic(
        f"scale-shipments-{procs}")
    ensure_topics(cluster.bootstrap, {orders_topic: PARTITIONS, shipments_topic: PARTITIONS,
                                      ctx.topic("scale-dlq"): 1})
    messages = []
    for index in range(orders):
        for message in delivered_order_messages(order_id_of(index, f"si{procs}"),
                                                customer_of(index)):
            topic = orders_topic if is_order_message(message) else shipments_topic
            messages.append(json_message(topic, message))
    expected = publish(cluster.bootstrap, messages)
    before = cluster.stored(ORDER_TOPICS)
    env = cluster.env(orders_topic=orders_topic, shipments_topic=shipments_topic,
                      inbound_group=ctx.topic(f"scale-inbound-{procs}"))
    argv = [["run", "--role", "inbound", "--no-create-topics"]] * procs
    with processes(cluster, argv, env, f"inbound-{procs}") as running:
        seconds, first = watch(lambda: cluster.stored(ORDER_TOPICS) - before, expected,
                               running, "inbound")
    return rate(expected, seconds, first)


def relay(cluster: Cluster, topic: str, procs: int) -> float:
    ensure_topics(cluster.bootstrap, {topic: PARTITIONS})
    expected = cluster.published()
    consumer = KafkaConsumer(bootstrap_servers=cluster.bootstrap)
    partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]

    def published() -> int:
        return sum(consumer.end_offsets(partitions).values())

    env = cluster.env(case_events_topic=topic)
    argv = [["run", "--role", "relay", "--no-create-topics"]] * procs
    try:
        with processes(cluster, argv, env, f"relay-{procs}") as running:
            seconds, first = watch(published, expected, running, "relay")
    finally:
        consumer.close()
    return rate(expected, seconds, first)


def projections(cluster: Cluster, topic: str, expected: int, procs: int) -> float:
    schema = cluster.read_schema(f"read{procs}")
    read_url = f"{cluster.url}?options=-csearch_path%3D{schema}"

    def applied() -> int:
        rows = []
        with suppress(psycopg.errors.UndefinedTable):
            rows = cluster._sql(f'SELECT projection, SUM(next_offset) FROM "{schema}".'
                                "projection_positions GROUP BY projection")
        done = {name: int(total) for name, total in rows}
        return min(done.values()) if set(done) == set(PROJECTIONS) else 0

    env = cluster.env(case_events_topic=topic, read_database_url=read_url,
                      projections_group=cluster.ctx.topic(f"scale-projections-{procs}"))
    argv = [["run", "--role", "projections", "--no-create-topics"]] * procs
    with processes(cluster, argv, env, f"projections-{procs}") as running:
        seconds, first = watch(applied, expected, running, "projections")
    return rate(expected, seconds, first)


def run(ctx: Context) -> BenchResult:
    url = os.environ.get(URL_VARIABLE, "").strip()
    bench = BenchResult("scale_out", params={"processes": list(PROCESSES),
                                             "partitions": PARTITIONS})
    if not url:
        bench.notes.append(f"not measured: set {URL_VARIABLE} to a PostgreSQL database the "
                           "benchmark may create schemas in (make bench does)")
        return bench
    count, orders = ctx.size(2000, 60), ctx.size(2000, 60)
    bench.params.update({"commands": count, "inbound_messages": orders * 5,
                         "store": "PostgreSQL", "read_database": "PostgreSQL"})
    progress("scale_out: a fresh PostgreSQL schema and the broker")
    cluster = Cluster(ctx, url)
    found: dict[str, dict[int, float]] = {}
    try:
        for procs in PROCESSES:
            progress(f"scale_out: {procs} submit process(es), {count} commands")
            found.setdefault("commands", {})[procs] = commands(cluster, count, procs)
            progress(f"scale_out: {procs} inbound process(es), {orders * 5} messages")
            found.setdefault("inbound", {})[procs] = inbound(cluster, orders, procs)
        topics = {procs: ctx.topic(f"scale-case-events-{procs}") for procs in PROCESSES}
        for procs in PROCESSES:
            progress(f"scale_out: {procs} relay process(es), {cluster.published()} events")
            found.setdefault("relay", {})[procs] = relay(cluster, topics[procs], procs)
        expected = cluster.published()
        for procs in PROCESSES:
            progress(f"scale_out: {procs} projection runner(s), {expected} events")
            found.setdefault("projections", {})[procs] = projections(
                cluster, topics[PROCESSES[0]], expected, procs)
    finally:
        cluster.close()
    units = {"commands": "commands/s", "inbound": "messages/s", "relay": "events/s",
             "projections": "events/s"}
    for role, rates in found.items():
        progress(f"scale_out: {role}: " + ", ".join(f"{p} process(es) {r:,.0f} {units[role]}"
                                                  for p, r in rates.items()))
        for procs, value in rates.items():
            one = rates[PROCESSES[0]]
            bench.figures.append(Figure(
                f"scale_out: {role}, {procs} process{'es' if procs > 1 else ''} (PostgreSQL)",
                value, units[role], one if procs > 1 else None,
                baseline_what=f"{role}: the same with 1 process, in the same run",
                target="—"))
    bench.repeats = {role: [rates[p] for p in PROCESSES] for role, rates in found.items()}
    bench.notes.append(
        "the relay keeps one leader (a PostgreSQL advisory lock): a second relay process waits "
        "and takes over when the leader dies, it does not add throughput. Store writes of "
        "several processes serialise on the event table's lock (the library's insert takes it "
        "to keep positions gap-free): group commit makes each hold of it carry a whole batch.")
    bench.params["measured_at"] = datetime.now(UTC).isoformat()
    return bench
