"""Render the analyst report: tables on the terminal, charts in an HTML or PNG file."""

from __future__ import annotations

import base64
import html
import io
import math
from collections import defaultdict
from datetime import date
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from aftersales.output import console, table
from projections.insights.stats import Rate
from projections.insights.view import Chart, text_value
from projections.report import FLAGS, Report, Section

BLUE, RED, GREY = "#3b6ea8", "#c0392b", "#8e9aa6"
MAX_PANELS = 5


def print_report(report: Report) -> None:
    console.print(table("headline", ["figure", "value"],
                        [[k, text_value(v)] for k, v in report.headline.items()]))
    for section in report.sections:
        console.print(table(section.title, section.columns,
                            ([text_value(v) for v in row] for row in section.rows)))
        if section.note:
            console.print(f"[dim]{section.note}[/]", highlight=False)


def number(value: Any) -> float:
    """A cell as a number for a chart: a rate in its unit (percent or per 1,000)."""
    if isinstance(value, Rate):
        return 0.0 if value.value is None else value.value * value.per
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def plain(text: object, limit: int = 60) -> str:
    """Text from the data as matplotlib shows it literally: '$' would start mathtext."""
    value = str(text)
    value = value if len(value) <= limit else value[:limit - 1] + "…"
    return value.replace("$", r"\$")


def _label(row: dict[str, Any], chart: Chart) -> str:
    """A bar's label: its x and the columns that tell it from the other rows ('FR · EUR',
    'FR · return: changed_mind · EUR'), so that no two rows share a label."""
    return plain(" · ".join(str(row.get(c) or "") for c in (chart.x, *chart.label)))


def _bars(ax: Axes, section: Section, chart: Chart) -> None:
    """Bars; a rate's bar carries its 95 % interval and its support n."""
    rows = [r for r in section.chart_rows
            if not (isinstance(r.get(chart.y), Rate) and not r[chart.y].n)][:15][::-1]
    labels, values = [_label(r, chart) for r in rows], [number(r.get(chart.y)) for r in rows]
    # one bar per row at its own position: labels on a categorical axis would merge equal
    # ones and move every interval and n after them onto another row's bar
    ax.barh(range(len(rows)), values, color=BLUE)
    ax.set_yticks(range(len(rows)), labels)
    rates = [(i, v) for i, r in enumerate(rows) if isinstance(v := r.get(chart.y), Rate)]
    reach = max(values, default=0.0)
    if rates:
        spans = [(v.interval[0] * v.per, v.interval[1] * v.per) for _, v in rates]
        ax.errorbar([values[i] for i, _ in rates], [i for i, _ in rates], fmt="none",
                    ecolor=GREY, capsize=3, xerr=[[values[i] - lo for (i, _), (lo, _) in
                                                   zip(rates, spans, strict=True)],
                                                  [hi - values[i] for (i, _), (_, hi) in
                                                   zip(rates, spans, strict=True)]])
        reach = max(reach, *(hi for _, hi in spans))
        for (i, v), (_, hi) in zip(rates, spans, strict=True):
            ax.text(hi, i, f" n={v.n:,}", va="center", fontsize=7, color=GREY)
    ax.set_xlim(0.0, (reach or 1.0) * 1.15)
    unit = next((v.unit for _, v in rates), "")
    ax.set_xlabel(f"{chart.y} ({unit}, 95 % interval)" if unit else chart.y)
    ax.set_title(plain(section.title, 120), fontsize=9)


def _gaps(xs: list[float], *columns: list[float]) -> tuple[list[float], ...]:
    """NaN between points more than a week apart, so that no line crosses weeks without
    data."""
    out: tuple[list[float], ...] = ([], *([] for _ in columns))
    for i, x in enumerate(xs):
        if i and x - xs[i - 1] > 7:
            for series in out:
                series.append(math.nan)
        out[0].append(x)
        for series, column in zip(out[1:], columns, strict=True):
            series.append(column[i])
    return out


def _point(value: Any) -> float:
    """A cell as a point of a line: nothing (NaN) where there is no value or no trial."""
    if value is None or (isinstance(value, Rate) and not value.n):
        return math.nan
    return number(value)


