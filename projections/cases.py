"""`cases`: one row per case (return, refund, complaint) with its current status."""

from __future__ import annotations

import orjson

from projections.base import Event, Projection, handles, kind_of, money_amount, utc
from projections.db import Transaction

# Event type -> the status it moves the case to (events that always mean the same status).
STATUS = {
    "aftersales.return.Requested": "requested",
    "aftersales.return.SentToReview": "pending_review",
    "aftersales.return.Approved": "approved",
    "aftersales.return.Rejected": "rejected",
    "aftersales.return.Cancelled": "cancelled",
    "aftersales.return.LabelIssued": "label_issued",
    "aftersales.return.ShippedBack": "shipped_back",
    "aftersales.return.Received": "received",
    "aftersales.return.Inspected": "inspected",
    "aftersales.return.Resolved": "resolved",
    "aftersales.return.Closed": "closed",
    "aftersales.return.Expired": "expired",
    "aftersales.return.SentToRepair": "in_repair",
    "aftersales.return.RepairDiagnosed": "diagnosed",
    "aftersales.return.RepairedItemShipped": "repair_shipped",
    "aftersales.return.RepairFailed": "repair_failed",
    "aftersales.refund.Requested": "requested",
    "aftersales.refund.AwaitingApproval": "awaiting_approval",
    "aftersales.refund.Approved": "approved",
    "aftersales.refund.Rejected": "rejected",
    "aftersales.refund.Issued": "issued",
    "aftersales.refund.Failed": "failed",
    "aftersales.refund.Settled": "settled",
    "aftersales.complaint.Filed": "filed",
    "aftersales.complaint.ResolutionProposed": "proposed",
    "aftersales.complaint.Escalated": "escalated",
    "aftersales.complaint.Resolved": "resolved",
    "aftersales.complaint.Closed": "closed",
    "aftersales.complaint.Reopened": "reopened",
}
OPENING = ("aftersales.return.Requested", "aftersales.refund.Requested",
           "aftersales.complaint.Filed")
# Where a case's market and currency come from: the inputs of its first decision.
FACTS_FROM = {"return.eligibility", "refund.calculation", "complaint.triage"}


class Cases(Projection):
    name = "cases"
    json_columns = frozenset({"open_deadlines"})
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
            version INTEGER NOT NULL
        )"""}
    indexes = {
        "cases_status": "CREATE INDEX cases_status ON {cases} (case_type, status)",
        "cases_order": "CREATE INDEX cases_order ON {cases} (order_id)",
        "cases_customer": "CREATE INDEX cases_customer ON {cases} (customer_id)",
    }
    subject_columns = {"cases": "customer_id"}

    def _touch(self, event: Event, tx: Transaction, status: str | None = None,
               also: str = "", values: tuple[object, ...] = ()) -> None:
        """The case's status (when given), last update and version, with ``also`` (more
        ``column = expression`` assignments taking ``values``) in the same statement."""
        tx.execute(self.sql("UPDATE {cases} SET " + also + "status = COALESCE(?, status), "
                            "updated_at = ?, version = ? WHERE case_id = ?"),
                   (*values, status, event["time"], event["version"], event["subject"]))

    @handles(*OPENING)
    def opened(self, event: Event, tx: Transaction) -> None:
        data = event["data"]
        reason = data.get("reason") or data.get("category")
        tx.execute(self.sql(
            "INSERT INTO {cases} (case_id, case_type, status, order_id, customer_id, amount, "
            "reason, opened_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (case_id) DO NOTHING"),
            (event["subject"], kind_of(event["type"]), STATUS[event["type"]],
             data.get("order_id"), data.get("customer_id"), money_amount(data.get("amount")),
             reason, event["time"], event["time"], event["version"]))

    @handles(*(t for t in STATUS if t not in OPENING and t != "aftersales.return.Approved"))
    def moved(self, event: Event, tx: Transaction) -> None:
        self._touch(event, tx, STATUS[event["type"]])

    @handles("aftersales.return.Approved")
    def return_approved(self, event: Event, tx: Transaction) -> None:
        self._touch(event, tx, "approved", "returnless = ?, ",
                    (int(bool(event["data"]["returnless"])),))

    @handles("aftersales.return.DecisionRecorded", "aftersales.refund.DecisionRecorded",
             "aftersales.complaint.DecisionRecorded")
    def decided(self, event: Event, tx: Transaction) -> None:
        decision = event["data"]["decision"]
        if decision["policy_id"] in FACTS_FROM:
            inputs = decision["inputs"]
            self._touch(event, tx, None, "market = COALESCE(market, ?), "
                        "currency = COALESCE(currency, ?), ",
                        (inputs.get("market"), inputs.get("currency")))
        else:
            self._touch(event, tx)

    @handles("aftersales.refund.Calculated")
    def calculated(self, event: Event, tx: Transaction) -> None:
        self._touch(event, tx, None, "amount = ?, ", (money_amount(event["data"]["amount"]),))

    @handles("aftersales.complaint.Triaged")
    def triaged(self, event: Event, tx: Transaction) -> None:
        tx.execute(self.sql("UPDATE {cases} SET priority = ?, status = CASE status WHEN 'filed' "
                            "THEN 'open' ELSE status END WHERE case_id = ?"),
                   (event["data"]["priority"], event["subject"]))
        self._touch(event, tx)

    @handles("aftersales.complaint.Acknowledged")
    def acknowledged(self, event: Event, tx: Transaction) -> None:
        self._first_response(event, tx, only_first=False)

    @handles("aftersales.complaint.MessageAdded")
    def message(self, event: Event, tx: Transaction) -> None:
        if event["data"]["direction"] == "out":
            self._first_response(event, tx, only_first=True)
        else:
            self._touch(event, tx)

    def _first_response(self, event: Event, tx: Transaction, only_first: bool) -> None:
        """An acknowledgement, or a first reply, moves an open complaint to acknowledged."""
        first = " AND acknowledged_at IS NULL" if only_first else ""
        tx.execute(self.sql("UPDATE {cases} SET status = CASE WHEN status IN ('open', "
                            "'reopened') THEN 'acknowledged' ELSE status END, "
                            "acknowledged_at = ? WHERE case_id = ?" + first),
                   (event["time"], event["subject"]))
        self._touch(event, tx)

    @handles("aftersales.return.RepairCompleted")
    def repair_completed(self, event: Event, tx: Transaction) -> None:
        self._touch(event, tx, "repaired" if event["data"]["repaired"] else "repair_failed")

    @handles("aftersales.complaint.ProposalAnswered")
    def answered(self, event: Event, tx: Transaction) -> None:
        self._touch(event, tx, "accepted" if event["data"]["accepted"] else "acknowledged")

    @handles(*(f"aftersales.{k}.{e}" for k in ("return", "refund", "complaint")
               for e in ("DeadlineScheduled", "DeadlineCancelled", "DeadlineBreached")))
    def deadline(self, event: Event, tx: Transaction) -> None:
        """next_deadline: the earliest deadline of the case that is still open."""
        row = tx.one(self.sql("SELECT open_deadlines FROM {cases} WHERE case_id = ?"),
                     (event["subject"],))
        if row is None:
            return
        open_deadlines = orjson.loads(row[0])
        name = event["data"]["name"]
        if event["type"].endswith("DeadlineScheduled"):
            open_deadlines[name] = utc(event["data"]["due_at"])
        else:
            open_deadlines.pop(name, None)
        earliest = min(open_deadlines.values(), default=None)
        self._touch(event, tx, None, "open_deadlines = ?, next_deadline = ?, ",
                    (orjson.dumps(open_deadlines).decode(), earliest))
