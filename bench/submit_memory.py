"""A 100,000-command file through ``aftersales submit`` in bounded memory (issue 15).

Untimed: a fresh SQLite store with 5,000 delivered orders (2,500 customers, their principals),
ingested in batches; a JSON-lines file of 100,000 ``FileComplaint`` commands in ``--envelopes``
form, each a new complaint about one of those orders (20 per order, the orders interleaved),
sent by the order's customer.

Measured: ``python -m aftersales submit FILE --envelopes`` as a process, its VmRSS read from
/proc every half second together with how many results it has printed, until it exits with
every command answered. Figures: VmRSS after the first 10 % of the commands (the baseline: the
process is warm, its caches full), VmRSS at the end and the peak (VmHWM). Memory is bounded
when neither end nor peak grows with the commands behind it: both within 25 % of the 10 %
mark. The rate of the whole run is shown too."""

from __future__ import annotations

import os
import sys
import time
from datetime import timedelta
from pathlib import Path

import orjson

from aftersales import children
from bench.context import Context
from bench.memory import status_kb
from bench.messages import customer_of
from bench.report import BenchResult, Figure, progress
from bench.workload import COMMANDS_AT, ingest_in_batches, new_app

ROOT = Path(__file__).resolve().parent.parent
PER_ORDER = 20
BOUND = 1.25  # the end and the peak within this factor of the RSS at the 10 % mark
SAMPLE_S = 0.5
DEADLINE_S = 1800.0


def complaints_file(path: Path, order_ids: list[str], count: int) -> Path:
    """``count`` FileComplaint envelopes, command i about order i mod len(order_ids)."""
    with path.open("wb") as out:
        for number in range(count):
            index = number % len(order_ids)
            out.write(orjson.dumps({"as": f"customer-{customer_of(index)}", "command": {
                "command": "FileComplaint", "order_id": order_ids[index],
                "idempotency_key": f"bench-complaint-{number}",
                "channel": "email", "category": "not_as_described",
                "description": "the colour is not the one in the pictures",
                "at": (COMMANDS_AT + timedelta(seconds=number)).isoformat()}}) + b"\n")
    return path


def answered(path: Path) -> int:
    with path.open("rb") as found:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: found.read(1 << 20), b""))


def run(ctx: Context) -> BenchResult:
    count = ctx.size(100_000, 2_000)
    orders = max(1, count // PER_ORDER)
    bench = BenchResult("submit_memory", params={"commands": count, "orders": orders,
                                                 "command": "FileComplaint", "store": "SQLite"})
    progress(f"submit_memory: ingesting {orders} delivered orders (untimed)")
    store = ctx.path("submit-memory").with_suffix(".sqlite")
    app = new_app(store)
    order_ids = ingest_in_batches(app, orders, prefix="sm")
    app.store.close()
    file = complaints_file(ctx.path("complaints").with_suffix(".jsonl"), order_ids, count)
    output = ctx.path("submit-memory-out").with_suffix(".jsonl")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    env.update({"AFTERSALES_DATABASE_URL": f"sqlite:///{store}",
                "AFTERSALES_READ_DATABASE_URL": f"sqlite:///{ctx.path('sm-read')}.sqlite",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                            os.environ.get("PYTHONPATH")]))})
    progress(f"submit_memory: aftersales submit of {count:,} commands")
    samples: list[tuple[float, int, float]] = []  # seconds, answered, RSS MB
    started = time.perf_counter()
    errors_path = ctx.path("submit-memory-errors").with_suffix(".log")
    with output.open("wb") as out, errors_path.open("wb") as errors:
        process = children.popen([sys.executable, "-m", "aftersales", "submit", str(file),
                                  "--envelopes"], cwd=ROOT, env=env, stdout=out,
                                 stderr=errors)
        peak = 0.0
        try:
            while process.poll() is None:
                if time.perf_counter() - started > DEADLINE_S:
                    raise TimeoutError(f"submit: not done in {DEADLINE_S}s")
                try:
                    kb = status_kb(process.pid)
                except (OSError, KeyError):  # exited between poll and read
                    break
                peak = max(peak, kb["VmHWM"] / 1024)
                samples.append((round(time.perf_counter() - started, 2), answered(output),
                                round(kb["VmRSS"] / 1024, 1)))
                time.sleep(SAMPLE_S)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=60)
    seconds = time.perf_counter() - started
    done = answered(output)
    if process.returncode != 0 or done != count:
        raise RuntimeError(f"submit: exit {process.returncode}, {done} of {count} answered: "
                           f"{errors_path.read_text()[-500:]}")
    warm = [rss for _, n, rss in samples if n >= count // 10]
    if not warm:
        raise RuntimeError("submit: too fast to sample after the first 10 % of its commands")
    mark, end = warm[0], samples[-1][2]
    bench.params["samples"] = samples
    bench.figures = [
        Figure(f"submit_memory: RSS after {count:,} commands", end, "MB", mark,
               baseline_what=f"the same process's RSS after the first {count // 10:,} commands",
               higher_is_better=False, target=f"bounded: ≤ {BOUND:g} x the 10 % mark",
               met=end <= BOUND * mark),
        Figure("submit_memory: peak RSS (VmHWM)", peak, "MB", mark, higher_is_better=False,
               target=f"bounded: ≤ {BOUND:g} x the 10 % mark", met=peak <= BOUND * mark),
        Figure("submit_memory: commands in that run", count / seconds, "commands/s",
               target="—"),
    ]
    return bench
