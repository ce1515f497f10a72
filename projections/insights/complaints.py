"""`aftersales insights complaints`: what drives complaints and how they end, from the
`complaints` read model (with `cases` for the market and `deadlines` for breaches of
complaints still unanswered or unresolved). Late or in time is what the complaint's deadlines
said (`first_response_breached`, `resolution_breached`), as in `deadlines` and `case show`."""

from __future__ import annotations

from collections import defaultdict
from statistics import fmean
from typing import Any

from aftersales_core.domain.complaints import ESCALATION_LEVELS
from projections.db import ReadDatabase
from projections.insights.periods import hours_between, week_of
from projections.insights.stats import Rate, percentile
from projections.insights.trends import weekly
from projections.insights.view import Chart, Insight, View


def load(db: ReadDatabase, since: str | None, market: str | None) -> list[dict[str, Any]]:
    clauses, params = ["1 = 1"], []
    if since is not None:
        clauses.append("c.filed_at >= ?")
        params.append(since)
    if market is not None:
        clauses.append("k.market = ?")
        params.append(market)
    rows = db.query(
        "SELECT c.*, k.market AS market FROM complaints c LEFT JOIN cases k ON k.case_id = "
        f"c.complaint_id WHERE {' AND '.join(clauses)}", params)
    breached: dict[str, set[str]] = defaultdict(set)
    for d in db.query("SELECT case_id, name FROM deadlines WHERE case_type = 'complaint' "
                      "AND state = 'breached'"):
        breached[d["case_id"]].add(d["name"])
    for r in rows:
        late = breached.get(r["complaint_id"], set())
        r["response_late"] = bool(r["first_response_breached"]) or (
            r["first_response_at"] is None and "first_response" in late)
        r["response_judged"] = r["first_response_breached"] is not None or r["response_late"]
        resolved, due = r["resolved_at"], r["resolution_due"]
        if r["resolution_breached"] is not None:  # what its resolution deadlines said
            r["resolution_late"], r["resolution_judged"] = bool(r["resolution_breached"]), True
        else:  # no deadline ended yet (or none kept): the triage's due time
            r["resolution_late"] = (resolved is not None and due is not None
                                    and resolved > due) \
                or (resolved is None and "resolution" in late)
            r["resolution_judged"] = (resolved is not None and due is not None) \
                or r["resolution_late"]
        r["resolution_hours"] = hours_between(r["filed_at"], resolved)
        r["path"] = path(r)
    return rows


def path(row: dict[str, Any]) -> str:
    """How a complaint ended: the accepted proposal, an escalation, or resolved directly."""
    if row["accepted_resolution"]:
        return f"accepted {row['accepted_resolution']}"
    if row["escalated_to"]:
        return f"escalated to {row['escalated_to']}"
    if row["resolved_at"] or row["closed_at"]:
        return "resolved without a proposal"
    return "open"


def path_order(name: str) -> tuple[str, int]:
    """Where a resolution path sorts among paths as frequent: by name, but escalations by
    the ladder's order (supervisor, platform arbitration, regulator)."""
    level = name.removeprefix("escalated to ")
    if level == name:
        return name, 0
    rank = ESCALATION_LEVELS.index(level) if level in ESCALATION_LEVELS else len(
        ESCALATION_LEVELS)
    return "escalated to ", rank