def _line(ax: Axes, title: str, chart: Chart, points: list[dict[str, Any]]) -> None:
    """The series with its 95 % interval (shaded) and normal range (dashed); weeks outside it
    in red."""
    days = list(mdates.date2num([date.fromisoformat(str(p[chart.x])) for p in points]))
    ys = [_point(p.get(chart.y)) for p in points]
    bounds = [v.interval if isinstance(v := p.get(chart.y), Rate) and v.n else (math.nan,) * 2
              for p in points]
    per = next((v.per for p in points if isinstance(v := p.get(chart.y), Rate)), 1)
    xs, line, lows, highs = _gaps(days, ys, [b[0] * per for b in bounds],
                                  [b[1] * per for b in bounds])
    ax.fill_between(xs, lows, highs, color=BLUE, alpha=0.15, linewidth=0)
    ax.plot(xs, line, marker=".", color=BLUE, label=chart.y)
    if chart.band:
        low, high = chart.band
        _, normal_low, normal_high = _gaps(days, [_point(p.get(low)) for p in points],
                                           [_point(p.get(high)) for p in points])
        ax.plot(xs, normal_low, color=GREY, linestyle="--", linewidth=0.8,
                label="normal range")
        ax.plot(xs, normal_high, color=GREY, linestyle="--", linewidth=0.8)
    if chart.also:
        _, other = _gaps(days, [_point(p.get(chart.also)) for p in points])
        ax.plot(xs, other, marker=".", color=GREY, label=chart.also)
    if chart.also or chart.band:
        ax.legend(fontsize=7)
    marked = [i for i, p in enumerate(points)
              if any(v in FLAGS for k, v in p.items() if "flag" in k)]
    if marked:
        ax.scatter([days[i] for i in marked], [ys[i] for i in marked], color=RED, zorder=3)
    unit = next((v.unit for p in points if isinstance(v := p.get(chart.y), Rate)), "")
    ax.set_ylabel(unit or chart.y, fontsize=8)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    ax.tick_params(axis="x", labelrotation=30, labelsize=7)
    ax.set_title(title, fontsize=9)


def _figure(section: Section) -> Figure | None:
    """The section's chart: bars, or one line panel per series (red: weeks flagged)."""
    chart = section.chart
    if chart is None or not section.chart_rows:
        return None
    if chart.kind == "bar":
        fig, ax = plt.subplots(figsize=(8, 3.4))
        _bars(ax, section, chart)
        return fig
    series: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in section.chart_rows:
        series[str(row.get(chart.series)) if chart.series else ""].append(row)
    panels = sorted(series.items(), key=lambda s: -len(s[1]))[:MAX_PANELS]
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 2.6 * len(panels)), squeeze=False)
    for ax, (name, points) in zip(axes.flat, panels, strict=False):
        _line(ax, plain(f"{section.title}: {name}" if name else section.title, 120), chart,
              points)
    return fig


def _chart(section: Section) -> bytes | None:
    fig = _figure(section)
    if fig is None:
        return None
    try:
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()
    finally:
        plt.close(fig)


def html_page(report: Report) -> str:
    """The report as one HTML page, its charts inlined."""
    parts = ["<!doctype html><meta charset='utf-8'><title>After-sales report</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
             "table{border-collapse:collapse;margin:1em 0;font-size:13px}td,th{border:1px "
             "solid #ccc;padding:2px 6px;text-align:left}.note{color:#555;font-size:13px}"
             "</style><h1>After-sales report</h1>",
             _html_table(["figure", "value"], [[k, v] for k, v in report.headline.items()])]
    for section in report.sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        if section.note:
            parts.append(f"<p class='note'>{html.escape(section.note)}</p>")
        image = _chart(section)
        if image is not None:
            encoded = base64.b64encode(image).decode()
            parts.append(f"<img alt='{html.escape(section.title)}' "
                         f"src='data:image/png;base64,{encoded}'>")
        parts.append(_html_table(section.columns, section.rows))
    return "\n".join(parts)


def png_image(report: Report) -> bytes:
    """Every chart of the report, one under the other, in one PNG."""
    images = [plt.imread(io.BytesIO(png), format="png")
              for png in (_chart(s) for s in report.sections) if png is not None]
    if not images:
        images = [np.ones((10, 10, 4))]
    width = max(i.shape[1] for i in images)
    padded = [np.pad(i, ((0, 0), (0, width - i.shape[1]), (0, 0)), constant_values=1.0)
              for i in images]
    image = io.BytesIO()
    plt.imsave(image, np.vstack(padded), format="png")
    return image.getvalue()


def _html_table(columns: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(text_value(v))}</td>" for v in row)
                   + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"
