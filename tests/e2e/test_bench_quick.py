"""Every benchmark still runs: `python -m bench --quick` (small sizes) against the suite's
broker and PostgreSQL, in a real process. Nothing here compares a figure with a target (the
machine's speed must not fail a test): a benchmark that raises, times out waiting for events
that never come or is refused by the engine it measures is what fails. Benchmarks used to
break unseen when the engine changed under them (principals' events that stay in the store,
customers no longer allowed to choose a case id)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from aftersales import children
from bench.__main__ import BENCHMARKS
from tests.conftest import PG_URL_VAR
from tests.kafka_fixtures import TestBroker

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(1200)
def test_every_benchmark_runs_its_quick_size_without_an_error(kafka_broker: TestBroker,
                                                               tmp_path: Path) -> None:
    out = tmp_path / "quick.json"
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_broker.bootstrap_servers}
    if os.environ.get(PG_URL_VAR):
        env["AFTERSALES_BENCH_POSTGRES_URL"] = os.environ[PG_URL_VAR]
    done = children.run([sys.executable, "-m", "bench", "--quick", "--output", str(out)],
                        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1100,
                        check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-6000:]
    results = json.loads(out.read_text())
    assert [b["name"] for b in results["benchmarks"]] == list(BENCHMARKS)
    for bench in results["benchmarks"]:
        assert bench["error"] is None, (bench["name"], bench["error"])
        if bench["name"] == "scale_out" and not os.environ.get(PG_URL_VAR):
            continue  # measured on PostgreSQL only
        assert bench["figures"], bench["name"]
        assert all(f["value"] > 0 for f in bench["figures"]), bench["name"]
