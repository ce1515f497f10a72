"""A case's state as of a past moment, for a 100-event case (SPEC §6: p99 < 20 ms).

Untimed: a store filled by the workload, plus one complaint of exactly 100 events (filed,
triaged, acknowledged, then messages a minute apart). Timed, one call at a time:
``aftersales_core.application.history.load_history(app.store, case_id, as_of)`` with ``as_of`` drawn
uniformly over the case's life (the events up to it are folded; every row is read), and with
``as_of`` at the last event (all 100 folded, the worst case).

Baseline: the raw store read of the same 100 events,
``app.store.recorder.select_events(case_id)``."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from aftersales_core.application.history import load_history
from aftersales_core.application.services import Services
from bench.context import Context
from bench.messages import customer_of, order_id_of
from bench.report import REPEATS, BenchResult, Figure, median, paired, percentile, progress
from bench.workload import COMMANDS_AT, as_principal, customer_principal, new_app, populate

CASE_EVENTS = 100
TARGET_P99_MS = 20.0


def _hundred_event_case(app: Services) -> tuple[UUID, list[datetime]]:
    case_id = uuid4()
    at = COMMANDS_AT + timedelta(days=30)
    buyer, agent = customer_principal(app, customer_of(0)), as_principal("agent-3")
    app.complaints.file(buyer, case_id=case_id, order_id=order_id_of(0), channel="email",
                        category="logistics_delay", description="where is my parcel?", at=at)
    app.complaints.acknowledge(agent, case_id=case_id, at=at + timedelta(minutes=1))
    version = len(list(app.store.events.get(case_id)))
    step = 1
    while version < CASE_EVENTS:
        step += 1
        version = app.complaints.add_message(
            buyer if step % 2 else agent, case_id=case_id,
            direction="in" if step % 2 else "out", text=f"message {step}: " + "lorem " * 16,
            at=at + timedelta(minutes=step)).version
    events: list[Any] = list(app.store.events.get(case_id))
    times: list[datetime] = [e.timestamp for e in events]
    return case_id, times


def _latencies_ms(call: Callable[[Any], Any], arguments: list[Any]) -> list[float]:
    out = []
    for argument in arguments:
        started = time.perf_counter()
        call(argument)
        out.append((time.perf_counter() - started) * 1000)
    return out


def run(ctx: Context) -> BenchResult:
    samples = ctx.size(1000, 100)
    orders = ctx.size(40, 5)
    progress(f"replay: filling the store ({orders} orders and their commands) and a "
             f"{CASE_EVENTS}-event case (untimed)")
    app = new_app(ctx.path("replay").with_suffix(".sqlite"))
    populate(app, orders)
    case_id, times = _hundred_event_case(app)
    stored = app.store.recorder.max_notification_id() or 0
    bench = BenchResult("replay", params={"case_events": len(times), "store_events": stored,
                                          "samples_per_repeat": samples, "repeats": REPEATS})
    rng = random.Random(7)
    first, span = times[0], (times[-1] - times[0]).total_seconds()
    moments = [first + timedelta(seconds=rng.uniform(0, span)) for _ in range(samples)]
    folded = [len(load_history(app.store, case_id, m).events) for m in moments[:50]]

    def history(as_of: datetime) -> Any:
        return load_history(app.store, case_id, as_of)

    def raw(_: object) -> Any:
        return app.store.recorder.select_events(case_id)

    progress("replay: warm-up")
    _latencies_ms(history, moments[:100])
    _latencies_ms(raw, moments[:100])
    p: dict[str, list[float]] = {k: [] for k in (
        "history_p50", "history_p99", "full_p50", "full_p99", "raw_p50", "raw_p99")}
    last = [times[-1]] * samples
    for repeat in range(REPEATS):
        h = _latencies_ms(history, moments)
        f = _latencies_ms(history, last)
        r = _latencies_ms(raw, moments)
        for name, values in (("history", h), ("full", f), ("raw", r)):
            p[f"{name}_p50"].append(percentile(values, 50))
            p[f"{name}_p99"].append(percentile(values, 99))
        progress(f"replay: repeat {repeat + 1}/{REPEATS}: as-of p50 {percentile(h, 50):.2f} ms, "
                 f"p99 {percentile(h, 99):.2f} ms; all 100 p99 {percentile(f, 99):.2f} ms; "
                 f"raw read p99 {percentile(r, 99):.2f} ms")
    bench.repeats = p
    m = {k: median(v) for k, v in p.items()}

    def ratio(name: str, pct: str) -> float:
        return paired(p[f"{name}_{pct}"], p[f"raw_{pct}"], higher_is_better=False)

    raw_what = "raw store read of the same 100 events: app.recorder.select_events(case_id), ms"
    bench.figures = [
        Figure("replay: as-of state, random moment, p50", m["history_p50"], "ms", m["raw_p50"],
               baseline_what=raw_what, higher_is_better=False, target="—",
               paired_ratio=ratio("history", "p50")),
        Figure("replay: as-of state, random moment, p99", m["history_p99"], "ms", m["raw_p99"],
               higher_is_better=False, target="p99 < 20 ms",
               met=m["history_p99"] < TARGET_P99_MS, paired_ratio=ratio("history", "p99")),
        Figure("replay: as of the last event (100 folded), p50", m["full_p50"], "ms",
               m["raw_p50"], higher_is_better=False, target="—",
               paired_ratio=ratio("full", "p50")),
        Figure("replay: as of the last event (100 folded), p99", m["full_p99"], "ms",
               m["raw_p99"], higher_is_better=False, target="p99 < 20 ms",
               met=m["full_p99"] < TARGET_P99_MS, paired_ratio=ratio("full", "p99")),
    ]
    bench.notes.append(
        f"{samples} calls per repeat; random moments fold {min(folded)} to {max(folded)} of the "
        f"{len(times)} events (every row is still read and decoded up to the cut-off); "
        f"store of {stored} events")
    return bench
