"""Relay throughput: every stored event published, in order, as a CloudEvent.

Untimed: a store filled by the workload (orders ingested, then the command mix). Timed: a
``consumers.relay.Relay`` on a fresh topic (so it starts at position 0) stepping until all M
events are published and acknowledged (select a batch, encode, send, flush, record the
position). The producer is created before the clock starts, in both runs.

Baseline: raw kafka-python produce of the same M CloudEvents (encoded before the clock starts)
with the same producer settings (consumers/kafka_clients.producer), then one flush."""

from __future__ import annotations

import time

from kafka import KafkaProducer

from aftersales.bootstrap import TOPIC_PARTITIONS
from aftersales.brokers import ensure_topics
from aftersales_core.application.services import Services
from bench.context import Context
from bench.report import REPEATS, BenchResult, Figure, median, paired, progress
from bench.workload import new_app, populate
from consumers import kafka_clients
from consumers.case_events import encode
from consumers.relay import Relay

PARTITIONS = TOPIC_PARTITIONS["case_events"]


def _relay_once(app: Services, bootstrap: str, topic: str, expected: int,
                limit: int | None = None) -> float:
    ensure_topics(bootstrap, {topic: PARTITIONS})
    producer: KafkaProducer = kafka_clients.producer(bootstrap)
    producer.partitions_for(topic)  # the topic's metadata, before the clock starts
    relay = Relay(app.store.recorder, app.store.factory.tracking_recorder(),
                  lambda: producer, topic)
    goal = expected if limit is None else min(limit, expected)
    try:
        started = time.perf_counter()
        while relay.stats.position < goal:  # store positions: principals' events are passed
            if relay.step() == 0:
                raise RuntimeError(f"relay stopped at {relay.stats.position} of {goal}")
        seconds = time.perf_counter() - started
    finally:
        producer.close(timeout=5)
    return seconds


def _raw_once(bootstrap: str, topic: str, payloads: list[tuple[bytes, bytes]]) -> float:
    ensure_topics(bootstrap, {topic: PARTITIONS})
    producer: KafkaProducer = kafka_clients.producer(bootstrap)
    producer.partitions_for(topic)  # the topic's metadata, before the clock starts
    try:
        started = time.perf_counter()
        futures = [producer.send(topic, key=key, value=value) for key, value in payloads]
        producer.flush(timeout=60)
        seconds = time.perf_counter() - started
        failed = [f for f in futures if f.failed()]
        if failed:
            raise RuntimeError(f"raw produce: {len(failed)} sends failed: {failed[0].exception}")
    finally:
        producer.close(timeout=5)
    return seconds


def run(ctx: Context) -> BenchResult:
    orders = ctx.size(300, 10)
    broker = ctx.broker()
    bootstrap = broker.bootstrap_servers
    progress(f"relay: filling the store ({orders} orders and their commands, untimed)")
    app = new_app(ctx.path("relay").with_suffix(".sqlite"))
    expected = populate(app, orders)
    notifications = app.store.recorder.select_notifications(1, expected)
    payloads = [encode(n) for n in notifications]
    bench = BenchResult("relay", params={"events": expected, "repeats": REPEATS,
                                         "broker": broker.kind, "batch_size": 500})
    progress(f"relay: warm-up ({expected} events stored)")
    _relay_once(app, bootstrap, ctx.topic("relay-warm"), expected, limit=500)
    _raw_once(bootstrap, ctx.topic("raw-produce-warm"), payloads[:500])
    rates, raw_rates = [], []
    for repeat in range(REPEATS):
        seconds = _relay_once(app, bootstrap, ctx.topic(f"relay-{repeat}"), expected)
        raw_seconds = _raw_once(bootstrap, ctx.topic(f"raw-produce-{repeat}"), payloads)
        rates.append(expected / seconds)
        raw_rates.append(expected / raw_seconds)
        progress(f"relay: repeat {repeat + 1}/{REPEATS}: {expected / seconds:,.0f} events/s; "
                 f"raw produce {expected / raw_seconds:,.0f} messages/s")
    size = sum(len(v) for _, v in payloads) / len(payloads)
    bench.params["mean_cloudevent_bytes"] = round(size)
    bench.repeats = {"events_per_s": rates, "raw_messages_per_s": raw_rates}
    bench.figures = [
        Figure("relay: events published", median(rates), "events/s", median(raw_rates),
               baseline_what="raw kafka-python produce of the same pre-encoded CloudEvents "
                             "(same producer settings), one flush, messages/s",
               target="— (no §6 figure)", paired_ratio=paired(rates, raw_rates)),
    ]
    bench.notes.append(
        "the relay flushes and waits for acks=all after every batch of 500 (so a crash re-sends "
        "at most one batch) with max_in_flight_requests_per_connection=1; between batches the "
        "producer is idle while the store is read, the events are encoded and the position is "
        "recorded. The raw producer pipelines all M messages and flushes once.")
    return bench
