"""The analyst's figures for one period and market, from the read models, each with the
queue filters that list the cases behind it; and the refunds waiting for a supervisor."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from desk.i18n import Reader
from desk.queue import Query, where_clause
from projections.db import ReadDatabase


@dataclass
class Figure:
    """One table of figures: rows of (label, numbers…, the queue filters behind the row)."""

    key: str
    columns: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    chart: str | None = None  # the column drawn as bars


def _scoped(query: Query, reader: Reader) -> tuple[str, list[Any]]:
    all_cases = Query(filters=dict(query.filters), scope="all")
    return where_clause(all_cases, reader)


def figures(db: ReadDatabase, query: Query, reader: Reader, now_iso: str) -> dict[str, Any]:
    where, params = _scoped(query, reader)
    joined = "FROM cases c LEFT JOIN complaints k ON k.complaint_id = c.case_id" + where
    by_type = db.query(f"SELECT c.case_type, c.status, count(*) AS n {joined} "
                       "GROUP BY c.case_type, c.status ORDER BY c.case_type, n DESC, c.status",
                       params)
    cases = Figure("analysis.cases_by_type", ["col.type", "col.status", "analysis.count"],
                   [{"cells": [("type", r["case_type"]), ("status", r["status"])],
                     "count": r["n"], "filters": {"case_type": r["case_type"],
                                                  "status": r["status"]}} for r in by_type],
                   chart="count")
    reasons = db.query(f"SELECT c.reason, count(*) AS n {joined} "
                       f"{'AND' if where else 'WHERE'} c.case_type = 'return' "
                       "GROUP BY c.reason ORDER BY n DESC, c.reason", params)
    returns = Figure("analysis.returns_by_reason", ["field.reason", "analysis.count"],
                     [{"cells": [("raw", r["reason"])], "count": r["n"],
                       "filters": {"case_type": "return", "reason": r["reason"]}}
                      for r in reasons if r["reason"]], chart="count")
    categories = db.query(f"SELECT c.reason, count(*) AS n, sum(CASE WHEN "
                          f"k.first_response_breached = 1 THEN 1 ELSE 0 END) AS late {joined} "
                          f"{'AND' if where else 'WHERE'} c.case_type = 'complaint' "
                          "GROUP BY c.reason ORDER BY n DESC, c.reason", params)
    complaints = Figure("analysis.complaints", ["col.type", "analysis.count",
                                                 "analysis.breached"],
                        [{"cells": [("raw", r["reason"])], "count": r["n"],
                          "extra": [r["late"] or 0],
                          "filters": {"case_type": "complaint", "reason": r["reason"]}}
                         for r in categories if r["reason"]], chart="count")
    money = db.query(f"SELECT c.status, c.currency, count(*) AS n, "
                     f"sum(CAST(c.amount AS NUMERIC)) AS total {joined} "
                     f"{'AND' if where else 'WHERE'} c.case_type = 'refund' "
                     "GROUP BY c.status, c.currency ORDER BY c.currency, n DESC", params)
    # one row per status and currency: each says its currency, and its link lists its cases
    refunds = Figure("analysis.refunds", ["col.status", "col.currency", "analysis.count",
                                          "analysis.value"],
                     [{"cells": [("status", r["status"]), ("raw", r["currency"])],
                       "count": r["n"], "money": (r["total"], r["currency"]),
                       "filters": {"case_type": "refund", "status": r["status"],
                                   "currency": r["currency"]}}
                      for r in money], chart="count")
    open_where, open_params = where_clause(Query(filters=dict(query.filters)), reader)
    open_rows = db.query("SELECT count(*) AS n, sum(CASE WHEN c.next_deadline < ? THEN 1 "
                         "ELSE 0 END) AS late FROM cases c LEFT JOIN complaints k ON "
                         "k.complaint_id = c.case_id" + open_where, [now_iso, *open_params])
    headline = {"open": open_rows[0]["n"] or 0, "overdue": open_rows[0]["late"] or 0}
    return {"headline": headline, "figures": [cases, returns, complaints, refunds]}


def waiting_approvals(db: ReadDatabase) -> list[dict[str, Any]]:
    """Refunds awaiting a supervisor's approval, oldest first, with their approval decision's
    threshold."""
    rows = db.query("SELECT r.refund_id, r.order_id, r.source, r.amount, r.currency, "
                    "r.requested_by, r.requested_at, c.next_deadline, c.customer_id "
                    "FROM refunds r LEFT JOIN cases c ON c.case_id = r.refund_id "
                    "WHERE r.status = 'awaiting_approval' "
                    "ORDER BY r.requested_at, r.refund_id")
    if not rows:
        return []
    ids = [r["refund_id"] for r in rows]
    marks = ", ".join("?" for _ in ids)
    found: dict[str, dict[str, Any]] = {}
    for d in db.query(f"SELECT case_id, details FROM decisions WHERE policy_id = "
                      f"'refund.approval' AND case_id IN ({marks}) ORDER BY position", ids):
        found[d["case_id"]] = orjson.loads(d["details"]) if d["details"] else {}
    for row in rows:
        row["approval"] = found.get(row["refund_id"], {})
    return rows
