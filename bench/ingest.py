"""``aftersales ingest FILE`` as a process: upstream events applied in batches (group commit).

Untimed: a JSON-lines file of 8,000 upstream events (1,600 orders placed, paid, dispatched,
released by customs and delivered, each order's events in order, the orders interleaved in
groups of 50 as a day's feed would have them).

Timed: ``python -m aftersales ingest FILE`` on a fresh SQLite store, from process start to
exit, every event answered. Baseline, in the same run: the same file read and validated by the
same boundary (``schemas.boundary.read_inbound``) in this process, not applied: what reading
the input costs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import orjson

from bench.context import Context
from bench.messages import customer_of, delivered_order_messages, is_order_message, order_id_of
from bench.report import REPEATS, BenchResult, Figure, median, paired, progress
from bench.workload import ADMIN, T0, as_principal, new_app
from schemas.boundary import read_inbound

ROOT = Path(__file__).resolve().parent.parent
GROUP = 50  # orders whose events are interleaved
FEED = "feed-1"  # the upstream principal the file is ingested as
DEADLINE_S = 900.0


def events_file(path: Path, orders: int) -> tuple[Path, int]:
    lines = []
    for first in range(0, orders, GROUP):
        feeds = [delivered_order_messages(order_id_of(i, "ig"), customer_of(i))
                 for i in range(first, min(orders, first + GROUP))]
        for step in range(max(len(f) for f in feeds)):
            lines += [orjson.dumps(f[step]) for f in feeds if step < len(f)]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path, len(lines)


def empty_store(ctx: Context) -> Path:
    """A store holding only the principals: the bench's administrator and staff, and the
    feed the file is ingested as (role upstream)."""
    path = ctx.path("ingest-template").with_suffix(".sqlite")
    app = new_app(path)
    app.principals.add(as_principal(ADMIN), FEED, ["upstream"], T0)
    app.store.close()
    return path


def ingest_seconds(ctx: Context, template: Path, file: Path, expected: int) -> float:
    store = ctx.path("ingest-store").with_suffix(".sqlite")
    shutil.copyfile(template, store)
    for suffix in ("-wal", "-shm"):
        if Path(f"{template}{suffix}").exists():
            shutil.copyfile(f"{template}{suffix}", f"{store}{suffix}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    env.update({"AFTERSALES_DATABASE_URL": f"sqlite:///{store}",
                "AFTERSALES_PRINCIPAL": FEED,
                "AFTERSALES_READ_DATABASE_URL": f"sqlite:///{ctx.path('ingest-read')}.sqlite",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                            os.environ.get("PYTHONPATH")]))})
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "aftersales", "ingest", str(file)], env=env,
                          capture_output=True, timeout=DEADLINE_S, check=False)
    seconds = time.perf_counter() - started
    answered = done.stdout.count(b"\n")
    if done.returncode != 0 or answered != expected:
        raise RuntimeError(f"ingest: exit {done.returncode}, {answered} of {expected} answered: "
                           f"{done.stderr.decode()[-500:]}")
    return seconds


def read_seconds(file: Path) -> float:
    started = time.perf_counter()
    for line in file.read_bytes().splitlines():
        message = orjson.loads(line)
        read_inbound(line, "orders" if is_order_message(message) else "shipments")
    return time.perf_counter() - started


def run(ctx: Context) -> BenchResult:
    orders = ctx.size(1600, 40)
    file, count = events_file(ctx.path("upstream").with_suffix(".jsonl"), orders)
    template = empty_store(ctx)
    bench = BenchResult("ingest", params={"events": count, "orders": orders,
                                          "repeats": REPEATS, "store": "SQLite"})
    rates, read_rates = [], []
    for repeat in range(REPEATS):
        seconds = ingest_seconds(ctx, template, file, count)
        read = read_seconds(file)
        rates.append(count / seconds)
        read_rates.append(count / read)
        progress(f"ingest: repeat {repeat + 1}/{REPEATS}: {count / seconds:,.0f} events/s; "
                 f"read and validated {count / read:,.0f} events/s")
    bench.repeats = {"events_per_s": rates, "read_events_per_s": read_rates}
    bench.figures = [
        Figure(f"ingest: `aftersales ingest FILE` of {count:,} upstream events", median(rates),
               "events/s", median(read_rates),
               baseline_what="the same file read and validated in process (not applied), "
                             "events/s",
               target="— (issue 15: batched as submit is)",
               paired_ratio=paired(rates, read_rates)),
    ]
    return bench
