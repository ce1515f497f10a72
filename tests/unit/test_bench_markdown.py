"""The README's benchmark table is rendered from the results file, never retyped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.markdown import main, render

DOCUMENT = {
    "machine": {"date": "2026-12-01T03:00:00+00:00", "cores": 2, "cpu_model": "AMD EPYC",
                "python": "3.11.7", "sqlite": "3.40.1", "load_average_at_start": [1.25, 1, 1],
                "load_average_at_end": [2.0, 1, 1], "fsync_ms_at_start": 0.18},
    "options": {"code": {"commit": "abc1234"}, "quick": False, "broker": "kafka"},
    "benchmarks": [
        {"name": "commands", "error": None, "figures": [
            {"name": "commands: handled", "value": 1224.4, "unit": "commands/s",
             "baseline": 2329.6, "ratio": 0.502, "target": "≥ 1,500/s | ≥ 50 %", "met": False},
            {"name": "commands: events per command", "value": 3.444, "unit": "events/cmd",
             "baseline": None, "ratio": None, "target": "—", "met": None},
        ]},
        {"name": "latency", "error": None, "figures": [
            {"name": "latency: p99", "value": 48.2, "unit": "ms", "baseline": 4.38,
             "ratio": 0.09, "target": "p99 < 500 ms", "met": True}]},
        {"name": "inbound", "error": "TimeoutError: 10 of 20", "figures": []},
    ],
}


def test_every_figure_is_a_row_with_its_baseline_ratio_and_verdict() -> None:
    lines = render(DOCUMENT).splitlines()
    assert lines[0].startswith("Run of 2026-12-01 03:00 UTC (code abc1234, full sizes")
    assert "load average 1.2 at start and 2.0 at end" in lines[0]
    assert ("| commands: handled | 1,224 commands/s | 2,330 | 50 % | ≥ 1,500/s \\| ≥ 50 % "
            "| **no** |") in lines
    assert "| commands: events per command | 3.44 events/cmd | — | — | — | — |" in lines
    assert "| latency: p99 | 48.20 ms | 4.38 | 9 % | p99 < 500 ms | yes |" in lines
    assert "| inbound: failed | — | — | — | — | TimeoutError: 10 of 20 |" in lines


def test_an_unreadable_file_is_refused_with_exit_2(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "latest.json"
    broken.write_text("{not json")
    assert main([str(broken)]) == 2
    assert str(broken) in capsys.readouterr().err
    good = tmp_path / "good.json"
    good.write_text(json.dumps(DOCUMENT))
    assert main([str(good)]) == 0
