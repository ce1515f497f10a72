"""Projection runner from Kafka, batched (SPEC §6: ≥ 10,000 events/s and ≥ 50 % of raw).

Untimed: a store filled by the workload (orders ingested, then the command mix), published by
``consumers.relay.Relay`` to a fresh 6-partition topic: N real CloudEvents. Timed: a
``consumers.projection_runner.ProjectionRunner`` with every projection, a fresh SQLite read
database in the scratch folder and a fresh consumer group (the consumer settings of
aftersales.bootstrap.build_projection_runner: max_poll_records=2000), driven by its own ``run``
loop, from the moment the group has its partitions (after the runner's seek to the stored
positions) until all N events are applied and committed.

Baseline: raw kafka-python consumption of the same topic: a KafkaConsumer with the same settings
in a fresh group, reading all N messages and orjson-decoding each, timed the same way."""

from __future__ import annotations

import cProfile
import pstats
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from aftersales.bootstrap import TOPIC_PARTITIONS
from aftersales.brokers import ensure_topics
from aftersales_core.application.services import Services
from bench.context import Context
from bench.kafka_util import consume_all
from bench.report import REPEATS, BenchResult, Figure, median, paired, progress
from bench.workload import new_app, populate
from consumers import kafka_clients
from consumers.projection_runner import ProjectionRunner
from consumers.relay import Relay
from projections.catalog import all_projections
from projections.db import ReadDatabase

PARTITIONS = TOPIC_PARTITIONS["case_events"]
MAX_POLL_RECORDS = 2000  # as aftersales.bootstrap.build_projection_runner
TARGET_RATE = 10_000.0
TARGET_RATIO = 0.6  # issue 15 (SPEC §6: 50 %)
DEADLINE_S = 300.0

#: Filled stores, shared by the benchmarks of one run (projection_runner and rebuild).
_STORES: dict[tuple[str, int], tuple[Services, int]] = {}


def filled_store(ctx: Context, orders: int) -> tuple[Services, int]:
    """A store filled by the workload (``orders`` orders and their commands), made once per run;
    returns the application and the number of events stored."""
    key = (ctx.run_id, orders)
    if key not in _STORES:
        progress(f"filling a store with {orders} orders and their commands (untimed)")
        started = time.perf_counter()
        app = new_app(ctx.path("store").with_suffix(".sqlite"))
        events = populate(app, orders)
        progress(f"store filled: {events} events in {time.perf_counter() - started:.1f}s")
        _STORES[key] = (app, events)
    return _STORES[key]


def relay_to_topic(app: Services, bootstrap: str, topic: str, positions: int) -> int:
    """Publish the store's first ``positions`` events to a fresh topic with the product's relay;
    returns how many messages the topic holds (private events, such as principals', stay in the
    store)."""
    ensure_topics(bootstrap, {topic: PARTITIONS})
    producer: KafkaProducer = kafka_clients.producer(bootstrap)
    store = app.store
    relay = Relay(store.recorder, store.factory.tracking_recorder(), lambda: producer, topic,
                  name=f"bench-{topic}", batch_size=min(positions, 500))
    try:
        while relay.stats.position < positions:
            if relay.step() == 0:
                raise RuntimeError(f"relay stopped at position {relay.stats.position} of "
                                   f"{positions}")
    finally:
        producer.close(timeout=5)
    return messages_on(bootstrap, topic)


def messages_on(bootstrap: str, topic: str) -> int:
    """The number of messages on a fresh topic (the sum of its partitions' end offsets)."""
    consumer: KafkaConsumer = kafka_clients.consumer(bootstrap, None)
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        return sum(consumer.end_offsets(partitions).values())
    finally:
        consumer.close(autocommit=False)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


class _Timings:
    """Seconds spent inside the consumer's poll and commit (the rest is decode + apply), from
    ``since`` (when the partitions were assigned) on."""

    def __init__(self) -> None:
        self.poll = 0.0
        self.commit = 0.0
        self.since: float | None = None

    def add(self, what: str, started: float) -> None:
        if self.since is not None:
            ended = time.perf_counter()
            setattr(self, what, getattr(self, what) + ended - max(started, self.since))


