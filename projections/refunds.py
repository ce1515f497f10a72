"""`refunds`: one row per refund with its components and its way to settlement."""

from __future__ import annotations

from datetime import datetime

from projections.base import Event, Projection, handles, json_text, money_amount
from projections.db import Transaction

COMPONENTS = ("items", "outbound_shipping", "duties", "taxes", "restocking_fee",
              "return_shipping", "goodwill")


class Refunds(Projection):
    name = "refunds"
    tables = {"refunds": """
        CREATE TABLE {refunds} (
            refund_id TEXT PRIMARY KEY,
            order_id TEXT NOT NULL,
            customer_id TEXT,
            source TEXT NOT NULL,
            source_case_id TEXT,
            reason TEXT,
            status TEXT NOT NULL,
            amount NUMERIC,
            currency TEXT,
            items NUMERIC, outbound_shipping NUMERIC, duties NUMERIC, taxes NUMERIC,
            restocking_fee NUMERIC, return_shipping NUMERIC, goodwill NUMERIC,
            components JSONB,
            requested_by TEXT,
            requested_at TIMESTAMPTZ NOT NULL,
            approved_by TEXT,
            approved_at TIMESTAMPTZ,
            issued_at TIMESTAMPTZ,
            attempts INTEGER NOT NULL DEFAULT 0,
            settled_at TIMESTAMPTZ,
            provider_ref TEXT,
            hours_to_settle DOUBLE PRECISION,
            last_error TEXT
        )"""}
    indexes = {"refunds_order": "CREATE INDEX refunds_order ON {refunds} (order_id)",
               "refunds_customer": "CREATE INDEX refunds_customer ON {refunds} (customer_id)"}
    subject_columns = {"refunds": "customer_id"}

    def _set(self, event: Event, tx: Transaction, **columns: object) -> None:
        names = ", ".join(f"{c} = ?" for c in columns)
        tx.execute(self.sql(f"UPDATE {{refunds}} SET {names} WHERE refund_id = ?"),
                   (*columns.values(), event["subject"]))

    @handles("aftersales.refund.Requested")
    def requested(self, event: Event, tx: Transaction) -> None:
        data = event["data"]
        tx.execute(self.sql(
            "INSERT INTO {refunds} (refund_id, order_id, customer_id, source, source_case_id, "
            "reason, status, amount, requested_by, requested_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 'requested', ?, ?, ?) ON CONFLICT (refund_id) DO NOTHING"),
            (event["subject"], data["order_id"], self.subject(event, tx, data["customer_id"]),
             data["source"],
             data.get("source_case_id"), data.get("reason"), money_amount(data.get("amount")),
             data.get("by", data.get("requested_by")), event["time"]))  # v2 by, v1 requested_by

    @handles("aftersales.refund.Calculated")
    def calculated(self, event: Event, tx: Transaction) -> None:
        data = event["data"]
        parts = data.get("components") or {}
        self._set(event, tx, amount=money_amount(data["amount"]),
                  currency=data["amount"]["currency"],
                  components=json_text(parts),
                  **{name: parts.get(name) for name in COMPONENTS})

    @handles("aftersales.refund.AwaitingApproval")
    def awaiting(self, event: Event, tx: Transaction) -> None:
        self._set(event, tx, status="awaiting_approval")

    @handles("aftersales.refund.Approved")
    def approved(self, event: Event, tx: Transaction) -> None:
        self._set(event, tx, status="approved", approved_by=event["data"]["by"],
                  approved_at=event["time"])

    @handles("aftersales.refund.Rejected")
    def rejected(self, event: Event, tx: Transaction) -> None:
        self._set(event, tx, status="rejected", last_error=event["data"].get("reason"))

    @handles("aftersales.refund.Issued")
    def issued(self, event: Event, tx: Transaction) -> None:
        self._set(event, tx, status="issued", issued_at=event["time"],
                  attempts=event["data"]["attempt"])

    @handles("aftersales.refund.Failed")
    def failed(self, event: Event, tx: Transaction) -> None:
        self._set(event, tx, status="failed", last_error=event["data"]["error"])

    @handles("aftersales.refund.Settled")
    def settled(self, event: Event, tx: Transaction) -> None:
        row = tx.one(self.sql("SELECT requested_at FROM {refunds} WHERE refund_id = ?"),
                     (event["subject"],))
        hours = None
        if row is not None:
            delta = datetime.fromisoformat(event["time"]) - datetime.fromisoformat(row[0])
            hours = round(delta.total_seconds() / 3600, 3)
        self._set(event, tx, status="settled", settled_at=event["time"],
                  provider_ref=event["data"]["provider_ref"], hours_to_settle=hours)
