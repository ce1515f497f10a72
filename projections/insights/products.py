"""`aftersales insights products`: product-information alerts, SKU and category rates, return
rates by market and their weekly trend, from the `product_*` read models."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import orjson

from projections.db import ReadDatabase
from projections.insights.signals import FDR, SIGNALS, Assessment, assess
from projections.insights.stats import Rate
from projections.insights.trends import maturing_from, weekly
from projections.insights.view import Chart, Insight, View
from projections.product_counts import as_json, latest

MATURITY_DAYS = 30  # returns keep arriving for about this long after delivery
ALERT_COLUMNS = ["level", "signal", "merchant", "category", "sku", "rate", "baseline",
                 "baseline_scope", "lift", "p_value", "q_value", "tested", "reasons", "examples"]
MARKET_COLUMNS = ["market", "currency", "delivered_orders", "return_rate", "page_rate",
                  "units_returned_%", "value_sold", "value_returned", "value_returned_%"]
WEEK_COLUMNS = ["merchant", "week", "return_rate", "normal_low_%", "normal_high_%",
                "return_flag", "page_rate", "page_flag"]
TOTAL_FIELDS = ("merchant", "category", "sku", "orders", "returned", "flagged", "units_sold",
                "units_returned", "reasons", "return_examples", "page_examples")


def _where(since: str | None, market: str | None, prefix: str = "") -> tuple[str, list[Any]]:
    clauses, params = [f"{prefix}delivered = 1"], []
    if since is not None:
        clauses.append("o.delivered_at >= ?")
        params.append(since)
    if market is not None:
        clauses.append(f"{prefix}market = ?")
        params.append(market)
    return " AND ".join(clauses), params


def totals(db: ReadDatabase, since: str | None = None, market: str | None = None
           ) -> list[dict[str, Any]]:
    """Per (merchant, category, sku): the all-time totals the runner keeps, or the same sums
    over the order x SKU rows delivered since a time and/or in a market."""
    if since is None and market is None:
        return db.query(f"SELECT {', '.join(TOTAL_FIELDS)} FROM product_totals "
                        "WHERE orders > 0")
    where, params = _where(since, market, "l.")
    join = "FROM product_lines l JOIN product_orders o ON o.order_aggregate_id = " \
           "l.order_aggregate_id"
    sums = db.query(
        f"SELECT l.merchant AS merchant, l.category AS category, l.sku AS sku, "
        f"count(*) AS orders, sum(l.returned) AS returned, sum(l.flagged) AS flagged, "
        f"sum(l.units_sold) AS units_sold, sum(l.units_returned) AS units_returned "
        f"{join} WHERE {where} GROUP BY l.merchant, l.category, l.sku", params)
    evidence = db.query(
        f"SELECT l.merchant AS merchant, l.category AS category, l.sku AS sku, "
        f"l.counted_reasons AS reasons, l.examples AS examples, "
        f"l.page_examples AS page_examples, o.page_complaints AS page_complaints, "
        f"o.complaint_examples AS complaint_examples {join} "
        f"WHERE {where} AND (l.returns > 0 OR o.page_complaints > 0)", params)
    found: dict[tuple[str, str, str], dict[str, Any]] = defaultdict(
        lambda: {"reasons": defaultdict(int), "returns": [], "page": []})
    for row in evidence:
        entry = found[(row["merchant"], row["category"], row["sku"])]
        for reason, count in orjson.loads(row["reasons"]).items():
            entry["reasons"][reason] += count
        entry["returns"] = latest([*entry["returns"], *orjson.loads(row["examples"])])
        page = orjson.loads(row["page_examples"])
        if row["page_complaints"]:
            page += orjson.loads(row["complaint_examples"])
        entry["page"] = latest([*entry["page"], *page])
    empty: dict[str, Any] = {"reasons": {}, "returns": [], "page": []}
    for row in sums:
        seen = found.get((row["merchant"], row["category"], row["sku"]), empty)
        row["reasons"] = as_json(dict(seen["reasons"]))
        row["return_examples"] = as_json(seen["returns"])
        row["page_examples"] = as_json(seen["page"])
    return sums


def assessment_columns(level: str) -> tuple[list[str], tuple[str, ...]]:
    """The columns (and among them the rates) of the tested SKUs or categories."""
    signals = [f"{signal}_{part}" for signal in SIGNALS
               for part in ("rate", "baseline", "q", "alert")]
    columns = ["merchant", "category", *(["sku"] if level == "sku" else []), "orders",
               "units_returned_%", "peers", *signals, "reasons"]
    return columns, tuple(c for c in signals if c.endswith(("_rate", "_baseline")))


def _assessment_rows(items: list[Assessment], level: str) -> list[dict[str, Any]]:
    """One row per SKU (or category) with both signals side by side."""
    by_key: dict[tuple[str, str, str], dict[str, Any]] = {}
    for a in items:
        if a.level != level:
            continue
        row = by_key.setdefault((a.merchant, a.category, a.sku), {
            "merchant": a.merchant, "category": a.category,
            **({"sku": a.sku} if level == "sku" else {}),
            "orders": a.observed.n, "units_returned_%": _share(a.units),
            "peers": a.baseline_scope})
        row[f"{a.signal}_rate"] = a.observed
        row[f"{a.signal}_baseline"] = a.baseline
        row[f"{a.signal}_q"] = a.q_value
        row[f"{a.signal}_alert"] = a.alert
        row["reasons"] = a.reasons
    rows = list(by_key.values())
    rows.sort(key=lambda r: (min(_rank(r.get("page_q")), _rank(r.get("return_q"))),
                             -r["orders"], r["merchant"], r["category"], r.get("sku", "")))
    return rows


def _rank(q: float | None) -> float:
    """The smallest q first; the untested (no peers, q None) after every tested one."""
    return 2.0 if q is None else q


def _share(rate: Rate) -> float | None:
    return None if not rate.n else 100.0 * rate.k / rate.n


def alert_view(items: list[Assessment], stored: list[dict[str, Any]] | None = None) -> View:
    """The alerts among the assessments, or as the `product_alerts` read model holds them."""
    if stored is None:
        rows = [{"level": a.level, "signal": a.signal, "merchant": a.merchant,
                 "category": a.category, "sku": a.sku, "rate": a.observed,
                 "baseline": a.baseline, "baseline_scope": a.baseline_scope, "lift": a.lift,
                 "p_value": a.p_value, "q_value": a.q_value, "tested": a.tested,
                 "reasons": a.reasons, "examples": a.examples} for a in items if a.alert]
    else:
        rows = [{"level": r["level"], "signal": r["signal"], "merchant": r["merchant"],
                 "category": r["category"], "sku": r["sku"],
                 "rate": Rate(r["cases"], r["orders"]),
                 "baseline": Rate(r["baseline_cases"], r["baseline_orders"]),
                 "baseline_scope": r["baseline_scope"], "lift": r["lift"],
                 "p_value": r["p_value"], "q_value": r["q_value"], "tested": r["tested"],
                 "reasons": orjson.loads(r["reasons"]), "examples": orjson.loads(r["examples"])}
                for r in stored]
    rows.sort(key=lambda r: (r["q_value"], r["level"], r["merchant"], r["category"], r["sku"]))
    return View("alerts", "Product-information alerts", rows, columns=ALERT_COLUMNS,
                rates=("rate", "baseline"),
                brief=["level", "signal", "merchant", "category", "sku", "rate", "baseline",
                       "lift", "q_value", "reasons"],
                note=f"signal page: return reasons or complaint categories that point at the "
                     f"product page; signal return: any return. Exact binomial test against "
                     f"the peers, Benjamini-Hochberg q ≤ {FDR} across everything tested.")


def markets(db: ReadDatabase, since: str | None, market: str | None) -> View:
    where, params = _where(since, market)
    rows = db.query("SELECT market, currency, returned_skus, flagged_skus, units_sold, "
                    "units_returned, value_sold, value_returned FROM product_orders o "
                    f"WHERE {where}", params)
    sums: dict[tuple[str, str], list[Any]] = {}
    for r in rows:
        s = sums.setdefault((r["market"], r["currency"]), [0, 0, 0, 0, 0, Decimal(0),
                                                             Decimal(0)])
        s[0] += 1
        s[1] += r["returned_skus"] > 0
        s[2] += r["flagged_skus"] > 0
        s[3] += r["units_sold"]
        s[4] += r["units_returned"]
        s[5] += Decimal(r["value_sold"])
        s[6] += Decimal(r["value_returned"])
    out = []
    for (mkt, currency), (n, returned, flagged, units, units_back, value, value_back) in \
            sorted(sums.items(), key=lambda item: (-item[1][0], item[0][0] or "")):
        out.append({"market": mkt, "currency": currency, "delivered_orders": n,
                    "return_rate": Rate(returned, n), "page_rate": Rate(flagged, n),
                    "units_returned_%": _share(Rate(units_back, units)),
                    "value_sold": str(value), "value_returned": str(value_back),
                    "value_returned_%": None if not value else
                    float(100 * value_back / value)})
    return View("markets", "Return rate by market (share of delivered orders with a return)",
                out, columns=MARKET_COLUMNS, rates=("return_rate", "page_rate"),
                chart=Chart("bar", "market", "return_rate", label=("currency",)),
                note="orders delivered in the period (by delivery date); units and value "
                     "returned are capped at those sold, so no rate exceeds 100 %")


def weeks(db: ReadDatabase, since: str | None, market: str | None) -> View:
    """One weekly series per merchant (their return processes are not comparable)."""
    where, params = _where(since, market)
    rows = db.query(
        "SELECT merchant, week, count(*) AS orders, "
        "sum(CASE WHEN returned_skus > 0 THEN 1 ELSE 0 END) AS returned, "
        "sum(CASE WHEN flagged_skus > 0 THEN 1 ELSE 0 END) AS flagged, "
        f"max(delivered_at) AS latest FROM product_orders o WHERE {where} "
        "GROUP BY merchant, week", params)
    by_merchant: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_merchant[r["merchant"] or ""].append(r)
    out = []
    for merchant, series in sorted(by_merchant.items()):
        start = maturing_from(max(r["latest"] for r in series), MATURITY_DAYS)
        returns = weekly([(r["week"], int(r["returned"]), int(r["orders"])) for r in series],
                         maturing_from=start)
        page = {p["week"]: p for p in weekly(
            [(r["week"], int(r["flagged"]), int(r["orders"])) for r in series],
            maturing_from=start)}
        out += [{"merchant": merchant, "week": r["week"], "return_rate": r["rate"],
                 "normal_low_%": r["normal_low"], "normal_high_%": r["normal_high"],
                 "return_flag": r["flag"], "page_rate": page[r["week"]]["rate"],
                 "page_flag": page[r["week"]]["flag"]} for r in returns]
    return View("weekly", "Weekly return rate by merchant (orders by week of delivery)", out,
                columns=WEEK_COLUMNS, rates=("return_rate", "page_rate"),
                chart=Chart("line", "week", "return_rate", series="merchant", also="page_rate",
                            band=("normal_low_%", "normal_high_%")),
                note="flag: above/below the normal range from the 8 weeks before (exact "
                     "binomial 3-sigma limits); the last weeks are 'maturing' (returns still "
                     f"arriving, {MATURITY_DAYS} days)")


def products(db: ReadDatabase, since: str | None = None, market: str | None = None) -> Insight:
    """Alerts (the `product_alerts` read model when unfiltered), tested SKUs and categories,
    market rates and the weekly trend."""
    items = assess(totals(db, since, market))
    insight = Insight("products", filters={"since": since, "market": market})
    unfiltered = since is None and market is None
    insight.views.append(alert_view(items, db.query("SELECT * FROM product_alerts")
                                    if unfiltered else None))
    sku_columns, sku_rates = assessment_columns("sku")
    category_columns, category_rates = assessment_columns("category")
    insight.views += [
        View("skus", "SKUs tested (at least 20 delivered orders)",
             _assessment_rows(items, "sku"), columns=sku_columns, rates=sku_rates,
             brief=["merchant", "category", "sku", "orders", "return_rate", "return_q",
                    "page_rate", "page_q", "peers", "reasons"]),
        View("categories", "Categories tested", _assessment_rows(items, "category"),
             columns=category_columns, rates=category_rates),
        markets(db, since, market),
        weeks(db, since, market),
    ]
    return insight
