"""`decisions`: every policy decision, with its inputs, version, outcome and reasons, and the
policy book whose settings it used (``merchant_id``, ``book``, ``book_version``,
``settings_hash``: since books, a policy version alone does not say which rules applied; all
empty on decisions recorded before books, which used their version's built-in settings)."""

from __future__ import annotations

from aftersales_core.personal import ERASED
from projections.base import ERASURE, Event, Projection, handles, json_text, kind_of
from projections.db import Transaction


class Decisions(Projection):
    name = "decisions"
    tables = {"decisions": """
        CREATE TABLE {decisions} (
            position INTEGER PRIMARY KEY,
            case_id TEXT NOT NULL,
            case_type TEXT NOT NULL,
            policy_id TEXT NOT NULL,
            policy_version INTEGER NOT NULL,
            merchant_id TEXT,
            book TEXT,
            book_version INTEGER,
            settings_hash TEXT,
            outcome TEXT NOT NULL,
            reasons TEXT NOT NULL,
            rules TEXT NOT NULL,
            inputs JSONB NOT NULL,
            details JSONB NOT NULL,
            decided_at TIMESTAMPTZ NOT NULL
        )"""}
    indexes = {
        "decisions_case": "CREATE INDEX decisions_case ON {decisions} (case_id)",
        "decisions_policy": "CREATE INDEX decisions_policy ON {decisions} "
                            "(policy_id, policy_version, outcome)",
        "decisions_book": "CREATE INDEX decisions_book ON {decisions} "
                          "(merchant_id, book_version)",
    }

    @handles("aftersales.return.DecisionRecorded", "aftersales.refund.DecisionRecorded",
             "aftersales.complaint.DecisionRecorded", "aftersales.order.DecisionRecorded",
             "aftersales.customer.DecisionRecorded")
    def recorded(self, event: Event, tx: Transaction) -> None:
        d = event["data"]["decision"]
        inputs = d["inputs"]
        if isinstance(inputs, dict) and "customer_id" in inputs:
            inputs = {**inputs, "customer_id": self.subject(event, tx, inputs["customer_id"])}
        book = d.get("book") or {}
        tx.execute(self.sql(
            "INSERT INTO {decisions} (position, case_id, case_type, policy_id, policy_version, "
            "merchant_id, book, book_version, settings_hash, "
            "outcome, reasons, rules, inputs, details, decided_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (position) DO NOTHING"),
            (event["position"], event["subject"], kind_of(event["type"]), d["policy_id"],
             d["policy_version"], book.get("merchant_id"), book.get("book"),
             book.get("book_version"), book.get("settings_hash"),
             d["outcome"], "\n".join(d["reasons"]),
             ",".join(d.get("rules", [])), json_text(inputs),
             json_text(d.get("details", {})), event["time"]))

    @handles(ERASURE)
    def erased(self, event: Event, tx: Transaction) -> None:
        """The customer's personal data was erased: the decisions about them (the abuse
        signal, retention) keep their facts but no longer name them in their inputs."""
        customer_id = self.erasure_seen(event, tx)
        if tx.db.is_postgres:
            statement = ("UPDATE {decisions} SET inputs = jsonb_set(inputs, '{{customer_id}}', "
                         "to_jsonb(?::text)) WHERE inputs->>'customer_id' = ?")
        else:
            statement = ("UPDATE {decisions} SET inputs = json_set(inputs, '$.customer_id', ?) "
                         "WHERE json_extract(inputs, '$.customer_id') = ?")
        tx.execute(self.sql(statement), (ERASED, customer_id))