def drivers(rows: list[dict[str, Any]]) -> View:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[(r["category"], r["channel"])].append(r)
    out = []
    for (category, channel), items in sorted(groups.items(), key=lambda g: (-len(g[1]), g[0])):
        answered = [r["first_response_hours"] for r in items
                    if r["first_response_hours"] is not None]
        resolved = [r["resolution_hours"] for r in items if r["resolution_hours"] is not None]
        judged = [r for r in items if r["response_judged"]]
        ever_resolved = [r for r in items if r["resolved_at"] or r["reopened"]]
        scores = [r["satisfaction"] for r in items if r["satisfaction"] is not None]
        out.append({
            "category": category, "channel": channel,
            "share_of_complaints": Rate(len(items), len(rows)),
            "complaints": len(items), "proactive": sum(r["proactive"] for r in items),
            "first_response_h_p50": percentile(answered, 0.5),
            "first_response_h_p90": percentile(answered, 0.9),
            "first_response_late": Rate(sum(r["response_late"] for r in judged), len(judged)),
            "resolution_h_p50": percentile(resolved, 0.5),
            "resolution_h_p90": percentile(resolved, 0.9),
            "reopened": Rate(sum(1 for r in ever_resolved if r["reopened"]),
                             len(ever_resolved)),
            "satisfaction_mean": None if not scores else fmean(scores),
            "rated": len(scores)})
    return View("drivers", "Complaint drivers (category x channel)", out,
                columns=["category", "channel", "share_of_complaints", "complaints",
                         "proactive", "first_response_h_p50", "first_response_h_p90",
                         "first_response_late", "resolution_h_p50", "resolution_h_p90",
                         "reopened", "satisfaction_mean", "rated"],
                rates=("share_of_complaints", "first_response_late", "reopened"),
                chart=Chart("bar", "category", "complaints", label=("channel",)),
                note="times in hours from filing (p50/p90, nearest rank); reopened: of the "
                     "complaints resolved at least once")


def paths(rows: list[dict[str, Any]]) -> View:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[r["path"]].append(r)
    out = []
    for name, items in sorted(groups.items(), key=lambda g: (-len(g[1]), *path_order(g[0]))):
        scores = [r["satisfaction"] for r in items if r["satisfaction"] is not None]
        ever_resolved = [r for r in items if r["resolved_at"] or r["reopened"]]
        out.append({"resolution_path": name, "complaints": len(items), "rated": len(scores),
                    "satisfaction_mean": None if not scores else fmean(scores),
                    "satisfied_4_or_5": Rate(sum(1 for s in scores if s >= 4), len(scores)),
                    "reopened": Rate(sum(1 for r in ever_resolved if r["reopened"]),
                                     len(ever_resolved))})
    return View("paths", "Satisfaction by resolution path", out,
                columns=["resolution_path", "complaints", "rated", "satisfaction_mean",
                         "satisfied_4_or_5", "reopened"], rates=("satisfied_4_or_5", "reopened"),
                chart=Chart("bar", "resolution_path", "satisfied_4_or_5"))


def breaches(rows: list[dict[str, Any]]) -> View:
    response: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    resolution: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        week = week_of(r["filed_at"])
        if r["response_judged"]:
            response[week][0] += r["response_late"]
            response[week][1] += 1
        if r["resolution_judged"]:
            resolution[week][0] += r["resolution_late"]
            resolution[week][1] += 1
    late_response = {p["week"]: p for p in weekly([(w, k, n)
                                                   for w, (k, n) in response.items()])}
    late_resolution = {p["week"]: p for p in weekly([(w, k, n)
                                                     for w, (k, n) in resolution.items()])}
    out = []
    # every week with either judged: a week whose complaints had only a resolution judged
    # (none answered or breached its first response yet) keeps its resolution breaches
    for week in sorted(late_response.keys() | late_resolution.keys()):
        first, other = late_response.get(week), late_resolution.get(week)
        out.append({"week": week,
                    "first_response_late": None if first is None else first["rate"],
                    "normal_low": None if first is None else first["normal_low"],
                    "normal_high": None if first is None else first["normal_high"],
                    "flag": None if first is None else first["flag"],
                    "resolution_late": None if other is None else other["rate"],
                    "resolution_flag": None if other is None else other["flag"]})
    return View("weekly", "SLA breaches by week of filing", out,
                columns=["week", "first_response_late", "normal_low", "normal_high", "flag",
                         "resolution_late", "resolution_flag"],
                rates=("first_response_late", "resolution_late"),
                chart=Chart("line", "week", "first_response_late", also="resolution_late",
                            band=("normal_low", "normal_high")),
                note="first response after its deadline (or never, past it); resolution after "
                     "its deadline; flag as in the other weekly views")


def complaints(db: ReadDatabase, since: str | None = None, market: str | None = None) -> Insight:
    rows = load(db, since, market)
    insight = Insight("complaints", filters={"since": since, "market": market})
    insight.views += [drivers(rows), paths(rows), breaches(rows)]
    return insight
