"""The agents' queue: cases from the ``cases`` read model (with the complaint's channel and
escalations, and escalating deadline breaches), ordered by next deadline, filtered, counted
per view, with the desk's assignments. SQL with parameters only; filter values are checked
before they reach it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, get_args

from aftersales_core.money import MINOR_UNITS
from aftersales_core.personal import ERASED
from aftersales_core.text import is_digits
from desk.assignments import Assignments
from desk.i18n import Reader
from projections.db import ReadDatabase
from schemas.commands import Channel

DONE = ("closed", "rejected", "cancelled", "expired", "settled")
TYPES = ("return", "refund", "complaint")
VIEWS = ("all", "overdue", "escalated", "mine", "unassigned", "approval")
CHECKS = {
    "case_type": re.compile(r"^(return|refund|complaint)$"),
    "status": re.compile(r"^[a-z_]{1,40}$"),
    "market": re.compile(r"^[A-Z]{2}$"),
    "currency": re.compile(r"^[A-Z]{3}$"),  # and a known ISO 4217 code (Query.parse)
    "priority": re.compile(r"^[A-Za-z0-9_]{1,10}$"),
    "channel": re.compile("^(" + "|".join(get_args(Channel)) + ")$"),
    "escalated": re.compile(r"^(yes|no)$"),
    "assignee": re.compile(r"^[^\x00-\x1f\x7f]{1,64}$"),
    "reason": re.compile(r"^[^\x00-\x1f\x7f]{1,100}$"),
    "scope": re.compile(r"^(open|all)$"),
    "view": re.compile("^(" + "|".join(VIEWS) + ")$"),
    "from": re.compile(r"^\d{4}-\d\d-\d\d$"),
    "to": re.compile(r"^\d{4}-\d\d-\d\d$"),
}
FILTERS = ("case_type", "status", "market", "priority", "channel", "escalated", "assignee",
           "currency")
PAGE = 50
ESCALATED = ("(c.status = 'escalated' OR COALESCE(k.escalations, 0) > 0 OR EXISTS (SELECT 1 "
             "FROM deadlines d WHERE d.case_id = c.case_id AND d.state = 'breached' AND "
             "d.action = 'escalate'))")
BASE = ("SELECT c.case_id, c.next_deadline, c.status, {escalated} AS escalated "
        "FROM cases c LEFT JOIN complaints k ON k.complaint_id = c.case_id")
ROWS = ("SELECT c.case_id, c.case_type, c.status, c.order_id, c.customer_id, c.market, "
        "c.currency, c.amount, c.reason, c.priority, c.opened_at, c.next_deadline, "
        "k.channel AS channel, {escalated} AS escalated FROM cases c LEFT JOIN complaints k "
        "ON k.complaint_id = c.case_id")


@dataclass
class Query:
    """What the viewer asked for: filters, a view (tab), the scope and how many rows."""

    filters: dict[str, str] = field(default_factory=dict)
    view: str = "all"
    scope: str = "open"
    shown: int = PAGE
    errors: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, params: dict[str, str]) -> Query:
        query = cls()
        for name, value in params.items():
            value = _typed(name, value.strip())
            if name not in CHECKS or value == "":
                continue
            if not CHECKS[name].match(value) or (name == "currency"
                                                 and value not in MINOR_UNITS):
                query.errors.append(name)
            elif name == "view":
                query.view = value
            elif name == "scope":
                query.scope = value
            else:
                query.filters[name] = value
        shown = params.get("shown", "")
        if is_digits(shown) and 0 < int(shown) <= 2000:
            query.shown = int(shown)
        return query

    def params(self, **changes: Any) -> dict[str, str]:
        """This query's parameters, with some changed (None: left out), for links."""
        found = {**self.filters, "view": self.view, "scope": self.scope}
        found.update({k: v for k, v in changes.items() if v is not None})
        for k, v in changes.items():
            if v is None:
                found.pop(k, None)
        return {k: str(v) for k, v in found.items() if v not in ("", None)}


