"""What an insight returns: named views (tables of rows) that the CLI prints as tables, JSON or
CSV, the report draws, and the service API and desk can serve as they are."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from projections.insights.stats import Rate


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
    name: str
    title: str
    rows: list[dict[str, Any]]
    note: str = ""
    chart: Chart | None = None
    brief: list[str] | None = None  # the columns a terminal table shows (else all)

    @property
    def columns(self) -> list[str]:
        names: dict[str, None] = {}
        for row in self.rows:
            names.update(dict.fromkeys(row))
        return list(names)


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


def flat_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row for CSV: each rate becomes <name>_k, _n, _rate, _low, _high; lists and dicts
    become JSON-like text."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, Rate):
            figures = value.as_json()
            for part in ("k", "n", "rate", "low", "high"):
                out[f"{key}_{part}"] = figures[part]
        elif isinstance(value, dict | list):
            out[key] = text_value(value)
        else:
            out[key] = json_value(value)
    return out
