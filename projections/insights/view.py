"""What an insight returns: named views (tables of rows) that the CLI prints as tables, JSON or
CSV, the report draws, and the service API and desk can serve as they are."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from projections.insights.stats import Rate

RATE_PARTS = ("k", "n", "rate", "low", "high")  # a rate's columns in CSV and TSV


@dataclass(frozen=True)
class Chart:
    kind: str  # "bar" (label, value) or "line" (x, value per series)
    x: str  # the label (bar) or x (line) column
    y: str  # the value column: a Rate or a number
    series: str | None = None  # line charts: one panel per value of this column
    also: str | None = None  # line charts: a second value column drawn beside y
    band: tuple[str, str] | None = None  # line charts: the normal range's (low, high) columns
    label: tuple[str, ...] = ()  # bar charts: the columns besides x that tell rows apart


@dataclass
class View:
    """A named table. ``columns`` are declared, not read off the rows, so that a view without
    rows still has its header (CSV, TSV, tables, report sections); every row holds exactly these
    keys. ``rates`` are the columns holding a Rate (or None): CSV and TSV spread each over five
    columns (``flat_columns``)."""

    name: str
    title: str
    rows: list[dict[str, Any]]
    note: str = ""
    chart: Chart | None = None
    brief: list[str] | None = None  # the columns a terminal table shows (else all)
    columns: list[str] = field(kw_only=True)
    rates: tuple[str, ...] = field(default=(), kw_only=True)

    def __post_init__(self) -> None:
        declared = set(self.columns)
        named = {*self.rates, *(self.brief or ())}
        if self.chart is not None:
            c = self.chart
            named |= {c.x, c.y, *(x for x in (c.series, c.also) if x), *(c.band or ()), *c.label}
        undeclared = named - declared
        if undeclared or len(declared) != len(self.columns):
            raise ValueError(f"view {self.name}: columns {sorted(undeclared)} not declared "
                             "(or declared twice)")
        for row in self.rows:
            if row.keys() != declared:
                raise ValueError(f"view {self.name}: a row's columns differ from the declared "
                                 f"ones: {sorted(row.keys() ^ declared)}")

    @property
    def flat_columns(self) -> list[str]:
        """The columns of CSV and TSV: each rate as <name>_k, _n, _rate, _low, _high."""
        return [f"{c}_{part}" if c in self.rates else c
                for c in self.columns for part in (RATE_PARTS if c in self.rates else ("",))]

    def flat_row(self, row: dict[str, Any]) -> dict[str, Any]:
        """A row for CSV and TSV, in the declared order: each rate (empty when None) as five
        columns; lists and dicts as text."""
        out: dict[str, Any] = {}
        for key in self.columns:
            value = row[key]
            if key in self.rates:
                figures = value.as_json() if isinstance(value, Rate) else {}
                for part in RATE_PARTS:
                    out[f"{key}_{part}"] = figures.get(part)
            elif isinstance(value, dict | list):
                out[key] = text_value(value)
            else:
                out[key] = json_value(value)
        return out


@dataclass
class Insight:
    name: str
    views: list[View] = field(default_factory=list)
    filters: dict[str, Any] = field(default_factory=dict)

    def view(self, name: str) -> View:
        for view in self.views:
            if view.name == name:
                return view
        raise KeyError(f"{self.name} has no view {name!r}; "
                       f"views: {', '.join(v.name for v in self.views)}")

    def as_json(self) -> dict[str, Any]:
        return {"insight": self.name, "filters": self.filters,
                "views": {v.name: {"title": v.title, "note": v.note,
                                   "rows": [json_row(r) for r in v.rows]}
                          for v in self.views}}


def json_value(value: Any) -> Any:
    if isinstance(value, Rate):
        return value.as_json()
    if isinstance(value, float):
        return machine_float(value)
    return value


def machine_float(value: float) -> float:
    """A float for JSON and CSV: 6 decimals from 1 up, 6 significant digits below, so that a
    p-value of 2.66e-57 stays 2.66e-57 (6 decimals made it 0.0, which an exact test never
    gives, and tied every such q at 0 when ranking)."""
    if not math.isfinite(value) or abs(value) >= 1:
        return round(value, 6)
    return float(f"{value:.6g}")


def json_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: json_value(v) for k, v in row.items()}


def text_value(value: Any) -> str:
    """A cell for people: rates with their support and interval, floats rounded."""
    if value is None:
        return ""
    if isinstance(value, Rate):
        return value.text()
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 0.01 and value else f"{value:,.2f}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(_example(item) if isinstance(item, list) else str(item)
                         for item in value)
    return str(value)


def _example(item: list[Any]) -> str:
    """An example case [time, case id, kind] as 'YYYY-MM-DD <case id> (kind)'."""
    if len(item) == 3:
        return f"{str(item[0])[:10]} {item[1]} ({item[2]})"
    return " ".join(str(p) for p in item)
