"""``python -m bench.markdown [RESULTS.json]``: the results file as the README's Markdown table.

The README quotes the latest full run; this prints its heading line and table from
``bench/results/latest.json`` (or the file given), so the figures are copied, never retyped."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench.report import RESULTS_DIR

_HEADER = ("| figure | value | baseline (same run) | ratio | target | met |\n"
           "| --- | --- | --- | --- | --- | --- |")


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "ms" or abs(value) < 100:
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def _met(met: bool | None) -> str:
    return "—" if met is None else ("yes" if met else "**no**")


def _row(figure: dict[str, Any]) -> str:
    unit, ratio = figure["unit"], figure.get("ratio")
    cells = (
        figure["name"],
        f"{_number(figure['value'], unit)} {unit}",
        _number(figure.get("baseline"), unit),
        "—" if ratio is None else f"{ratio:.0%}".replace("%", " %"),
        (figure.get("target") or "—").replace("|", "\\|"),
        _met(figure.get("met")),
    )
    return "| " + " | ".join(cells) + " |"


def heading(document: dict[str, Any]) -> str:
    machine, options = document["machine"], document["options"]
    load = machine.get("load_average_at_start") or [0.0]
    end_load = machine.get("load_average_at_end") or [0.0]
    code = options.get("code", {}).get("commit", "?")
    return (f"Run of {machine['date'][:16].replace('T', ' ')} UTC (code {code}, "
            f"{'quick' if options.get('quick') else 'full sizes'}, broker "
            f"{options.get('broker', '?')}): {machine['cores']} cores {machine['cpu_model']}, "
            f"Python {machine['python']}, SQLite {machine['sqlite']}, load average "
            f"{load[0]:.1f} at start and {end_load[0]:.1f} at end, fsync "
            f"{machine.get('fsync_ms_at_start', 0):.2f} ms.")


def render(document: dict[str, Any]) -> str:
    rows = []
    for bench in document["benchmarks"]:
        if bench.get("error"):
            rows.append(f"| {bench['name']}: failed | — | — | — | — | {bench['error'][:80]} |")
        rows.extend(_row(figure) for figure in bench["figures"])
    return "\n".join([heading(document), "", _HEADER, *rows])


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else RESULTS_DIR / "latest.json"
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        print(f"bench.markdown: cannot read {path}: {error}", file=sys.stderr)
        return 2
    print(render(document))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
