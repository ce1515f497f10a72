"""What an operator watches: Prometheus metrics and a health state of `aftersales run`'s
workers (`--metrics-port`, on 127.0.0.1); JSON log lines are in aftersales/logs.py.

Metrics are read from the workers' own counters at each scrape (no second bookkeeping). Import
this module only when serving: prometheus_client decides at import whether it runs in
multiprocess mode (`aftersales serve` sets PROMETHEUS_MULTIPROC_DIR before it)."""

from __future__ import annotations

import errno
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from aftersales.ports import PortClaimError
from aftersales_core.application.services import Services
from consumers.case_events import count_relayed
from projections import positions
from projections.catalog import PROJECTIONS
from projections.db import ReadDatabase
from workers.counts import WorkCounts
from workers.error_policy import Streak

LAG_CAP = 10_000  # a projection's lag is counted up to this many events
STORE_TRIES = 5  # a scrape's reads of the store: the pool's connections (4) and a new one

log = logging.getLogger(__name__)


class WorkerMetrics(Collector):
    """The workers' counters and lags as Prometheus metrics, read at each scrape."""

    def __init__(self, app: Services | None, workers: dict[str, Any],
                 alive: Callable[[str], bool], read_url: str) -> None:
        self.app, self.workers, self.alive, self.read_url = app, workers, alive, read_url

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("aftersales_worker_up", "1 while the worker runs",
                               labels=["worker"])
        for name in self.workers:
            up.add_metric([name], 1.0 if self.alive(name) else 0.0)
        yield up
        in_a_row = GaugeMetricFamily("aftersales_worker_failures_in_a_row", "failures of the "
                                     "worker since its last step that went through (0 while "
                                     "it works)", labels=["worker"])
        for name, worker in self.workers.items():
            streak = getattr(worker, "streak", None)
            if isinstance(streak, Streak):
                in_a_row.add_metric([name], streak.in_a_row)
        yield in_a_row
        yield from self._inbound()
        store_end = self._store_end()
        if store_end is not None:
            yield GaugeMetricFamily("aftersales_store_position", "the event store's last "
                                    "position", value=store_end)
            yield from self._publishers(store_end)
        yield from self._projections(store_end is not None)
        yield from self._deadlines()
        yield from self._work()

    def _store_end(self) -> int | None:
        """The store's last position; None without a store (a projections-only process) or
        when it cannot be read now: the metrics that need it are left out of this scrape (the
        workers' own still answer), asked once, without the library's ten tries."""
        if self.app is None:
            return None
        recorder = self.app.store.recorder
        once = getattr(recorder.max_notification_id, "__wrapped__", None)
        for attempt in range(1, STORE_TRIES + 1):  # the pool's dead connections fail fast
            try:
                found = once(recorder) if once is not None else recorder.max_notification_id()
                return int(found or 0)
            except Exception as error:  # the store away: said in the log, not a traceback
                if attempt == STORE_TRIES:
                    log.warning("metrics: the event store cannot be read (%s: %s); its "
                                "metrics are left out of this scrape", type(error).__name__,
                                error)
        return None

    def _deadlines(self) -> Iterator[Metric]:
        scheduler = self.workers.get("scheduler")
        if scheduler is None:
            return
        stats = scheduler.stats
        handled = CounterMetricFamily("aftersales_deadlines", "deadlines the scheduler handled",
                                      labels=["outcome"])
        handled.add_metric(["fired"], stats.fired)
        handled.add_metric(["failed"], stats.failed)
        yield handled
        labels = ["case_type", "deadline", "action"]
        fired = CounterMetricFamily("aftersales_deadlines_fired", "deadlines this scheduler "
                                    "fired, by what the breach did", labels=labels)
        for key, count in sorted(_by_kind(stats.fired_by).items()):
            fired.add_metric(list(key), count)
        yield fired
        breached = CounterMetricFamily(
            "aftersales_deadlines_breached", "deadline breaches the store recorded (fired by a "
            "scheduler, or action late: the state was left after its due time), as read by "
            "the scheduler's deadline index", labels=labels)
        for key, count in sorted(_by_kind(scheduler.index.breached).items()):
            breached.add_metric(list(key), count)
        yield breached

    def _work(self) -> Iterator[Metric]:
        """Command outcomes and store commit batch sizes of the workers that run commands
        (upstream facts in the inbound consumer, FireDeadlines in the scheduler)."""
        counts = [w.stats.work for name in ("inbound", "scheduler")
                  if (w := self.workers.get(name)) is not None]
        if not counts:
            return
        total = WorkCounts()
        for work in counts:
            total.add(work)
        commands = CounterMetricFamily("aftersales_commands", "commands the workers ran, by "
                                       "outcome", labels=["command", "outcome"])
        for key, count in sorted(total.commands.items()):
            commands.add_metric(list(key), count)
        yield commands
        buckets, size_sum = total.histogram()
        batches = HistogramMetricFamily("aftersales_store_commit_batch_commands", "commands per "
                                        "store commit (one transaction, one fsync)")
        batches.add_metric([], buckets, size_sum)
        yield batches

    def _inbound(self) -> Iterator[Metric]:
        inbound = self.workers.get("inbound")
        if inbound is None:
            return
        messages = CounterMetricFamily(
            "aftersales_inbound_messages", "inbound messages by topic and outcome (applied, "
            "duplicate, dead_lettered with its error type)", labels=["topic", "outcome",
                                                                      "error_type"])
        for (topic, outcome, kind), count in sorted(inbound.stats.by_topic.items()):
            messages.add_metric([topic, outcome, kind], count)
        yield messages

    def _publishers(self, store_end: int) -> Iterator[Metric]:
        lag = GaugeMetricFamily("aftersales_publisher_lag_events", "store events not yet "
                                "published (relay, case states)", labels=["publisher"])
        relay = self.workers.get("relay")
        if relay is not None:
            lag.add_metric(["relay"], max(store_end - relay.stats.position, 0))
            yield CounterMetricFamily("aftersales_relay_published", "events published",
                                      value=relay.stats.published)
            yield CounterMetricFamily("aftersales_relay_failures", "broker or store failures",
                                      value=relay.stats.failures)
            yield GaugeMetricFamily("aftersales_relay_stuck", "1 while the broker refuses an "
                                    "event", value=0 if relay.stats.refused_at is None else 1)
        states = self.workers.get("case-states")
        if states is not None:
            lag.add_metric(["case-states"], max(store_end - states.position, 0))
        yield lag

    def _projections(self, store_read: bool) -> Iterator[Metric]:
        runner = self.workers.get("projections")
        if runner is None:
            return
        stats = runner.stats  # three units, three metrics: no outcome label holds a total
        yield CounterMetricFamily("aftersales_projection_records", "records of the case-events "
                                  "topic the runner handled", value=stats.events)
        applications = CounterMetricFamily(
            "aftersales_projection_applications", "applications of a case event to a "
            "projection, by outcome: applied, or failed (left out and dead-lettered)",
            labels=["outcome"])
        for outcome in ("applied", "failed"):
            applications.add_metric([outcome], getattr(stats, outcome))
        yield applications
        yield CounterMetricFamily("aftersales_projection_dead_letters", "records the runner "
                                  "sent to the dead-letter topic (not a case event, or left "
                                  "out of a projection)", value=stats.dead_lettered)
        if self.app is None or not store_read:
            return
        lag = GaugeMetricFamily("aftersales_projection_lag_events", "store events a projection "
                                "has not applied", labels=["projection"])
        db = ReadDatabase(self.read_url)  # its own connection: the runner's is its thread's
        try:
            with db.transaction() as tx:
                applied_up_to = {p: positions.load(tx, p).highest() for p in PROJECTIONS}
        finally:
            db.close()
        for name, position in applied_up_to.items():
            lag.add_metric([name], count_relayed(self.app.store.recorder, position, LAG_CAP)[0])
        yield lag


