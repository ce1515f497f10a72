"""`aftersales insights carriers`: scorecards by carrier x market x month, routes, and the
weekly on-time trend, from the `shipments` read model (and `cases` for buyer-reported damage)."""

from __future__ import annotations

from collections import defaultdict
from statistics import median
from typing import Any

from projections.db import ReadDatabase
from projections.insights.periods import week_of
from projections.insights.signals import MIN_SUPPORT
from projections.insights.stats import Rate
from projections.insights.trends import weekly
from projections.insights.view import Chart, Insight, View

TREND_CARRIERS = 5  # weekly trend for the carriers with the most parcels
SCORE_COLUMNS = ["parcels", "delivered", "on_time", "transit_days_p50", "lost", "damaged",
                 "failed_delivery", "customs_held", "customs_hold_hours_p50", "return_parcels",
                 "return_leg_days_p50"]
SCORE_RATES = ("on_time", "lost", "damaged", "failed_delivery")
ROUTE_COLUMNS = ["carrier", "route", "parcels", "on_time", "late", "transit_days_p50"]
TREND_COLUMNS = ["carrier", "week", "on_time", "normal_low", "normal_high", "flag"]


def _median(values: list[float], scale: float = 1.0) -> float | None:
    return None if not values else float(median(values) / scale)


def parcels(db: ReadDatabase, since: str | None, market: str | None) -> list[dict[str, Any]]:
    clauses, params = ["1 = 1"], []
    if since is not None:
        clauses.append("first_scan_at >= ?")
        params.append(since)
    if market is not None:
        clauses.append("market = ?")
        params.append(market)
    return db.query(f"SELECT * FROM shipments WHERE {' AND '.join(clauses)}", params)


def damaged_orders(db: ReadDatabase) -> set[str]:
    """Orders whose buyer reported damage: a return or complaint with reason `damaged`."""
    return {r["order_id"] for r in db.query(
        "SELECT DISTINCT order_id FROM cases WHERE reason = 'damaged' AND order_id IS NOT NULL "
        "AND case_type IN ('return', 'complaint')")}


def scorecards(rows: list[dict[str, Any]], damaged: set[str], by_month: bool = True) -> View:
    groups: dict[tuple[str, ...], dict[str, Any]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        key: tuple[str, ...] = (r["carrier"], r["market"] or "", r["month"])
        g = groups[key if by_month else key[:2]]
        if r["direction"] == "return":
            g["returns"].append(r)
        else:
            g["outbound"].append(r)
    out: list[dict[str, Any]] = []
    for key, g in sorted(groups.items()):
        sent: list[dict[str, Any]] = g["outbound"]
        back: list[dict[str, Any]] = g["returns"]
        promised = [r for r in sent if r["on_time"] is not None]
        n = len(sent)
        out.append({
            "carrier": key[0], "market": key[1], **({"month": key[2]} if by_month else {}),
            "parcels": n,
            "delivered": sum(1 for r in sent if r["delivered_at"]),
            "on_time": Rate(sum(r["on_time"] for r in promised), len(promised)),
            "transit_days_p50": _median([r["transit_hours"] for r in sent
                                         if r["transit_hours"] is not None], 24),
            "lost": Rate(sum(1 for r in sent if r["lost_at"]), n, 1000),
            "damaged": Rate(sum(1 for r in sent if r["damaged_at"]
                                or r["order_id"] in damaged), n, 1000),
            "failed_delivery": Rate(sum(1 for r in sent if r["failed_deliveries"]), n, 1000),
            "customs_held": sum(1 for r in sent if r["customs_held_at"]),
            "customs_hold_hours_p50": _median([r["customs_hold_hours"] for r in sent
                                               if r["customs_hold_hours"] is not None]),
            "return_parcels": len(back),
            "return_leg_days_p50": _median([r["transit_hours"] for r in back
                                            if r["transit_hours"] is not None], 24)})
    note = ("on_time: delivered by the promised date, of delivered parcels with a promise; "
            "lost, damaged (scan or buyer-reported) and failed delivery per 1,000 parcels; "
            "return leg: return parcels' dispatch to arrival")
    if not by_month:
        out.sort(key=lambda r: (-r["parcels"], r["carrier"], r["market"]))
        return View("carriers", "Carriers (carrier x market, every month)", out, note=note,
                    columns=["carrier", "market", *SCORE_COLUMNS], rates=SCORE_RATES,
                    chart=Chart("bar", "carrier", "on_time", label=("market",)))
    return View("scorecards", "Carrier scorecards (carrier x market x month of dispatch)", out,
                note=note, columns=["carrier", "market", "month", *SCORE_COLUMNS],
                rates=SCORE_RATES)


def routes(rows: list[dict[str, Any]]) -> View:
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if r["direction"] == "outbound" and r["origin"] and r["destination"]:
            groups[(r["carrier"], r["origin"], r["destination"])].append(r)
    out: list[dict[str, Any]] = []
    for (carrier, origin, destination), sent in groups.items():
        promised = [r for r in sent if r["on_time"] is not None]
        on_time = Rate(sum(r["on_time"] for r in promised), len(promised))
        out.append({"carrier": carrier, "route": f"{origin} → {destination}",
                    "parcels": len(sent), "on_time": on_time,
                    "late": Rate(on_time.n - on_time.k, on_time.n),
                    "transit_days_p50": _median([r["transit_hours"] for r in sent
                                                 if r["transit_hours"] is not None], 24)})
    out.sort(key=lambda r: (r["late"].n < MIN_SUPPORT, -r["late"].interval[0], -r["parcels"],
                            r["carrier"], r["route"]))
    return View("routes", "Routes (origin → destination), the surely latest first", out,
                columns=ROUTE_COLUMNS, rates=("on_time", "late"),
                note=f"routes with at least {MIN_SUPPORT} delivered parcels with a promise "
                     "first, sorted by the lower bound of the late share's 95 % interval (a "
                     "route tops the list only when it is late on enough parcels to be sure); "
                     "then the others")


def trend(rows: list[dict[str, Any]]) -> View:
    volume: dict[str, int] = defaultdict(int)
    for r in rows:
        if r["direction"] == "outbound":
            volume[r["carrier"]] += 1
    top = sorted(volume, key=lambda c: (-volume[c], c))[:TREND_CARRIERS]
    out = []
    for carrier in top:
        points: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for r in rows:
            if r["carrier"] == carrier and r["on_time"] is not None:
                point = points[week_of(r["promised_at"])]
                point[0] += r["on_time"]
                point[1] += 1
        for row in weekly([(w, k, n) for w, (k, n) in points.items()]):
            out.append({"carrier": carrier, **row, "on_time": row.pop("rate")})
    return View("weekly", "Weekly on-time rate (parcels by the week they were promised for)",
                [{k: r[k] for k in TREND_COLUMNS} for r in out],
                columns=TREND_COLUMNS, rates=("on_time",),
                chart=Chart("line", "week", "on_time", series="carrier",
                            band=("normal_low", "normal_high")),
                note="flag: above/below the normal range from the 8 weeks before (exact "
                     "binomial 3-sigma limits)")


def carriers(db: ReadDatabase, since: str | None = None, market: str | None = None) -> Insight:
    rows = parcels(db, since, market)
    insight = Insight("carriers", filters={"since": since, "market": market})
    damaged = damaged_orders(db)
    insight.views += [scorecards(rows, damaged), scorecards(rows, damaged, by_month=False),
                      routes(rows), trend(rows)]
    return insight
