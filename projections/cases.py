"""`cases`: one row per case (return, refund, complaint) with its current status.

Status, escalation and version have one source: every event of a case is folded into its row
with the case's own lifecycle (aftersales_core/domain/lifecycle.py), the table its aggregate
folds with, so a row says what `aftersales case show` says. The facts around them (order,
customer, market, amount, priority, the next deadline) come from the events that carry them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from aftersales_core.domain.complaints import ComplaintCase
from aftersales_core.domain.lifecycle import Lifecycle, Standing
from aftersales_core.domain.refunds import RefundCase
from aftersales_core.domain.returns import ReturnCase
from projections.base import Event, Projection, handles, money_amount, utc
from projections.db import Transaction

LIFECYCLES: dict[str, Lifecycle] = {
    case.KIND: case.LIFECYCLE for case in (ReturnCase, RefundCase, ComplaintCase)
}
# Where a case's market and currency come from: the inputs of its first decision.
FACTS_FROM = {"return.eligibility", "refund.calculation", "complaint.triage"}
DEADLINE_EVENTS = ("DeadlineScheduled", "DeadlineCancelled", "DeadlineBreached")
Row = dict[str, Any]  # the columns an event changes besides status, escalation and version


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
            amount TEXT,
            reason TEXT,
            priority TEXT,
            opened_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            next_deadline TEXT,
            open_deadlines TEXT NOT NULL DEFAULT '{{}}',
            acknowledged_at TEXT,
            returnless INTEGER,
            version INTEGER NOT NULL,
            escalation TEXT
        )"""}
    indexes = {
        "cases_status": "CREATE INDEX cases_status ON {cases} (case_type, status)",
        "cases_order": "CREATE INDEX cases_order ON {cases} (order_id)",
    }

    @handles(*_types())
    def applied(self, event: Event, tx: Transaction) -> None:
        """Open the row, or fold the event into it with the case's lifecycle."""
        kind, name = event["type"].split(".")[1:]
        lifecycle = LIFECYCLES[kind]
        if name == lifecycle.opening:
            self._open(kind, lifecycle, event, tx)
            return
        found = tx.one(self.sql(f"SELECT {', '.join(READ)} FROM {{cases}} WHERE case_id = ?"),
                       (event["subject"],))
        if found is None:  # an event of a case this table never saw open: nothing to fold into
            return
        current: Row = dict(zip(READ, found, strict=True))
        standing = lifecycle.after(
            Standing(current["status"], current["escalation"],
                     current["acknowledged_at"] is not None), name, event["data"])
        changes: Row = {"status": str(standing.status), "escalation": standing.escalation,
                        "updated_at": event["time"], "version": event["version"]}
        facts = FACTS.get(name)
        if facts is not None:
            facts(event, current, changes)
        columns = ", ".join(f"{column} = ?" for column in changes)
        tx.execute(self.sql(f"UPDATE {{cases}} SET {columns} WHERE case_id = ?"),
                   (*changes.values(), event["subject"]))

    def _open(self, kind: str, lifecycle: Lifecycle, event: Event, tx: Transaction) -> None:
        data = event["data"]
        standing = lifecycle.opened(data)
        tx.execute(self.sql(
            "INSERT INTO {cases} (case_id, case_type, status, escalation, order_id, customer_id, "
            "amount, reason, opened_at, updated_at, version) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (case_id) DO NOTHING"),
            (event["subject"], kind, str(standing.status), standing.escalation,
             data.get("order_id"), data.get("customer_id"), money_amount(data.get("amount")),
             data.get("reason") or data.get("category"), event["time"], event["time"],
             event["version"]))


# ---- the facts an event brings besides the case's standing ------------------------------------
READ = ("status", "escalation", "acknowledged_at", "open_deadlines", "market", "currency")
Facts = Callable[[Event, Row, Row], None]  # (event, the row's current READ columns, changes)


def _decided(event: Event, current: Row, changes: Row) -> None:
    decision = event["data"]["decision"]
    if decision["policy_id"] in FACTS_FROM:  # the first decision that names them
        inputs = decision["inputs"]
        changes["market"] = current["market"] or inputs.get("market")
        changes["currency"] = current["currency"] or inputs.get("currency")


def _calculated(event: Event, current: Row, changes: Row) -> None:
    changes["amount"] = money_amount(event["data"]["amount"])


def _triaged(event: Event, current: Row, changes: Row) -> None:
    changes["priority"] = event["data"]["priority"]


def _acknowledged(event: Event, current: Row, changes: Row) -> None:
    changes["acknowledged_at"] = event["time"]


def _message(event: Event, current: Row, changes: Row) -> None:
    if event["data"]["direction"] == "out" and current["acknowledged_at"] is None:
        changes["acknowledged_at"] = event["time"]  # a first reply is the first response


def _approved(event: Event, current: Row, changes: Row) -> None:
    if event["type"] == "aftersales.return.Approved":
        changes["returnless"] = int(bool(event["data"]["returnless"]))


def _deadline(event: Event, current: Row, changes: Row) -> None:
    """next_deadline: the earliest deadline of the case that is still open."""
    deadlines = orjson.loads(current["open_deadlines"])
    name = event["data"]["name"]
    if event["type"].endswith("DeadlineScheduled"):
        deadlines[name] = utc(event["data"]["due_at"])
    else:
        deadlines.pop(name, None)
    changes["open_deadlines"] = orjson.dumps(deadlines).decode()
    changes["next_deadline"] = min(deadlines.values(), default=None)


FACTS: dict[str, Facts] = {
    "DecisionRecorded": _decided,
    "Calculated": _calculated,
    "Triaged": _triaged,
    "Acknowledged": _acknowledged,
    "MessageAdded": _message,
    "Approved": _approved,
    **dict.fromkeys(DEADLINE_EVENTS, _deadline),
}
