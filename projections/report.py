"""The analyst's key figures, computed with SQL over the projection tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from projections.db import ReadDatabase

Rows = list[dict[str, Any]]


@dataclass
class Section:
    title: str
    columns: list[str]
    rows: list[list[Any]]
    chart: tuple[str, str] | None = None  # (label column, value column) for a bar chart
    note: str = ""


@dataclass
class Report:
    headline: dict[str, Any] = field(default_factory=dict)
    sections: list[Section] = field(default_factory=list)


def _pct(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def returns_by_market(db: ReadDatabase) -> Section:
    orders = {r["market"]: r["n"] for r in db.query(
        "SELECT market, count(*) AS n FROM orders WHERE market IS NOT NULL GROUP BY market")}
    returned = {r["market"]: r["n"] for r in db.query(
        "SELECT market, count(*) AS n FROM cases WHERE case_type = 'return' GROUP BY market")}
    rows = sorted(([m, n, returned.get(m, 0), _pct(returned.get(m, 0), n)]
                   for m, n in orders.items()), key=lambda r: (-r[1], r[0]))
    return Section("Return rate by market", ["market", "orders", "returns", "return_rate_%"],
                   rows, chart=("market", "return_rate_%"))


def return_reasons(db: ReadDatabase) -> Section:
    rows = db.query("SELECT market, reason, count(*) AS n, "
                    "sum(CASE WHEN status = 'rejected' THEN 1 ELSE 0 END) AS rejected "
                    "FROM cases WHERE case_type = 'return' GROUP BY market, reason "
                    "ORDER BY n DESC, market, reason")
    return Section("Return reasons by market", ["market", "reason", "returns", "rejected"],
                   [[r["market"], r["reason"], r["n"], r["rejected"]] for r in rows[:30]])


def returns_by_category(db: ReadDatabase) -> Section:
    rows = db.query("SELECT category, sum(requests) AS requests, sum(quantity) AS qty "
                    "FROM returns_by_reason GROUP BY category ORDER BY requests DESC")
    return Section("Returns by category", ["category", "requests", "quantity"],
                   [[r["category"], r["requests"], r["qty"]] for r in rows[:20]],
                   chart=("category", "requests"))


def returns_by_sku(db: ReadDatabase) -> Section:
    rows = db.query("SELECT sku, category, sum(requests) AS requests, sum(quantity) AS qty "
                    "FROM returns_by_reason GROUP BY sku, category ORDER BY requests DESC, sku")
    return Section("Most returned SKUs", ["sku", "category", "requests", "quantity"],
                   [[r["sku"], r["category"], r["requests"], r["qty"]] for r in rows[:15]])


def refunds(db: ReadDatabase) -> Section:
    rows = db.query("SELECT currency, source, status, amount, hours_to_settle FROM refunds")
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        key = (r["currency"] or "?", r["source"])
        g = groups.setdefault(key, {"n": 0, "settled": Decimal(0), "hours": []})
        g["n"] += 1
        if r["status"] == "settled" and r["amount"] is not None:
            g["settled"] += Decimal(r["amount"])
            g["hours"].append(float(r["hours_to_settle"] or 0))
    out = [[cur, src, g["n"], str(g["settled"]), _percentile(g["hours"], 0.5),
            _percentile(g["hours"], 0.9)] for (cur, src), g in sorted(groups.items())]
    return Section("Refunds by currency and source", ["currency", "source", "refunds",
                   "settled_total", "median_hours_to_settle", "p90_hours_to_settle"], out)


def complaints(db: ReadDatabase) -> tuple[Section, Section]:
    rows = db.query("SELECT category, count(*) AS n, sum(proactive) AS proactive, "
                    "avg(satisfaction) AS sat FROM complaints GROUP BY category ORDER BY n DESC")
    by_category = Section("Complaint categories", ["category", "complaints", "proactive",
                                                   "avg_satisfaction"],
                          [[r["category"], r["n"], r["proactive"],
                            None if r["sat"] is None else round(float(r["sat"]), 2)]
                           for r in rows], chart=("category", "complaints"))
    times = db.query("SELECT channel, first_response_hours AS h, first_response_breached AS b "
                     "FROM complaints")
    channels: dict[str, list[Any]] = {}
    for t in times:
        channels.setdefault(t["channel"], []).append(t)
    out = []
    for channel, items in sorted(channels.items()):
        hours = [float(i["h"]) for i in items if i["h"] is not None]
        breached = sum(1 for i in items if i["b"])
        out.append([channel, len(items), len(hours), _percentile(hours, 0.5),
                    _percentile(hours, 0.9), _pct(breached, len(hours))])
    first = Section("First response by channel", ["channel", "complaints", "answered",
                    "median_hours", "p90_hours", "breached_%"], out)
    return by_category, first


def logistics(db: ReadDatabase) -> Section:
    rows = db.query("SELECT carrier, exception, count(*) AS n FROM logistics_exceptions "
                    "GROUP BY carrier, exception ORDER BY n DESC, carrier")
    return Section("Logistics exceptions by carrier", ["carrier", "exception", "count"],
                   [[r["carrier"], r["exception"], r["n"]] for r in rows],
                   chart=("carrier", "count"))


def build(db: ReadDatabase) -> Report:
    report = Report()
    totals = db.query("SELECT case_type, count(*) AS n FROM cases GROUP BY case_type")
    counts = {r["case_type"]: r["n"] for r in totals}
    orders = db.query("SELECT count(*) AS n FROM orders WHERE placed_at IS NOT NULL")[0]["n"]
    late = db.query("SELECT count(*) AS n FROM complaints WHERE first_response_breached = 1")
    report.headline = {"orders": orders, "returns": counts.get("return", 0),
                       "refunds": counts.get("refund", 0),
                       "complaints": counts.get("complaint", 0),
                       "return_rate_%": _pct(counts.get("return", 0), orders),
                       "first_responses_late": late[0]["n"]}
    by_category, first_response = complaints(db)
    report.sections = [returns_by_market(db), return_reasons(db), returns_by_category(db),
                       returns_by_sku(db), refunds(db), by_category, first_response,
                       logistics(db)]
    return report
