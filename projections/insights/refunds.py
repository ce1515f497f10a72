"""`aftersales insights refunds`: refund economics from the `refunds`, `orders` and `cases`
read models. Money is summed exactly (Decimal) and never across currencies."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from aftersales_core.policies.vocabulary import (
    COMPLAINT_CATEGORIES,
    LOGISTICS_EVENT_TYPES,
    RETURN_REASONS,
)
from projections.db import ReadDatabase
from projections.insights.periods import hours_between
from projections.insights.stats import percentile
from projections.insights.view import Chart, Insight, View
from projections.refunds import COMPONENTS

DEDUCTIONS = ("restocking_fee", "return_shipping")  # kept back from the buyer
PARCEL = "parcel "  # a logistics refund's reason: "parcel Lost" (application/logistics.py)


def reason_of(refund: dict[str, Any]) -> str:
    """A bounded reason, the code of the refund's source: its return's reason, its complaint's
    category, the parcel exception, else the source itself. Never the refund request's own
    reason: free text an agent writes ("Call with Mrs Jane Doe +49 …"), personal data that
    must not reach every report; only codes of the closed vocabularies are shown."""
    source = str(refund["source"])
    code, kind = refund.get("source_reason"), refund.get("source_type")
    if source == "return" and kind == "return" and code in RETURN_REASONS:
        return f"return: {code}"
    if source == "complaint" and kind == "complaint" and code in COMPLAINT_CATEGORIES:
        return f"complaint: {code}"
    if source == "logistics_exception":  # the runner writes "parcel <exception>"
        scan = (refund["reason"] or "").removeprefix(PARCEL)
        if scan in LOGISTICS_EVENT_TYPES:
            return f"{source}: {scan}"
    return source


def _share(part: Decimal, whole: Decimal) -> float | None:
    return None if not whole else float(100 * part / whole)


def load(db: ReadDatabase, since: str | None, market: str | None
         ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(orders placed in the period with what was paid, their settled refunds)."""
    clauses, params = ["o.placed_at IS NOT NULL"], []
    if since is not None:
        clauses.append("o.placed_at >= ?")
        params.append(since)
    if market is not None:
        clauses.append("o.market = ?")
        params.append(market)
    where = " AND ".join(clauses)
    orders = db.query(f"SELECT o.order_id, o.market, o.currency, o.paid, o.cancelled_at "
                      f"FROM orders o WHERE {where}", params)
    refunds = db.query(
        "SELECT r.*, o.market AS market, o.cancelled_at AS order_cancelled_at, "
        "k.opened_at AS source_opened_at, k.returnless AS returnless, "
        "k.case_type AS source_type, k.reason AS source_reason FROM refunds r "
        "JOIN orders o ON o.order_id = r.order_id LEFT JOIN cases k ON k.case_id = "
        f"r.source_case_id WHERE r.status = 'settled' AND {where}", params)
    return orders, refunds


def shares(orders: list[dict[str, Any]], refunds: list[dict[str, Any]]) -> View:
    sales: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for o in orders:
        sales[(o["market"], o["currency"])] += Decimal(o["paid"])
    refunded: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for r in refunds:
        for reason in ("all reasons", reason_of(r)):
            refunded[(r["market"], r["currency"], reason)] += Decimal(r["amount"])
            counts[(r["market"], r["currency"], reason)] += 1
    for mkt, currency in sales:  # a market with sales and no refund: 0 %, not left out
        refunded.setdefault((mkt, currency, "all reasons"), Decimal(0))
    out: list[dict[str, Any]] = []
    for (mkt, currency, reason), amount in refunded.items():
        paid = sales[(mkt, currency)]
        out.append({"market": mkt, "currency": currency, "reason": reason,
                    "refunds": counts[(mkt, currency, reason)], "refunded": str(amount),
                    "sales_paid": str(paid), "refunded_%_of_sales": _share(amount, paid)})
    out.sort(key=lambda r: (r["market"], r["currency"], r["reason"] != "all reasons",
                            -Decimal(r["refunded"]), r["reason"]))
    return View("shares", "Refunded share of sales by market and reason", out,
                columns=["market", "currency", "reason", "refunds", "refunded", "sales_paid",
                         "refunded_%_of_sales"],
                chart=Chart("bar", "market", "refunded_%_of_sales",
                              label=("reason", "currency")),
                note="settled refunds of the orders placed in the period, over what was paid "
                     "for those orders (never above 100 %: refunds of an order are capped at "
                     "what was paid for it)")


def components(refunds: list[dict[str, Any]]) -> View:
    sums: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for r in refunds:
        parts = sums[(r["market"], r["currency"])]
        parts["refunds"] += 1
        parts["total"] += Decimal(r["amount"])
        for name in COMPONENTS:
            if r[name] is not None:
                parts[name] += Decimal(r[name])
    out = [{"market": m, "currency": c, "refunds": int(p.pop("refunds")),
            **{name: str(p.get(name, Decimal(0))) for name in COMPONENTS},
            "total": str(p["total"])} for (m, c), p in sorted(sums.items())]
    return View("components", "Refund components (settled refunds)", out,
                columns=["market", "currency", "refunds", *COMPONENTS, "total"],
                note=f"{' and '.join(DEDUCTIONS)} are kept back from the buyer (as the "
                     "refund.calculation policy records them)")


def returnless(refunds: list[dict[str, Any]]) -> View:
    groups: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 4)
    for r in refunds:
        if r["source"] != "return":
            continue
        g = groups[(r["market"], r["currency"])]
        g[0] += 1
        g[1] += Decimal(r["amount"])
        if r["returnless"]:
            g[2] += 1
            g[3] += Decimal(r["amount"])
    out = [{"market": m, "currency": c, "return_refunds": int(g[0]),
            "returnless_refunds": int(g[2]), "returnless_cost": str(g[3]),
            "returnless_%_of_return_refunds": _share(g[3], g[1])}
           for (m, c), g in sorted(groups.items())]
    return View("returnless", "Returnless refunds: refunded without the goods coming back", out,
                columns=["market", "currency", "return_refunds", "returnless_refunds",
                         "returnless_cost", "returnless_%_of_return_refunds"])


def time_to_money(refunds: list[dict[str, Any]]) -> View:
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in refunds:
        start = {"cancellation": r["order_cancelled_at"]}.get(
            r["source"], r["source_opened_at"]) or r["requested_at"]
        hours = hours_between(start, r["settled_at"])
        if hours is not None:
            groups[(r["market"], r["source"])].append(hours / 24)
    out = [{"market": m, "source": s, "settled": len(days),
            "days_p50": percentile(days, 0.5), "days_p90": percentile(days, 0.9),
            "days_max": max(days)} for (m, s), days in sorted(groups.items())]
    return View("time_to_money", "Days until the buyer has the money back", out,
                columns=["market", "source", "settled", "days_p50", "days_p90", "days_max"],
                chart=Chart("bar", "source", "days_p50", label=("market",)),
                note="from the buyer's request (the return or complaint that led to it, the "
                     "order's cancellation; else the refund request) to settlement")


def refunds(db: ReadDatabase, since: str | None = None, market: str | None = None) -> Insight:
    orders, settled = load(db, since, market)
    insight = Insight("refunds", filters={"since": since, "market": market})
    insight.views += [shares(orders, settled), components(settled), returnless(settled),
                      time_to_money(settled)]
    return insight