def _typed(name: str, value: str) -> str:
    """A filter as people type it, in the form the read model holds: a market or currency in
    capitals ("de", "gbp"), a status as its words ("Pending review")."""
    if not value.isascii():
        return value
    if name in ("market", "currency"):
        return value.upper()
    if name == "status":
        return "_".join(value.lower().split())
    return value


@dataclass
class QueuePage:
    rows: list[dict[str, Any]]
    total: int
    counts: dict[str, int]


def _bounds(query: Query, reader: Reader) -> tuple[str | None, str | None]:
    def start(text: str | None, days: int) -> str | None:
        if text is None:
            return None
        try:
            day = date.fromisoformat(text) + timedelta(days=days)
        except ValueError:
            return None
        return datetime.combine(day, time(), reader.zone).astimezone(UTC).isoformat()

    return start(query.filters.get("from"), 0), start(query.filters.get("to"), 1)


def where_clause(query: Query, reader: Reader) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if query.scope == "open":
        clauses.append(f"c.status NOT IN ({', '.join('?' for _ in DONE)})")
        params += DONE
    for name in ("case_type", "status", "market", "currency", "priority", "reason"):
        if name in query.filters:
            clauses.append(f"c.{name} = ?")
            params.append(query.filters[name])
    if "channel" in query.filters:
        clauses.append("k.channel = ?")
        params.append(query.filters["channel"])
    if "escalated" in query.filters:
        clauses.append(ESCALATED if query.filters["escalated"] == "yes" else f"NOT {ESCALATED}")
    start, end = _bounds(query, reader)
    if start is not None:
        clauses.append("c.opened_at >= ?")
        params.append(start)
    if end is not None:
        clauses.append("c.opened_at < ?")
        params.append(end)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def queue(db: ReadDatabase, assignments: Assignments, query: Query, me: str,
          reader: Reader, now: datetime, customer_id: str | None = None) -> QueuePage:
    """One page of the queue, ordered by next deadline (cases without one last), with the
    number of cases in each view under the same filters."""
    where, params = where_clause(query, reader)
    if customer_id is not None:
        # never the rows purged of an erased customer, whatever id a principal was bound to
        where += (" AND " if where else " WHERE ") + "c.customer_id = ? AND c.customer_id <> ?"
        params += [customer_id, ERASED]
    order = " ORDER BY (c.next_deadline IS NULL), c.next_deadline, c.opened_at, c.case_id"
    light = db.query(BASE.format(escalated=ESCALATED) + where + order, params)
    ids = [r["case_id"] for r in light]
    current = assignments.current(ids)
    wanted = query.filters.get("assignee")
    if wanted == "nobody":
        light = [r for r in light if r["case_id"] not in current]
    elif wanted is not None:
        name = me if wanted == "me" else wanted
        light = [r for r in light
                 if r["case_id"] in current and current[r["case_id"]].assignee == name]
    moment = now.astimezone(UTC).isoformat()
    in_view = {
        "all": lambda r: True,
        "overdue": lambda r: r["next_deadline"] is not None and r["next_deadline"] < moment,
        "escalated": lambda r: bool(r["escalated"]),
        "mine": lambda r: r["case_id"] in current and current[r["case_id"]].assignee == me,
        "unassigned": lambda r: r["case_id"] not in current,
        "approval": lambda r: r["status"] == "awaiting_approval",
    }
    counts = {view: sum(1 for r in light if test(r)) for view, test in in_view.items()}
    chosen = [r["case_id"] for r in light if in_view[query.view](r)]
    page_ids = chosen[:query.shown]
    rows = _rows(db, page_ids)
    for row in rows:
        found = current.get(row["case_id"])
        row["assignee"] = found.assignee if found else None
        row["overdue"] = row["next_deadline"] is not None and row["next_deadline"] < moment
    return QueuePage(rows, len(chosen), counts)


def _rows(db: ReadDatabase, ids: list[str]) -> list[dict[str, Any]]:
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    found = {r["case_id"]: r for r in db.query(
        ROWS.format(escalated=ESCALATED) + f" WHERE c.case_id IN ({marks})", ids)}
    return [found[i] for i in ids if i in found]
