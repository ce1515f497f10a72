"""Rebuilding all projections from the store (SPEC §6: ≥ 30,000 events/s).

Untimed: a store filled by the workload (orders ingested, then the command mix; shared with the
projection_runner benchmark when both run). Timed: ``projections.rebuild.rebuild(db, None,
aftersales.bootstrap.store_reader(app))`` into a fresh SQLite read database (every projection:
read the store in pages of 5,000, turn each stored event into what projections read of its
CloudEvent, apply it to the ``__rebuild`` tables, one transaction per page, then swap the tables
in and build the indexes).

Baseline: the raw store read of the same events: the same ``store_reader`` pages, read one after
the other until the store is exhausted, without applying anything."""

from __future__ import annotations

import cProfile
import time

from aftersales.bootstrap import store_reader
from aftersales_core.application.services import Services
from bench.context import Context
from bench.projection_runner import filled_store, profile_notes, sqlite_url, top_functions
from bench.report import REPEATS, BenchResult, Figure, median, paired, progress
from consumers.case_events import count_relayed
from projections.catalog import all_projections
from projections.db import ReadDatabase
from projections.rebuild import rebuild
from projections.rebuild_processes import default_processes

TARGET_RATE = 50_000.0  # issue 15 (SPEC §6: 30,000)
PAGE = 5000  # rebuild's default batch


def _rebuild_once(ctx: Context, app: Services, stored: int, processes: int,
                  profiler: cProfile.Profile | None = None) -> float:
    db = ReadDatabase(sqlite_url(ctx.path("rebuild").with_suffix(".sqlite")))
    read = store_reader(app)
    try:
        if profiler is not None:
            profiler.enable()
        started = time.perf_counter()
        reached = rebuild(db, None, read, batch=PAGE, processes=processes)
        seconds = time.perf_counter() - started
        if profiler is not None:
            profiler.disable()
    finally:
        db.close()
    if reached != stored:
        raise RuntimeError(f"rebuild reached position {reached}, expected {stored}")
    return seconds


def _read_once(app: Services, expected: int) -> float:
    read = store_reader(app)
    seen, after = 0, 0
    started = time.perf_counter()
    while events := read(after, PAGE):
        seen += len(events)
        after = events[-1]["position"]
    seconds = time.perf_counter() - started
    if seen != expected:
        raise RuntimeError(f"store read {seen} events, expected {expected}")
    return seconds


def _select_once(app: Services, stored: int) -> float:
    """The store's own page reads (no conversion): where store_reader's time goes."""
    seen, after = 0, 0
    started = time.perf_counter()
    while rows := app.store.recorder.notification_rows(after, PAGE):  # type: ignore[attr-defined]
        seen += len(rows)
        after = rows[-1][0]
    seconds = time.perf_counter() - started
    if seen != stored:
        raise RuntimeError(f"notification_rows read {seen}, expected {stored}")
    return seconds


def run(ctx: Context) -> BenchResult:
    orders = ctx.size(400, 10)
    app, stored = filled_store(ctx, orders)
    # principals' events stay in the store: the projections see the published ones
    expected, _ = count_relayed(app.store.recorder, 0, cap=stored + 1)
    bench = BenchResult("rebuild", params={
        "events": expected, "stored_events": stored, "orders": orders, "repeats": REPEATS,
        "page": PAGE,
        "projections": [p.name for p in all_projections()], "read_database": "SQLite (WAL)",
        "store": "SQLite"})
    processes = default_processes()  # what `aftersales projections rebuild` takes here
    bench.params["processes"] = processes
    progress("rebuild: warm-up")
    _rebuild_once(ctx, app, stored, processes)
    _rebuild_once(ctx, app, stored, 1)
    _read_once(app, expected)
    rates, one_rates, read_rates, select_rates = [], [], [], []
    for repeat in range(REPEATS):
        seconds = _rebuild_once(ctx, app, stored, processes)
        one_seconds = _rebuild_once(ctx, app, stored, 1)
        read_seconds = _read_once(app, expected)
        select_seconds = _select_once(app, stored)
        rates.append(expected / seconds)
        one_rates.append(expected / one_seconds)
        read_rates.append(expected / read_seconds)
        select_rates.append(stored / select_seconds)
        progress(f"rebuild: repeat {repeat + 1}/{REPEATS}: {expected / seconds:,.0f} events/s "
                 f"({processes} processes), {expected / one_seconds:,.0f} events/s (one); "
                 f"store_reader pages {expected / read_seconds:,.0f} events/s; "
                 f"notification_rows {stored / select_seconds:,.0f} events/s")
    bench.repeats = {"events_per_s": rates, "one_process_events_per_s": one_rates,
                     "store_read_events_per_s": read_rates,
                     "notification_rows_events_per_s": select_rates}
    rate, one_rate, read_rate = median(rates), median(one_rates), median(read_rates)
    read_what = ("raw store read of the same events: store_reader pages of 5,000 (select + "
                 "conversion), not applied, events/s")
    bench.figures = [
        Figure(f"rebuild: all projections from the store ({processes} processes, the CLI's "
               "default here)", rate, "events/s", read_rate, baseline_what=read_what,
               target="≥ 50,000/s (issue 15)", met=rate >= TARGET_RATE,
               paired_ratio=paired(rates, read_rates)),
        Figure("rebuild: all projections from the store, one process", one_rate, "events/s",
               read_rate, baseline_what=read_what, target="—", met=None,
               paired_ratio=paired(one_rates, read_rates)),
    ]
    read_share = one_rate / read_rate
    bench.notes.append(
        f"{expected} events ({orders} orders and their commands) into a fresh SQLite read "
        f"database. One process: reading them (store_reader) is {read_share:.0%} of the "
        f"rebuild's time, of which the store's own page select is "
        f"{median(read_rates) / median(select_rates):.0%} (the rest is turning rows into what "
        f"projections read, consumers.case_events.projected_event); applying to the "
        f"{len(all_projections())} projections is the remaining "
        f"{max(0.0, 1 - read_share):.0%}. With {processes} processes the rebuilding one reads "
        f"and applies a share, the other(s) apply the rest of each page handed over "
        f"(projections/rebuild_processes.py): {rate / one_rate:.2f}x one process.")
    if ctx.profile:
        progress("rebuild: profiling one more run of one process (cProfile)")
        profiler = cProfile.Profile()
        seconds = _rebuild_once(ctx, app, stored, 1, profiler)
        found = top_functions(profiler, seconds)
        bench.params["profile"] = found
        profile_notes(bench, found, "the rebuild's time")
    return bench
