"""Render the analyst report: tables on the terminal, charts in an HTML or PNG file."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from aftersales.output import console, table
from projections.report import Report, Section


def print_report(report: Report) -> None:
    console.print(table("headline", ["figure", "value"], list(report.headline.items())))
    for section in report.sections:
        console.print(table(section.title, section.columns, section.rows))


def _chart(section: Section) -> bytes | None:
    if section.chart is None or not section.rows:
        return None
    label, value = section.chart
    li, vi = section.columns.index(label), section.columns.index(value)
    rows = section.rows[:15]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.barh([str(r[li]) for r in rows][::-1], [float(r[vi] or 0) for r in rows][::-1],
            color="#3b6ea8")
    ax.set_title(section.title)
    ax.set_xlabel(value)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()


def write_html(report: Report, path: Path) -> None:
    parts = ["<!doctype html><meta charset='utf-8'><title>After-sales report</title>",
             "<style>body{font-family:sans-serif;max-width:960px;margin:2em auto}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
             "padding:2px 8px;text-align:left}</style><h1>After-sales report</h1>",
             _html_table(["figure", "value"], [list(i) for i in report.headline.items()])]
    for section in report.sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        image = _chart(section)
        if image is not None:
            encoded = base64.b64encode(image).decode()
            parts.append(f"<img alt='{html.escape(section.title)}' "
                         f"src='data:image/png;base64,{encoded}'>")
        parts.append(_html_table(section.columns, section.rows))
    path.write_text("\n".join(parts), encoding="utf-8")


def write_png(report: Report, path: Path) -> None:
    charts = [s for s in report.sections if s.chart and s.rows]
    fig, axes = plt.subplots(len(charts) or 1, 1, figsize=(8, 3 * max(len(charts), 1)))
    for ax, section in zip(list(getattr(axes, "flat", [axes])), charts, strict=False):
        assert section.chart is not None
        label, value = section.chart
        li, vi = section.columns.index(label), section.columns.index(value)
        rows = section.rows[:15]
        ax.barh([str(r[li]) for r in rows][::-1], [float(r[vi] or 0) for r in rows][::-1],
                color="#3b6ea8")
        ax.set_title(section.title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _html_table(columns: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>"
                                    for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"
