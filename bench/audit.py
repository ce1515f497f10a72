"""Audit verification throughput (SPEC §6: ≥ 50,000 events/s).

Untimed: a SQLite store of about 100,000 events filled by the workload (delivered orders and
their returns, refunds and complaints), then sealed once (the time of that first seal of the
whole store is a figure of its own).

Timed, per repeat, back to back: ``Auditor.verify()`` (the hash chain recomputed from position
1 and compared with every checkpoint) and the baseline, the raw store read of the same
notifications: ``app.store.recorder.select_notifications`` in pages of the same size, no hashing.
Also timed once: ``verify(decisions=True)``, which re-runs every recorded policy decision."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from aftersales_core.application.services import Services
from audit.auditor import Auditor
from bench.context import Context
from bench.report import REPEATS, BenchResult, Figure, median, paired, progress
from bench.workload import new_app, populate

TARGET_PER_SECOND = 50_000
PAGE_SIZE = 10_000


def _raw_read(app: Services) -> int:
    """Every notification, page by page, as the library hands them out; how many."""
    read, start = 0, 1
    while True:
        page = app.store.recorder.select_notifications(start, PAGE_SIZE)
        if not page:
            return read
        read, start = read + len(page), page[-1].id + 1


def _rate(events: int, work: Callable[[], int]) -> float:
    """Events per second of ``work()``, which must return how many events it went through."""
    started = time.perf_counter()
    done = work()
    seconds = time.perf_counter() - started
    if done != events:
        raise AssertionError(f"went through {done} events, expected {events}")
    return events / seconds


def run(ctx: Context) -> BenchResult:
    orders = ctx.size(1340, 100)  # about 75 events per order: ~100,000 (quick: ~7,500)
    progress(f"audit: filling the store ({orders} orders and their commands, untimed)")
    app = new_app(ctx.path("audit").with_suffix(".sqlite"))
    stored = populate(app, orders)
    auditor = Auditor(app.store.recorder, app.store.mapper, rerun=app.store.books.rerun,
                      page_size=PAGE_SIZE)
    sealed = auditor.seal(datetime.now(UTC))
    seal_rate = sealed.events / sealed.seconds
    progress(f"audit: sealed {sealed.events} events in {sealed.checkpoints} checkpoints "
             f"({seal_rate:,.0f} events/s)")
    bench = BenchResult("audit", params={"store_events": stored, "page_size": PAGE_SIZE,
                                         "checkpoints": sealed.checkpoints,
                                         "batch_size": auditor.batch_size, "repeats": REPEATS})

    def verify() -> int:
        report = auditor.verify()
        if not report.intact:
            raise AssertionError(f"the benchmark store does not verify: {report.findings[0]}")
        return report.events

    progress("audit: warm-up")
    verify()
    _raw_read(app)
    p: dict[str, list[float]] = {"verify": [], "raw_read": []}
    for repeat in range(REPEATS):
        p["verify"].append(_rate(stored, verify))
        p["raw_read"].append(_rate(stored, lambda: _raw_read(app)))
        progress(f"audit: repeat {repeat + 1}/{REPEATS}: verify {p['verify'][-1]:,.0f} "
                 f"events/s, raw read {p['raw_read'][-1]:,.0f} events/s")
    with_decisions = auditor.verify(decisions=True)
    decisions_rate = with_decisions.events / with_decisions.seconds
    progress(f"audit: verify --decisions {decisions_rate:,.0f} events/s "
             f"({with_decisions.decisions_checked} decisions re-run)")
    bench.repeats = p
    m = {k: median(v) for k, v in p.items()}
    raw_what = ("raw store read of the same notifications: app.store.recorder.select_notifications "
                f"in pages of {PAGE_SIZE:,}, no hashing, events/s")
    bench.figures = [
        Figure("audit: verify (chain from position 1, every checkpoint)", m["verify"],
               "events/s", m["raw_read"], baseline_what=raw_what,
               target=f"≥ {TARGET_PER_SECOND:,} events/s",
               met=m["verify"] >= TARGET_PER_SECOND,
               paired_ratio=paired(p["verify"], p["raw_read"])),
        Figure("audit: verify --decisions (also re-run every decision)", decisions_rate,
               "events/s", m["raw_read"], target="—"),
        Figure("audit: first seal of the whole store", seal_rate, "events/s", m["raw_read"],
               target="—"),
    ]
    bench.notes.append(
        f"store of {stored} events, {sealed.checkpoints} checkpoints of "
        f"{auditor.batch_size}; verify reads the rows as plain tuples with one SQL query per "
        f"page of {PAGE_SIZE:,} (no Notification objects, no UUID parsing), which is why it can "
        f"outrun the library read it is compared with; --decisions decodes the "
        f"{with_decisions.decisions_checked} decision-carrying events with the application's "
        "mapper and re-runs each policy version")
    app.close()
    return bench
