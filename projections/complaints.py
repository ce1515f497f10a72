"""`complaints`: one row per complaint with its triage, first response and resolution."""

from __future__ import annotations

from datetime import datetime

from projections.base import Event, Projection, handles, utc
from projections.db import Transaction


def hours_between(start: str | None, end: str) -> float | None:
    if start is None:
        return None
    delta = datetime.fromisoformat(end) - datetime.fromisoformat(start)
    return round(delta.total_seconds() / 3600, 3)


class Complaints(Projection):
    name = "complaints"
    tables = {"complaints": """
        CREATE TABLE {complaints} (
            complaint_id TEXT PRIMARY KEY,
            customer_id TEXT NOT NULL,
            order_id TEXT,
            channel TEXT NOT NULL,
            category TEXT NOT NULL,
            proactive INTEGER NOT NULL,
            filed_by TEXT,
            priority TEXT,
            route TEXT,
            filed_at TIMESTAMPTZ NOT NULL,
            first_response_due TIMESTAMPTZ,
            first_response_at TIMESTAMPTZ,
            first_response_hours DOUBLE PRECISION,
            first_response_breached INTEGER,
            resolution_due TIMESTAMPTZ,
            resolution TEXT,
            proposed_resolution TEXT,
            accepted_resolution TEXT,
            resolved_at TIMESTAMPTZ,
            closed_at TIMESTAMPTZ,
            satisfaction INTEGER,
            escalations INTEGER NOT NULL DEFAULT 0,
            escalated_to TEXT,
            reopened INTEGER NOT NULL DEFAULT 0,
            messages_in INTEGER NOT NULL DEFAULT 0,
            messages_out INTEGER NOT NULL DEFAULT 0
        )"""}
    indexes = {"complaints_category": "CREATE INDEX complaints_category ON {complaints} "
                                      "(category, priority)",
               "complaints_customer": "CREATE INDEX complaints_customer ON {complaints} "
                                      "(customer_id)"}
    subject_columns = {"complaints": "customer_id"}

    def _set(self, event: Event, tx: Transaction, **columns: object) -> None:
        names = ", ".join(f"{c} = ?" for c in columns)
        tx.execute(self.sql(f"UPDATE {{complaints}} SET {names} WHERE complaint_id = ?"),
                   (*columns.values(), event["subject"]))

    @handles("aftersales.complaint.Filed")
    def filed(self, event: Event, tx: Transaction) -> None:
        data = event["data"]
        tx.execute(self.sql(
            "INSERT INTO {complaints} (complaint_id, customer_id, order_id, channel, category, "
            "proactive, filed_by, filed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (complaint_id) DO NOTHING"),
            (event["subject"], self.subject(event, tx, data["customer_id"]),
             data.get("order_id"), data["channel"],
             data["category"], int(bool(data.get("proactive"))),
             data.get("by", data.get("filed_by")), event["time"]))  # v2 by, v1 filed_by

    @handles("aftersales.complaint.DecisionRecorded")
    def decided(self, event: Event, tx: Transaction) -> None:
        decision = event["data"]["decision"]
        if decision["policy_id"] != "complaint.triage":
            return
        details = decision["details"]
        self._set(event, tx, priority=details.get("priority"), route=details.get("route"),
                  first_response_due=utc(details.get("first_response_due")),
                  resolution_due=utc(details.get("resolution_due")))

    @handles("aftersales.complaint.Acknowledged")
    def acknowledged(self, event: Event, tx: Transaction) -> None:
        self._first_response(event, tx)

    @handles("aftersales.complaint.MessageAdded")
    def message(self, event: Event, tx: Transaction) -> None:
        direction = event["data"]["direction"]
        column = "messages_out" if direction == "out" else "messages_in"
        tx.execute(self.sql(f"UPDATE {{complaints}} SET {column} = {column} + 1 "
                            "WHERE complaint_id = ?"), (event["subject"],))
        if direction == "out":
            self._first_response(event, tx)

    def _first_response(self, event: Event, tx: Transaction) -> None:
        row = tx.one(self.sql("SELECT filed_at, first_response_at, first_response_due FROM "
                              "{complaints} WHERE complaint_id = ?"), (event["subject"],))
        if row is None or row[1] is not None:
            return
        due = row[2]
        late = None if due is None else int(datetime.fromisoformat(event["time"])
                                            > datetime.fromisoformat(due))
        self._set(event, tx, first_response_at=event["time"],
                  first_response_hours=hours_between(row[0], event["time"]),
                  first_response_breached=late)

    @handles("aftersales.complaint.ResolutionProposed")
    def proposed(self, event: Event, tx: Transaction) -> None:
        self._set(event, tx, proposed_resolution=event["data"]["resolution"])

    @handles("aftersales.complaint.ProposalAnswered")
    def answered(self, event: Event, tx: Transaction) -> None:
        if event["data"]["accepted"]:
            tx.execute(self.sql("UPDATE {complaints} SET accepted_resolution = "
                                "proposed_resolution WHERE complaint_id = ?"), (event["subject"],))

    @handles("aftersales.complaint.Escalated")
    def escalated(self, event: Event, tx: Transaction) -> None:
        tx.execute(self.sql("UPDATE {complaints} SET escalations = escalations + 1, "
                            "escalated_to = ? WHERE complaint_id = ?"),
                   (event["data"]["level"], event["subject"]))

    @handles("aftersales.complaint.Resolved")
    def resolved(self, event: Event, tx: Transaction) -> None:
        self._set(event, tx, resolved_at=event["time"], resolution=event["data"]["summary"])

    @handles("aftersales.complaint.Closed")
    def closed(self, event: Event, tx: Transaction) -> None:
        self._set(event, tx, closed_at=event["time"],
                  satisfaction=event["data"].get("satisfaction"))

    @handles("aftersales.complaint.Reopened")
    def reopened(self, event: Event, tx: Transaction) -> None:
        tx.execute(self.sql("UPDATE {complaints} SET reopened = reopened + 1, resolved_at = NULL,"
                            " closed_at = NULL, satisfaction = NULL WHERE complaint_id = ?"),
                   (event["subject"],))
