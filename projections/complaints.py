"""`complaints`: one row per complaint with its triage, first response and resolution.

Whether the first response and the resolution kept their service levels is what the
complaint's own deadlines say (as `deadlines` and `case show` do): ``first_response_breached``
is 1 once the ``first_response`` deadline was breached before the first response came (fired by
the scheduler, or late at the response), 0 when it was met, NULL while neither (no response yet,
in time); ``resolution_breached`` is 1 once a ``resolution`` deadline was breached (the clock
counts the time waiting on the customer, as the deadline does), 0 when the complaint was resolved
in time (a breach before a reopening counts), NULL while open in time. Until the deadline's
end is applied (it comes right after the response), the first response is judged by the
triage's due time.

The first response is what the domain counts as one (it closes the ``first_response`` deadline
as met): an acknowledgement, the first message out, a proposal or a resolution, whichever came
first; ``first_response_at`` and ``first_response_hours`` are its time. ``resolution_due`` is
the complaint's current ``resolution`` deadline (later by the time the clock stopped while
waiting on the customer; a reopening's new one), the triage's due time until one is
scheduled."""

from __future__ import annotations

from datetime import datetime

from aftersales_core.outcomes import DeadlineState
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
            resolution_breached INTEGER,
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

    @handles("aftersales.complaint.DeadlineScheduled")
    def deadline_scheduled(self, event: Event, tx: Transaction) -> None:
        data = event["data"]
        if data["name"] == "resolution":  # as `deadlines` and `case show` say it
            self._set(event, tx, resolution_due=utc(data["due_at"]))

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
        row = tx.one(self.sql("SELECT filed_at, first_response_at, first_response_due, "
                              "first_response_breached FROM {complaints} WHERE "
                              "complaint_id = ?"), (event["subject"],))
        if row is None or row[1] is not None:
            return
        due, late = row[2], row[3]
        if late is None and due is not None:  # the deadline's own verdict follows, if any
            late = int(datetime.fromisoformat(event["time"]) > datetime.fromisoformat(due))
        self._set(event, tx, first_response_at=event["time"],
                  first_response_hours=hours_between(row[0], event["time"]),
                  first_response_breached=late)

    @handles("aftersales.complaint.DeadlineBreached")
    def deadline_breached(self, event: Event, tx: Transaction) -> None:
        name = event["data"]["name"]
        if name == "resolution":
            self._set(event, tx, resolution_breached=1)
        elif name == "first_response" and self._about_first_response(event, tx):
            self._set(event, tx, first_response_breached=1)

    @handles("aftersales.complaint.DeadlineCancelled")
    def deadline_cancelled(self, event: Event, tx: Transaction) -> None:
        data = event["data"]
        if data.get("reason") != DeadlineState.MET:
            return  # replaced, or the clock stopped (waiting on the customer)
        if data["name"] == "resolution":
            tx.execute(self.sql("UPDATE {complaints} SET resolution_breached = 0 WHERE "
                                "complaint_id = ? AND resolution_breached IS NULL"),
                       (event["subject"],))
        elif data["name"] == "first_response" and self._about_first_response(event, tx):
            self._set(event, tx, first_response_breached=0)

    def _about_first_response(self, event: Event, tx: Transaction) -> bool:
        """Whether a first_response deadline's end judges the complaint's first response: it
        came with no response yet, or with the first (not a reopened complaint's new one)."""
        row = tx.one(self.sql("SELECT first_response_at FROM {complaints} WHERE "
                              "complaint_id = ?"), (event["subject"],))
        if row is None:
            return False
        return row[0] is None or datetime.fromisoformat(row[0]) == datetime.fromisoformat(
            event["time"])

    @handles("aftersales.complaint.ResolutionProposed")
    def proposed(self, event: Event, tx: Transaction) -> None:
        self._set(event, tx, proposed_resolution=event["data"]["resolution"])
        self._first_response(event, tx)  # a proposal answers the customer

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
        self._first_response(event, tx)  # resolved unanswered: the resolution answers it

    @handles("aftersales.complaint.Closed")
    def closed(self, event: Event, tx: Transaction) -> None:
        self._set(event, tx, closed_at=event["time"],
                  satisfaction=event["data"].get("satisfaction"))

    @handles("aftersales.complaint.Reopened")
    def reopened(self, event: Event, tx: Transaction) -> None:
        tx.execute(self.sql("UPDATE {complaints} SET reopened = reopened + 1, resolved_at = NULL,"
                            " closed_at = NULL, satisfaction = NULL WHERE complaint_id = ?"),
                   (event["subject"],))
