"""``aftersales submit FILE`` as a process, group commit against one transaction per command.

Untimed: a store with N delivered orders ingested by the workload (bench.workload, each with
its customer's principal), copied twice; a JSON-lines file of N ``RequestReturn`` commands in
``--envelopes`` form (each sent by the order's customer), one per order.

Timed: ``python -m aftersales submit FILE --envelopes`` on one copy of the store (group commit:
up to 500 commands decided in memory and written in one transaction), from process start to
exit, every command answered. Baseline, in the same run on the other copy: the same file with
``--stop-on-error``, which runs the commands one at a time, one transaction (one fsync) each:
the path every command took before group commit. Both include the process start (the same for
both); the repeats alternate."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import orjson

from bench.context import Context
from bench.messages import customer_of
from bench.report import REPEATS, BenchResult, Figure, median, paired, progress
from bench.workload import COMMANDS_AT, ingest_orders, new_app

ROOT = Path(__file__).resolve().parent.parent
TARGET_FACTOR = 5.0  # issue 15: at least 5x the per-command path
DEADLINE_S = 900.0


def commands_file(path: Path, order_ids: list[str], first: int = 0) -> Path:
    """One RequestReturn per order, sent by its customer (``--envelopes`` items); the orders
    are those ingested as numbers ``first``, ``first + 1``…"""
    with path.open("wb") as out:
        for index, order_id in enumerate(order_ids, start=first):
            out.write(orjson.dumps({"as": f"customer-{customer_of(index)}", "command": {
                "command": "RequestReturn", "order_id": order_id, "reason": "defective",
                "outcome": "refund", "lines": [{"line_id": "2", "quantity": 1}],
                "at": (COMMANDS_AT + timedelta(minutes=index)).isoformat()}}) + b"\n")
    return path


def submit_seconds(ctx: Context, store: Path, file: Path, expected: int,
                   *extra: str) -> float:
    """Seconds for ``aftersales submit FILE --envelopes [extra]`` on a copy of ``store``."""
    copy = ctx.path("submit-store").with_suffix(".sqlite")
    shutil.copyfile(store, copy)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    env.update({"AFTERSALES_DATABASE_URL": f"sqlite:///{copy}",
                "AFTERSALES_READ_DATABASE_URL": f"sqlite:///{ctx.path('submit-read')}.sqlite",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                            os.environ.get("PYTHONPATH")]))})
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "aftersales", "submit", str(file),
                           "--envelopes", *extra], env=env, capture_output=True,
                          timeout=DEADLINE_S, check=False)
    seconds = time.perf_counter() - started
    answered = done.stdout.count(b"\n")
    if done.returncode != 0 or answered != expected:
        raise RuntimeError(f"submit {' '.join(extra)}: exit {done.returncode}, {answered} of "
                           f"{expected} answered: {done.stderr.decode()[-500:]}")
    return seconds


def run(ctx: Context) -> BenchResult:
    count = ctx.size(2000, 20)
    progress(f"submit: ingesting {count} delivered orders (untimed)")
    store = ctx.path("submit-orders").with_suffix(".sqlite")
    app = new_app(store)
    order_ids = ingest_orders(app, count, prefix="sb")
    app.store.close()
    file = commands_file(ctx.path("returns").with_suffix(".jsonl"), order_ids)
    bench = BenchResult("submit", params={"commands": count, "repeats": REPEATS,
                                          "store": "SQLite", "command": "RequestReturn"})
    rates, single_rates = [], []
    for repeat in range(REPEATS):
        single = submit_seconds(ctx, store, file, count, "--stop-on-error")
        grouped = submit_seconds(ctx, store, file, count)
        rates.append(count / grouped)
        single_rates.append(count / single)
        progress(f"submit: repeat {repeat + 1}/{REPEATS}: {count / grouped:,.0f} commands/s "
                 f"grouped, {count / single:,.0f} commands/s one transaction each")
    bench.repeats = {"grouped_commands_per_s": rates, "single_commands_per_s": single_rates}
    ratio = paired(rates, single_rates)
    bench.figures = [
        Figure(f"submit: `aftersales submit FILE` of {count} RequestReturn", median(rates),
               "commands/s", median(single_rates),
               baseline_what="the same file and store with --stop-on-error: one command, one "
                             "transaction (one fsync) at a time, the path before group commit; "
                             "both timed from process start to exit",
               target="≥ 5 x the per-command path", met=ratio >= TARGET_FACTOR,
               paired_ratio=ratio),
    ]
    return bench
