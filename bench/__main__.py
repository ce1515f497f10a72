"""``python -m bench``: run the benchmarks of SPEC §6 with their baselines, print, save.

    python -m bench                      # everything, full sizes (a few minutes on 2 cores)
    python -m bench --quick              # small sizes, a smoke test (< 1 minute)
    python -m bench --only commands replay
    python -m bench --broker tansu       # Kafka benchmarks on Tansu instead of Apache Kafka

Kafka benchmarks use $KAFKA_BOOTSTRAP_SERVERS when it is set, else a broker started on loopback
for the run (aftersales.brokers) and stopped at the end. Progress goes to stderr; the table to
stdout; the figures, repeats and machine to bench/results/latest.json."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import (
    audit,
    commands,
    encryption,
    http_api,
    inbound,
    ingest,
    latency,
    loading,
    memory,
    policy_simulate,
    projection_runner,
    rebuild,
    relay,
    replay,
    scale_out,
    submit,
    submit_memory,
)
from bench.context import Context
from bench.report import (
    BenchResult,
    baselines_legend,
    code_info,
    fsync_ms,
    machine_info,
    notes,
    progress,
    table,
    write_json,
)
from workers.collector import tune_collector

BENCHMARKS: dict[str, Callable[[Context], BenchResult]] = {
    "commands": commands.run,
    "loading": loading.run,
    "encryption": encryption.run,
    "submit": submit.run,
    "submit_memory": submit_memory.run,
    "ingest": ingest.run,
    "inbound": inbound.run,
    "relay": relay.run,
    "replay": replay.run,
    "projection_runner": projection_runner.run,
    "latency": latency.run,
    "rebuild": rebuild.run,
    "memory": memory.run,
    "audit": audit.run,
    "policy_simulate": policy_simulate.run,
    "http_api": http_api.run,
    "scale_out": scale_out.run,
}


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), metavar="NAME",
                        help=f"run only these ({', '.join(BENCHMARKS)})")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes: a smoke test in under a minute")
    parser.add_argument("--broker", choices=("kafka", "tansu"), default="kafka",
                        help="local broker to start when KAFKA_BOOTSTRAP_SERVERS is not set")
    parser.add_argument("--output", type=Path, default=None,
                        help="where to write the JSON (default bench/results/latest.json)")
    parser.add_argument("--profile", action="store_true",
                        help="also profile the commands benchmark (cProfile) and list its "
                             "top functions by cumulative time")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    return parser.parse_args(argv)


def fresh_process_heap() -> None:
    """The collector as a fresh ``aftersales`` process has it: what earlier benchmarks left
    is collected or frozen (each command runs in its own process, which never sees it; left
    in sight, every collection of the oldest generation would walk it)."""
    gc.collect()
    tune_collector()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    tune_collector()  # as every aftersales process does (workers/collector.py)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("kafka").setLevel(logging.ERROR)
    names = args.only or list(BENCHMARKS)
    machine = machine_info()
    machine["load_average_at_start"] = os.getloadavg()
    machine["fsync_ms_at_start"] = fsync_ms()
    workdir = Path(tempfile.mkdtemp(prefix="aftersales-bench-"))
    ctx = Context(quick=args.quick, workdir=workdir, broker_kind=args.broker,
                  profile=args.profile)
    progress(f"running {', '.join(names)} ({'quick' if args.quick else 'full'}) in {workdir}")
    results: list[BenchResult] = []
    started = time.perf_counter()
    try:
        for name in names:
            fresh_process_heap()
            bench_started = time.perf_counter()
            try:
                result = BENCHMARKS[name](ctx)
            except Exception as error:  # one failing benchmark must not hide the others
                traceback.print_exc(file=sys.stderr)
                result = BenchResult(name, error=f"{type(error).__name__}: {error}")
            result.seconds = time.perf_counter() - bench_started
            progress(f"{name}: done in {result.seconds:.1f}s")
            results.append(result)
    finally:
        ctx.close()
        if args.keep:
            progress(f"scratch folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    machine["load_average_at_end"] = os.getloadavg()
    machine["fsync_ms_at_end"] = fsync_ms()
    options: dict[str, Any] = {
        "code": code_info(),
        "only": names, "quick": args.quick, "profile": args.profile, "broker": ctx.broker_used,
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    code = options["code"]
    start_load, end_load = machine["load_average_at_start"][0], machine["load_average_at_end"][0]
    print(f"\nafter-sales benchmarks ({'quick' if args.quick else 'full'}), "
          f"{machine['date']}, {machine['cores']} cores {machine['cpu_model']}, "
          f"Python {machine['python']}, broker: {options['broker'] or 'none'}; code "
          f"{code['commit']} + {len(code['uncommitted_changes_outside_bench'])} uncommitted "
          f"files; load average {start_load:.1f} at start, {end_load:.1f} at end; fsync "
          f"{machine['fsync_ms_at_start']:.2f} ms at start, {machine['fsync_ms_at_end']:.2f} ms "
          f"at end (the disk and cores are shared)\n")
    print(table(results))
    print()
    print(baselines_legend(results))
    text = notes(results)
    if text:
        print()
        print(text)
    path = write_json(results, options, machine, args.output)
    progress(f"wrote {path} ({options['total_seconds']}s in all)")
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
