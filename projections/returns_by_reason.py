"""`returns_by_reason`: return requests counted by market, category, SKU and reason."""

from __future__ import annotations

from decimal import Decimal

from aftersales_core.outcomes import Eligibility
from projections.base import Event, Projection, handles
from projections.db import Transaction

OUTCOME_COLUMN = {Eligibility.APPROVE: "approved", Eligibility.REJECT: "rejected",
                  Eligibility.REVIEW: "review"}


class ReturnsByReason(Projection):
    name = "returns_by_reason"
    tables = {"returns_by_reason": """
        CREATE TABLE {returns_by_reason} (
            market TEXT NOT NULL,
            category TEXT NOT NULL,
            sku TEXT NOT NULL,
            reason TEXT NOT NULL,
            currency TEXT NOT NULL,
            requests INTEGER NOT NULL,
            approved INTEGER NOT NULL,
            rejected INTEGER NOT NULL,
            review INTEGER NOT NULL,
            quantity INTEGER NOT NULL,
            value NUMERIC NOT NULL,
            PRIMARY KEY (market, category, sku, reason, currency)
        )"""}

    @handles("aftersales.return.DecisionRecorded")
    def decided(self, event: Event, tx: Transaction) -> None:
        decision = event["data"]["decision"]
        if decision["policy_id"] != "return.eligibility":
            return
        inputs = decision["inputs"]
        column = OUTCOME_COLUMN.get(decision["outcome"], "review")
        for line in inputs["lines"]:
            key = (inputs["market"], line["category"], line["sku"], inputs["reason"],
                   inputs["currency"])
            value = Decimal(line["unit_price"]) * int(line["quantity"])
            # runners holding other partitions share these rows: create, then lock and add
            tx.execute(self.sql(
                "INSERT INTO {returns_by_reason} (market, category, sku, reason, currency, "
                "requests, approved, rejected, review, quantity, value) "
                "VALUES (?, ?, ?, ?, ?, 0, 0, 0, 0, 0, '0') ON CONFLICT (market, category, sku, "
                "reason, currency) DO NOTHING"), key)
            lock = " FOR UPDATE" if tx.db.is_postgres else ""
            row = tx.one(self.sql("SELECT value FROM {returns_by_reason} WHERE market = ? AND "
                                  "category = ? AND sku = ? AND reason = ? AND currency = ?"
                                  + lock), key)
            total = Decimal(row[0]) + value
            tx.execute(self.sql(
                f"UPDATE {{returns_by_reason}} SET requests = requests + 1, "
                f"{column} = {column} + 1, quantity = quantity + ?, value = ? WHERE market = ? "
                "AND category = ? AND sku = ? AND reason = ? AND currency = ?"),
                (int(line["quantity"]), str(total), *key))
