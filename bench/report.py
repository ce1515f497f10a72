"""What every benchmark shares: timing helpers, figures, the printed table, the JSON file."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
REPEATS = 3
_STARTED = time.perf_counter()


def progress(message: str) -> None:
    """One progress line on stderr, with the seconds since the run started."""
    print(f"[bench {time.perf_counter() - _STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (p99 of 500 samples is the 495th smallest)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no samples")
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def paired(values: Sequence[float], baselines: Sequence[float], higher_is_better: bool = True
           ) -> float:
    """The median of the per-repeat ratios (see Figure.ratio)."""
    return median([v / b if higher_is_better else b / v for v, b in zip(values, baselines,
                                                                         strict=True)])


@dataclass
class Figure:
    """One row of the table.

    ``ratio`` is always "speed relative to the baseline": value/baseline for rates,
    baseline/value for latencies, so 1.0 means as fast as the baseline and 0.5 half as fast.
    ``paired_ratio``, when given, is the median of the ratios of each repeat (the product and
    its baseline run back to back), which drifts less on a busy machine than the ratio of the
    two medians; it is the ratio shown.
    """

    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_what: str = ""
    higher_is_better: bool = True
    target: str = ""
    met: bool | None = None
    paired_ratio: float | None = None

    @property
    def ratio(self) -> float | None:
        if self.paired_ratio is not None:
            return self.paired_ratio
        if self.baseline is None or self.baseline == 0 or self.value == 0:
            return None
        if self.higher_is_better:
            return self.value / self.baseline
        return self.baseline / self.value

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}


@dataclass
class BenchResult:
    """A benchmark's figures, the raw repeats behind them, its parameters and notes."""

    name: str
    figures: list[Figure] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    repeats: dict[str, list[float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "seconds": round(self.seconds, 2),
            "params": self.params,
            "figures": [f.to_json() for f in self.figures],
            "repeats": self.repeats,
            "notes": self.notes,
            "error": self.error,
        }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_total_mb() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def code_info() -> dict[str, Any]:
    """The commit measured and the files changed in the working tree (others edit it too)."""
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                                  timeout=10, check=False)
        except OSError:
            return ""
        return done.stdout.strip() if done.returncode == 0 else ""

    changed = [line[3:] for line in git("status", "--porcelain").splitlines()
               if not line[3:].startswith("bench/")]
    return {"commit": git("rev-parse", "--short", "HEAD") or None,
            "uncommitted_changes_outside_bench": changed}


def fsync_ms(samples: int = 30) -> float:
    """Median time of a 4 KiB write + fsync in the temp folder: what a SQLite commit waits for.

    The disk is shared with whatever else runs on the machine, so this is measured per run."""
    times = []
    with tempfile.NamedTemporaryFile() as probe:
        for _ in range(samples):
            started = time.perf_counter()
            probe.write(b"x" * 4096)
            probe.flush()
            os.fsync(probe.fileno())
            times.append((time.perf_counter() - started) * 1000)
    return round(median(times), 3)


def machine_info() -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_mb": _memory_total_mb(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "packages": {
            name: _version(name)
            for name in ("eventsourcing", "kafka-python", "crc32c", "orjson", "pydantic")
        },
    }


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    if unit == "ms" or abs(value) < 100:
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def _yes_no(met: bool | None) -> str:
    return "—" if met is None else ("yes" if met else "NO")


def table(results: Sequence[BenchResult]) -> str:
    header = ("figure", "value", "unit", "baseline", "ratio", "SPEC target", "met?")
    rows: list[tuple[str, ...]] = []
    for bench in results:
        if bench.error:
            rows.append((f"{bench.name}: FAILED", "—", "", "—", "—", "", bench.error[:60]))
        for f in bench.figures:
            ratio = f.ratio
            rows.append((
                f.name,
                _number(f.value, f.unit),
                f.unit,
                _number(f.baseline, f.unit),
                "—" if ratio is None else f"{ratio:.0%}",
                f.target or "—",
                _yes_no(f.met),
            ))  # fmt: skip
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    numeric = {1, 3, 4}

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(widths[i]) if i in numeric else c.ljust(widths[i]) for i, c in enumerate(cells)
        ).rstrip()

    out = [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]
    return "\n".join(out)


def baselines_legend(results: Sequence[BenchResult]) -> str:
    lines = ["ratio = speed relative to the baseline (rates: value/baseline; latencies: "
             "baseline/value), the median of the per-repeat ratios. Baselines:"]
    seen: set[str] = set()
    for bench in results:
        for f in bench.figures:
            if f.baseline_what and f.baseline_what not in seen:
                seen.add(f.baseline_what)
                lines.append(f"  {f.name.split(':')[0]}: {f.baseline_what}")
    return "\n".join(lines)


def notes(results: Sequence[BenchResult]) -> str:
    lines = []
    for bench in results:
        for note in bench.notes:
            lines.append(f"  [{bench.name}] {note}")
    return "Notes:\n" + "\n".join(lines) if lines else ""


def write_json(results: Sequence[BenchResult], options: dict[str, Any],
               machine: dict[str, Any], path: Path | None = None) -> Path:
    path = path or RESULTS_DIR / "latest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "machine": machine,
        "options": options,
        "ratio_definition": "speed relative to the baseline measured in the same run: "
                            "value/baseline for rates, baseline/value for latencies",
        "benchmarks": [r.to_json() for r in results],
    }
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    return path