def health(workers: dict[str, Any], alive: Callable[[str], bool]) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body): 200 while every worker runs, none keeps failing (a worker that
    failed FAILING_AFTER times in a row, with no step through since, is "failing": its thread
    is alive, backing off and trying again, but it gets nothing done) and the relay is not
    stuck on a refused event."""
    states: dict[str, str] = {}
    failing: dict[str, dict[str, Any]] = {}
    for name, worker in workers.items():
        streak = getattr(worker, "streak", None)
        if not alive(name):
            states[name] = "stopped"
        elif isinstance(streak, Streak) and streak.failing:
            states[name] = "failing"
            failing[name] = {"failures_in_a_row": streak.in_a_row, "since": streak.since,
                             "error": streak.error}
        else:
            states[name] = "running"
    relay = workers.get("relay")
    stuck = relay is not None and relay.stats.refused_at is not None
    healthy = all(s == "running" for s in states.values()) and not stuck
    body = {"status": "ok" if healthy else "unhealthy", "workers": states, "failing": failing,
            "relay_stuck_at": relay.stats.refused_at if relay is not None else None}
    return (200 if healthy else 503), body


def serve(port: int, app: Services | None, workers: dict[str, Any], alive: Callable[[str], bool],
          read_url: str) -> ThreadingHTTPServer:
    """Serve /metrics (Prometheus text) and /healthz (JSON) on 127.0.0.1:port in a thread
    (PortClaimError naming the address when it cannot listen there)."""
    registry = CollectorRegistry()
    registry.register(WorkerMetrics(app, workers, alive, read_url))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                try:
                    status, body, kind = 200, generate_latest(registry), CONTENT_TYPE_LATEST
                except Exception as error:  # the read database away, say: a log line, a 503
                    log.warning("metrics: scrape failed: %s: %s", type(error).__name__, error)
                    status, body, kind = (503, b"metrics unavailable: see the log\n",
                                          "text/plain")
            elif self.path == "/healthz":
                status, state = health(workers, alive)
                body, kind = orjson.dumps(state), "application/json"
            else:
                status, body, kind = 404, b"not found: /metrics or /healthz\n", "text/plain"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return  # scrapes are not worth a log line

    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    except OSError as error:  # as `serve` says it: the address, and whether it is in use
        in_use = error.errno == errno.EADDRINUSE
        raise PortClaimError(
            f"--metrics-port: 127.0.0.1:{port}: "
            + ("address already in use" if in_use else f"cannot listen: "
               f"{error.strerror or error}"), in_use=in_use) from None
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server


def _by_kind(counts: Mapping[tuple[str, str, str], int]) -> dict[tuple[str, str, str], int]:
    """(case type, deadline, action) counts with each deadline named by its kind: a logistics
    watchdog's deadline is named after its parcel (``watchdog:<shipment id>``), a value the
    upstream sender chose, which as a label would make one series per parcel."""
    summed: dict[tuple[str, str, str], int] = {}
    for (case_type, deadline, action), count in counts.items():
        key = (case_type, deadline.split(":", 1)[0], action)
        summed[key] = summed.get(key, 0) + count
    return summed
