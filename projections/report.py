"""The analyst's report: key figures and the insights' main views, over the read models.

Rates are the ones defined in the README ("Insights"): never above 100 %, shown with their
support n and 95 % interval (as k/n when n is small)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from projections.db import ReadDatabase
from projections.insights.carriers import carriers
from projections.insights.complaints import complaints
from projections.insights.products import products
from projections.insights.refunds import refunds
from projections.insights.stats import Rate
from projections.insights.view import Chart, View, json_value

Rows = list[dict[str, Any]]


@dataclass
class Section:
    title: str
    columns: list[str]
    rows: list[list[Any]]  # cells: text, numbers or Rates (rendered with their n and interval)
    chart: Chart | None = None
    note: str = ""
    chart_rows: Rows = field(default_factory=list)  # what the chart draws (every row)


@dataclass
class Report:
    headline: dict[str, Any] = field(default_factory=dict)
    sections: list[Section] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The figures as JSON (`aftersales report --format json`, ``GET /v1/report``)."""
        return {"headline": {k: json_value(v) for k, v in self.headline.items()},
                "sections": [{"title": s.title, "columns": s.columns, "note": s.note,
                              "rows": [[json_value(v) for v in row] for row in s.rows]}
                             for s in self.sections]}


FLAGS = ("above", "below")


def from_view(view: View, limit: int | None = None, title: str | None = None) -> Section:
    """A view as a report section; weekly views list only their flagged weeks (the chart
    draws every week)."""
    columns = view.columns
    rows = view.rows
    note = view.note
    if view.name == "weekly":
        rows = [r for r in rows if any(r.get(c) in FLAGS for c in columns if "flag" in c)]
        note = f"weeks outside their normal range ({len(rows)} of {len(view.rows)}); {note}"
    return Section(title or view.title, columns,
                   [[row.get(c) for c in columns] for row in rows[:limit]],
                   chart=view.chart, note=note, chart_rows=view.rows)


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
    return Section("Return requests by category", ["category", "requests", "quantity"],
                   [[r["category"], r["requests"], r["qty"]] for r in rows[:20]],
                   chart=Chart("bar", "category", "requests"))


def logistics(db: ReadDatabase) -> Section:
    rows = db.query("SELECT carrier, exception, count(*) AS n FROM logistics_exceptions "
                    "GROUP BY carrier, exception ORDER BY n DESC, carrier")
    return Section("Logistics exceptions by carrier", ["carrier", "exception", "count"],
                   [[r["carrier"], r["exception"], r["n"]] for r in rows[:30]],
                   chart=Chart("bar", "carrier", "count"))


def headline(db: ReadDatabase) -> dict[str, Any]:
    counts = {r["case_type"]: r["n"] for r in db.query(
        "SELECT case_type, count(*) AS n FROM cases GROUP BY case_type")}
    placed = db.query("SELECT count(*) AS n FROM orders WHERE placed_at IS NOT NULL")[0]["n"]
    delivered = db.query("SELECT count(*) AS n, sum(CASE WHEN returned_skus > 0 THEN 1 ELSE 0 "
                         "END) AS returned FROM product_orders WHERE delivered = 1")[0]
    late = db.query("SELECT sum(CASE WHEN first_response_breached = 1 THEN 1 ELSE 0 END) AS "
                    "responses, sum(CASE WHEN resolution_breached = 1 THEN 1 ELSE 0 END) AS "
                    "resolutions FROM complaints")[0]
    alerts = db.query("SELECT count(*) AS n FROM product_alerts")[0]["n"]
    return {"orders placed": placed, "orders delivered": delivered["n"],
            "return cases": counts.get("return", 0), "refund cases": counts.get("refund", 0),
            "complaint cases": counts.get("complaint", 0),
            "delivered orders with a return": Rate(int(delivered["returned"] or 0),
                                                   int(delivered["n"])),
            "product-information alerts": alerts,
            "first responses late": int(late["responses"] or 0),
            "resolutions late": int(late["resolutions"] or 0)}


def build(db: ReadDatabase) -> Report:
    report = Report(headline=headline(db))
    product = products(db)
    carrier = carriers(db)
    complaint = complaints(db)
    refund = refunds(db)
    report.sections = [
        from_view(product.view("markets")),
        from_view(product.view("alerts"), 20),
        from_view(product.view("categories"), 15, "Categories tested (lowest q first)"),
        from_view(product.view("weekly")),
        return_reasons(db),
        returns_by_category(db),
        from_view(carrier.view("carriers"), 20),
        from_view(carrier.view("routes"), 15),
        from_view(carrier.view("weekly")),
        logistics(db),
        from_view(complaint.view("drivers"), 20),
        from_view(complaint.view("paths")),
        from_view(complaint.view("weekly")),
        from_view(refund.view("shares"), 30),
        from_view(refund.view("components")),
        from_view(refund.view("returnless")),
        from_view(refund.view("time_to_money")),
    ]
    return report
