"""The demo's two merchants and their policy books, set through `aftersales policy set` before
any order arrives; at the end, one realistic change simulated over the real-data history with
`aftersales policy simulate`, and each merchant's published policy in both languages."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Protocol

from rich.console import Console

from aftersales.policy_render import html as simulation_html
from aftersales.policy_render import tables as simulation_tables
from demo.principals import ADMIN
from projections.db import private_file

BOOKS = Path(__file__).with_name("books")
MERCHANTS = {
    "uci-online-retail": (BOOKS / "uci-online-retail.toml",
                          "the UK giftware retailer's returns, refunds and complaint desk"),
    "olist": (BOOKS / "olist.toml", "the Brazilian marketplace's after-sales policy"),
}
AUDITOR = "auditor-kim"  # reads books, simulates changes (demo/principals.py)
PROPOSAL = ("uci-online-retail", BOOKS / "uci-online-retail-eu30.toml",
            "30 days instead of 14 for EU buyers to return goods for any reason")


class Cli(Protocol):
    def cli(self, *args: str, stdin: str | None = None) -> Any: ...


def _run(pipeline: Cli, *args: str) -> Any:
    done = pipeline.cli(*args)
    if done.returncode:
        raise RuntimeError(f"aftersales {' '.join(args[:2])} failed: {done.stderr}")
    return done


def set_books(pipeline: Cli) -> list[str]:
    """Each merchant's book, as its first version; one line per book for the console."""
    lines = []
    for merchant, (path, reason) in MERCHANTS.items():
        done = _run(pipeline, "policy", "set", str(path), "--merchant", merchant, "--reason",
                    reason, "--format", "json", "--as", ADMIN)
        stored = json.loads(done.stdout)
        lines.append(f"{merchant}: version {stored['version']} "
                     f"({stored['book_hash'][:19]}) from {path.name}")
    return lines


def what_if(pipeline: Cli, workdir: Path) -> tuple[str, dict[str, Any]]:
    """The proposed change over the merchant's whole recorded history, simulated once: the
    report's tables (rendered as the CLI renders them), its figures, and an HTML copy in the
    work directory (readable by its owner only, as `--output` writes it), all from the same
    run, so every figure (the rate too) is the same wherever it is printed."""
    merchant, path, _ = PROPOSAL
    report = json.loads(_run(pipeline, "policy", "simulate", str(path), "--merchant", merchant,
                             "--format", "json", "--as", AUDITOR).stdout)
    timing = report.pop("timing")
    page = workdir / "what-if.html"
    private_file(page)
    page.write_text(simulation_html(report, timing), encoding="utf-8")
    text = io.StringIO()
    out = Console(file=text, width=1_000_000)  # as piped: never wrapped
    for rendered in simulation_tables(report, timing):
        out.print(rendered)
    return text.getvalue(), {**report, "timing": timing}


def headline(report: dict[str, Any]) -> str:
    """One sentence saying what the change would have done."""
    merchant, _, change = PROPOSAL
    accepted = report["returns_newly_accepted"]
    goods = ", ".join(f"{r['currency']} {r['goods_value']}" for r in accepted) or "nothing"
    returns = sum(r["returns"] for r in accepted)
    timing = report["timing"]
    seen = report["decisions"]["re_evaluated"]
    return (f"What if {merchant} gave {change}? Of its {seen} recorded decisions evaluated "
            f"again ({timing['decisions_per_second']} decisions re-evaluated per second, "
            f"{timing['read_seconds'] + timing['evaluate_seconds']:.1f} s in all with reading "
            f"the store), {returns} refused returns would have been accepted (goods worth "
            f"{goods}).")


def publish_all(pipeline: Cli, workdir: Path) -> list[Path]:
    """Each merchant's customer-facing policy, in English and Simplified Chinese, as HTML and
    Markdown."""
    written = []
    for merchant in MERCHANTS:
        for lang in ("en", "zh-CN"):
            for fmt in ("md", "html"):
                target = workdir / f"policy-{merchant}.{lang}.{fmt}"
                _run(pipeline, "policy", "publish", "--merchant", merchant, "--lang", lang,
                     "--format", fmt, "--output", str(target), "--as", AUDITOR)
                written.append(target)
    return written
