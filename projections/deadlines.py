"""`deadlines`: every deadline of every case, open ones first by due time."""

from __future__ import annotations

from aftersales_core.outcomes import DeadlineState
from projections.base import Event, Projection, handles, kind_of, utc
from projections.db import Transaction

KINDS = ("return", "refund", "complaint", "order")


def _types(name: str) -> list[str]:
    return [f"aftersales.{kind}.{name}" for kind in KINDS]


class Deadlines(Projection):
    name = "deadlines"
    tables = {"deadlines": """
        CREATE TABLE {deadlines} (
            case_id TEXT NOT NULL,
            case_type TEXT NOT NULL,
            name TEXT NOT NULL,
            due_at TIMESTAMPTZ NOT NULL,
            action TEXT,
            state TEXT NOT NULL,
            outcome TEXT,
            scheduled_at TIMESTAMPTZ NOT NULL,
            closed_at TIMESTAMPTZ,
            PRIMARY KEY (case_id, name)
        )"""}
    indexes = {"deadlines_open": "CREATE INDEX deadlines_open ON {deadlines} (state, due_at)"}

    @handles(*_types("DeadlineScheduled"))
    def scheduled(self, event: Event, tx: Transaction) -> None:
        d = event["data"]
        tx.execute(self.sql(
            "INSERT INTO {deadlines} (case_id, case_type, name, due_at, action, state, "
            "scheduled_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (case_id, name) DO "
            "UPDATE SET due_at = excluded.due_at, action = excluded.action, "
            "state = excluded.state, scheduled_at = excluded.scheduled_at, closed_at = NULL, "
            "outcome = NULL"),
            (event["subject"], kind_of(event["type"]), d["name"], utc(d["due_at"]),
             d.get("action"), DeadlineState.OPEN.value, event["time"]))

    def _close(self, event: Event, tx: Transaction, state: DeadlineState, outcome: str) -> None:
        tx.execute(self.sql("UPDATE {deadlines} SET state = ?, outcome = ?, closed_at = ? "
                            "WHERE case_id = ? AND name = ?"),
                   (state.value, outcome, event["time"], event["subject"],
                    event["data"]["name"]))

    @handles(*_types("DeadlineCancelled"))
    def cancelled(self, event: Event, tx: Transaction) -> None:
        reason = str(event["data"].get("reason") or DeadlineState.CANCELLED)
        met = reason == DeadlineState.MET
        self._close(event, tx, DeadlineState.MET if met else DeadlineState.CANCELLED, reason)

    @handles(*_types("DeadlineBreached"))
    def breached(self, event: Event, tx: Transaction) -> None:
        """Breached, or what the breach's action made of it (expired, done)."""
        action = str(event["data"].get("action") or DeadlineState.BREACHED)
        self._close(event, tx, DeadlineState.after_breach(action), action)
