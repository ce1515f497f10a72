"""`cases`: one row per case (return, refund, complaint) with its current status.

Status, escalation and version have one source: every event of a case is folded into its row
with the case's own lifecycle (aftersales_core/domain/lifecycle.py), the table its aggregate
folds with, so a row says what `aftersales case show` says. The facts around them (order,
customer, market, amount, priority, the next deadline) come from the events that carry them.
Most events fold in one UPDATE, without reading the row: a move to a fixed status or none
(``lifecycle.Blind``), an escalation, the facts (``COALESCE`` where the first one counts). A
move that depends on the standing before (a complaint's answers) or a deadline reads the row
first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from aftersales_core.domain.complaints import ComplaintCase
from aftersales_core.domain.lifecycle import Blind, Lifecycle, Standing
from aftersales_core.domain.refunds import RefundCase
from aftersales_core.domain.returns import ReturnCase
from projections.base import Event, Projection, handles, json_text, money_amount, utc
from projections.db import Transaction

LIFECYCLES: dict[str, Lifecycle] = {
    case.KIND: case.LIFECYCLE for case in (ReturnCase, RefundCase, ComplaintCase)
}
# Where a case's market and currency come from: the inputs of its first decision.
FACTS_FROM = {"return.eligibility", "refund.calculation", "complaint.triage"}
DEADLINE_EVENTS = ("DeadlineScheduled", "DeadlineCancelled", "DeadlineBreached")
Row = dict[str, Any]  # the READ columns of a row


def _types() -> list[str]:
    return [f"aftersales.{kind}.{name}" for kind, lifecycle in LIFECYCLES.items()
            for name in lifecycle.moves]


class Cases(Projection):
    name = "cases"
    tables = {"cases": """
        CREATE TABLE {cases} (
            case_id TEXT PRIMARY KEY,
            case_type TEXT NOT NULL,
            status TEXT NOT NULL,
            order_id TEXT,
            customer_id TEXT,
            market TEXT,
            currency TEXT,
            amount NUMERIC,
            reason TEXT,
            priority TEXT,
            opened_at TIMESTAMPTZ NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL,
            next_deadline TIMESTAMPTZ,
            open_deadlines JSONB NOT NULL DEFAULT '{{}}',
            acknowledged_at TIMESTAMPTZ,
            returnless INTEGER,
            version INTEGER NOT NULL,
            escalation TEXT
        )"""}
    indexes = {
        "cases_status": "CREATE INDEX cases_status ON {cases} (case_type, status)",
        "cases_order": "CREATE INDEX cases_order ON {cases} (order_id)",
        "cases_customer": "CREATE INDEX cases_customer ON {cases} (customer_id)",
    }
    subject_columns = {"cases": "customer_id"}

    @handles(*_types())
    def applied(self, event: Event, tx: Transaction) -> None:
        """Open the row, or fold the event into it with the case's lifecycle: in one statement
        when the move and the facts need nothing of the row (most events), else read first."""
        kind, name = event["type"].split(".")[1:]
        lifecycle = LIFECYCLES[kind]
        if name == lifecycle.opening:
            self._open(kind, lifecycle, event, tx)
            return
        move, data = lifecycle.move(name), event["data"]
        changes: list[Change] = []
        if isinstance(move, Blind) and name not in DEADLINE_EVENTS:
            if move.status is not None:
                changes.append(("status = ?", str(move.status)))
            if move.escalates:
                changes.append(("escalation = ?", data["level"]))
        else:
            found = tx.one(self.sql(f"SELECT {', '.join(READ)} FROM {{cases}} WHERE case_id = ?"),
                           (event["subject"],))
            if found is None:  # a case this table never saw open: nothing to fold into
                return
            current: Row = dict(zip(READ, found, strict=True))
            standing = lifecycle.after(
                Standing(current["status"], current["escalation"],
                         current["acknowledged_at"] is not None), name, data)
            changes += [("status = ?", str(standing.status)),
                        ("escalation = ?", standing.escalation)]
            if name in DEADLINE_EVENTS:
                changes += _deadline(event, current["open_deadlines"])
        facts = FACTS.get(name)
        if facts is not None:
            changes += facts(event)
        changes += [("updated_at = ?", event["time"]), ("version = ?", event["version"])]
        tx.execute(self.sql(f"UPDATE {{cases}} SET {', '.join(c for c, _ in changes)} "
                            "WHERE case_id = ?"), (*(v for _, v in changes), event["subject"]))

    def _open(self, kind: str, lifecycle: Lifecycle, event: Event, tx: Transaction) -> None:
        data = event["data"]
        standing = lifecycle.opened(data)
        tx.execute(self.sql(
            "INSERT INTO {cases} (case_id, case_type, status, escalation, order_id, customer_id, "
            "amount, reason, opened_at, updated_at, version) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (case_id) DO NOTHING"),
            (event["subject"], kind, str(standing.status), standing.escalation,
             data.get("order_id"), self.subject(event, tx, data.get("customer_id")),
             money_amount(data.get("amount")),
             data.get("reason") or data.get("category"), event["time"], event["time"],
             event["version"]))


# ---- the facts an event brings besides the case's standing ------------------------------------
READ = ("status", "escalation", "acknowledged_at", "open_deadlines")  # what a folding move reads
Change = tuple[str, object]  # "column = expression" with its one parameter
Facts = Callable[[Event], list[Change]]


def _decided(event: Event) -> list[Change]:
    decision = event["data"]["decision"]
    if decision["policy_id"] not in FACTS_FROM:
        return []
    inputs = decision["inputs"]  # the first decision that names them
    return [("market = COALESCE(market, ?)", inputs.get("market")),
            ("currency = COALESCE(currency, ?)", inputs.get("currency"))]


def _calculated(event: Event) -> list[Change]:
    return [("amount = ?", money_amount(event["data"]["amount"]))]


def _triaged(event: Event) -> list[Change]:
    return [("priority = ?", event["data"]["priority"])]


def _acknowledged(event: Event) -> list[Change]:
    return [("acknowledged_at = ?", event["time"])]


def _message(event: Event) -> list[Change]:
    if event["data"]["direction"] != "out":
        return []
    # a first reply is the first response
    return [("acknowledged_at = COALESCE(acknowledged_at, ?)", event["time"])]


def _approved(event: Event) -> list[Change]:
    if event["type"] != "aftersales.return.Approved":
        return []
    return [("returnless = ?", int(bool(event["data"]["returnless"])))]


def _deadline(event: Event, open_deadlines: str) -> list[Change]:
    """next_deadline: the earliest deadline of the case that is still open."""
    deadlines = orjson.loads(open_deadlines)
    name = event["data"]["name"]
    if event["type"].endswith("DeadlineScheduled"):
        deadlines[name] = utc(event["data"]["due_at"])
    else:
        deadlines.pop(name, None)
    return [("open_deadlines = ?", json_text(deadlines)),
            ("next_deadline = ?", min(deadlines.values(), default=None))]


FACTS: dict[str, Facts] = {
    "DecisionRecorded": _decided,
    "Calculated": _calculated,
    "Triaged": _triaged,
    "Acknowledged": _acknowledged,
    "MessageAdded": _message,
    "Approved": _approved,
}