def timed_consumer(bootstrap: str, group: str, timings: _Timings) -> KafkaConsumer:
    """The runner's consumer (kafka_clients.consumer, max_poll_records=2000) with its poll and
    commit timed: two clock reads per call, nothing else changes."""
    consumer = kafka_clients.consumer(bootstrap, group, max_poll_records=MAX_POLL_RECORDS)
    poll, commit = consumer.poll, consumer.commit

    def timed_poll(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return poll(*args, **kwargs)
        finally:
            timings.add("poll", started)

    def timed_commit(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return commit(*args, **kwargs)
        finally:
            timings.add("commit", started)

    consumer.poll = timed_poll
    consumer.commit = timed_commit
    return consumer


class TimedRunner(ProjectionRunner):
    """The product's runner, run by its own ``run`` loop, stopped once it has applied
    ``expected`` events; the clock starts when the runner has sought its partitions."""

    def __init__(self, db: ReadDatabase, make_consumer: Callable[[], KafkaConsumer], topic: str,
                 expected: int, timings: _Timings | None = None,
                 profiler: cProfile.Profile | None = None) -> None:
        super().__init__(db, all_projections(), make_consumer, topic)
        self.expected, self.timings, self.profiler = expected, timings, profiler
        self._profiling = False
        self.stop = threading.Event()
        self.started: float | None = None
        self.ended: float | None = None
        self.deadline = time.monotonic() + DEADLINE_S

    def seek_to_stored(self, assigned: list[TopicPartition]) -> None:
        super().seek_to_stored(assigned)
        if self.started is None:
            self.started = time.perf_counter()
            if self.timings is not None:
                self.timings.since = self.started

    def poll_once(self, timeout_ms: int = 200) -> int:
        # kafka-python calls the rebalance listener on its network thread; the profiler must be
        # enabled on this one (the runner's), from the first poll after the assignment.
        if self.profiler is not None and self.started is not None and not self._profiling:
            self._profiling = True
            self.profiler.enable()
        count = super().poll_once(timeout_ms)
        if self.stats.events >= self.expected:
            if self.profiler is not None and self._profiling:
                self.profiler.disable()
            self.ended = time.perf_counter()
            self.stop.set()
        elif time.monotonic() > self.deadline:  # stop: consume_product names the shortfall
            self.stop.set()
        return count

    def seconds(self) -> float:
        assert self.started is not None and self.ended is not None
        return self.ended - self.started


def consume_product(ctx: Context, bootstrap: str, topic: str, expected: int, group: str,
                    profiler: cProfile.Profile | None = None) -> tuple[TimedRunner, _Timings]:
    timings = _Timings()
    db = ReadDatabase(sqlite_url(ctx.path("read").with_suffix(".sqlite")))
    runner = TimedRunner(db, partial(timed_consumer, bootstrap, group, timings), topic, expected,
                         timings, profiler)
    try:
        runner.run(runner.stop)
    finally:
        db.close()
    if runner.stats.events != expected:
        raise RuntimeError(f"projection runner: {runner.stats.events} events of {expected} "
                           f"(deadline {DEADLINE_S:.0f}s)")
    return runner, timings


def consume_raw(bootstrap: str, topic: str, expected: int, group: str) -> float:
    """Seconds for a raw KafkaConsumer (same settings) to read and orjson-decode all N."""
    consumer: KafkaConsumer = kafka_clients.consumer(bootstrap, group,
                                                     max_poll_records=MAX_POLL_RECORDS)
    return consume_all(consumer, [topic], expected, DEADLINE_S)


#: Pass-through frames that would fill the cumulative list without saying anything.
_WRAPPERS = ("threading.py", "bench/projection_runner.py", "contextlib.py")


def top_functions(profiler: cProfile.Profile, total: float, top: int = 12
                  ) -> dict[str, list[dict[str, Any]]]:
    """The profile's top functions by cumulative and by own time, as shares of ``total``."""
    try:
        entries: dict[Any, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    except TypeError:  # nothing was profiled (everything came in the first poll)
        entries = {}
    rows = []
    for (filename, line, function), (_, calls, own, cumulative, _) in entries.items():
        where = filename.split("site-packages/")[-1].split("lib/python3.11/")[-1]
        where = where.split("/main/")[-1]
        name = f"{where}:{line}({function})" if line else function
        if any(w in name for w in _WRAPPERS):
            continue
        rows.append({"function": name, "calls": calls, "cumulative_s": round(cumulative, 4),
                     "own_s": round(own, 4), "cumulative_pct": round(100 * cumulative / total, 1),
                     "own_pct": round(100 * own / total, 1)})
    return {
        "by_cumulative": sorted(rows, key=lambda r: -r["cumulative_s"])[:top],
        "by_own_time": sorted(rows, key=lambda r: -r["own_s"])[:top],
    }


def profile_notes(bench: BenchResult, found: dict[str, list[dict[str, Any]]], what: str
                  ) -> None:
    if not found["by_cumulative"]:
        bench.notes.append("cProfile: nothing profiled (too few events: one batch)")
        return
    for key, label in (("by_cumulative", "cumulative_pct"), ("by_own_time", "own_pct")):
        bench.notes.append(f"cProfile {key.replace('_', ' ')} (share of {what}): "
                           + "; ".join(f"{row['function']} {row[label]}%"
                                       for row in found[key]))


def run(ctx: Context) -> BenchResult:
    orders = ctx.size(400, 10)
    broker = ctx.broker()
    bootstrap = broker.bootstrap_servers
    app, stored = filled_store(ctx, orders)
    topic, warm_topic = ctx.topic("projections"), ctx.topic("projections-warm")
    progress(f"projection_runner: relaying {stored} stored events to {topic} (untimed)")
    expected = relay_to_topic(app, bootstrap, topic, stored)
    warm = relay_to_topic(app, bootstrap, warm_topic, min(stored, 2000))
    bench = BenchResult("projection_runner", params={
        "events": expected, "orders": orders, "repeats": REPEATS, "broker": broker.kind,
        "partitions": PARTITIONS, "max_poll_records": MAX_POLL_RECORDS,
        "projections": [p.name for p in all_projections()], "read_database": "SQLite (WAL)"})
    progress("projection_runner: warm-up")
    consume_product(ctx, bootstrap, warm_topic, warm, ctx.topic("runner-warm-group"))
    consume_raw(bootstrap, topic, expected, ctx.topic("runner-raw-warm-group"))
    rates, raw_rates, poll_shares, commit_shares, batches = [], [], [], [], []
    for repeat in range(REPEATS):
        runner, timings = consume_product(ctx, bootstrap, topic, expected,
                                          ctx.topic(f"runner-group-{repeat}"))
        seconds = runner.seconds()
        raw_seconds = consume_raw(bootstrap, topic, expected, ctx.topic(f"runner-raw-{repeat}"))
        rates.append(expected / seconds)
        raw_rates.append(expected / raw_seconds)
        poll_shares.append(timings.poll / seconds)
        commit_shares.append(timings.commit / seconds)
        batches.append(runner.stats.batches)
        progress(f"projection_runner: repeat {repeat + 1}/{REPEATS}: "
                 f"{expected / seconds:,.0f} events/s in {runner.stats.batches} batches; "
                 f"raw consumption {expected / raw_seconds:,.0f} messages/s")
    bench.repeats = {"events_per_s": rates, "raw_messages_per_s": raw_rates,
                     "share_kafka_poll": poll_shares, "share_kafka_commit": commit_shares}
    rate, raw, ratio = median(rates), median(raw_rates), paired(rates, raw_rates)
    bench.params["batches"] = batches
    bench.figures = [
        Figure(f"projection_runner: events applied ({len(all_projections())} projections)", rate,
               "events/s", raw,
               baseline_what="raw kafka-python consumption of the same topic (same consumer "
                             "settings, fresh group, orjson-decoding each message), messages/s",
               target="≥ 10,000/s and ≥ 60 % of raw (issue 15)",
               met=rate >= TARGET_RATE and ratio >= TARGET_RATIO, paired_ratio=ratio),
    ]
    poll_share, commit_share = median(poll_shares), median(commit_shares)
    bench.notes.append(
        f"{expected} CloudEvents published by the relay ({orders} orders and their commands) "
        f"on {PARTITIONS} partitions; of the runner's time {poll_share:.0%} is inside "
        f"KafkaConsumer.poll (fetch + record parsing), {commit_share:.0%} in the offset commit "
        f"after each batch, and {max(0.0, 1 - poll_share - commit_share):.0%} is decoding, "
        f"normalising and apply_batch ({len(all_projections())} projections, one SQLite "
        f"transaction per batch).")
    if ctx.profile:
        progress("projection_runner: profiling one more run (cProfile)")
        profiler = cProfile.Profile()
        runner, _ = consume_product(ctx, bootstrap, topic, expected,
                                    ctx.topic("runner-profile-group"), profiler)
        found = top_functions(profiler, runner.seconds())
        bench.params["profile"] = found
        profile_notes(bench, found, "the runner's time")
    return bench
