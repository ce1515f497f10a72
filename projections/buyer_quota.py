"""`buyer_quota` and `buyer_quota_entries`: each buyer's China cross-border annual quota per
year (limit, used, restored by valid customs returns, remaining) and every use and restoration."""

from __future__ import annotations

from decimal import Decimal

from projections.base import Event, Projection, handles, money_amount, utc
from projections.db import Transaction


class BuyerQuotas(Projection):
    name = "buyer_quota"
    tables = {
        "buyer_quota": """
        CREATE TABLE {buyer_quota} (
            quota_id TEXT PRIMARY KEY,
            customer_id TEXT NOT NULL,
            year INTEGER NOT NULL,
            currency TEXT NOT NULL,
            annual_limit NUMERIC NOT NULL,
            per_order_limit NUMERIC NOT NULL,
            used NUMERIC NOT NULL DEFAULT '0',
            restored NUMERIC NOT NULL DEFAULT '0',
            remaining NUMERIC NOT NULL,
            orders INTEGER NOT NULL DEFAULT 0,
            orders_over_limit INTEGER NOT NULL DEFAULT 0,
            customs_returns INTEGER NOT NULL DEFAULT 0,
            updated_at TIMESTAMPTZ
        )""",
        "buyer_quota_entries": """
        CREATE TABLE {buyer_quota_entries} (
            quota_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            order_id TEXT NOT NULL,
            return_case_id TEXT,
            amount NUMERIC NOT NULL,
            at TIMESTAMPTZ NOT NULL,
            position INTEGER NOT NULL,
            PRIMARY KEY (quota_id, position)
        )""",
    }
    indexes = {"buyer_quota_customer": "CREATE INDEX buyer_quota_customer ON {buyer_quota} "
                                       "(customer_id, year)"}
    subject_columns = {"buyer_quota": "customer_id"}

    @handles("aftersales.quota.Opened")
    def opened(self, event: Event, tx: Transaction) -> None:
        d = event["data"]
        limit = money_amount(d["annual_limit"])
        zero = str(Decimal(limit or "0") * 0)  # "0.00": the currency's minor unit
        tx.execute(self.sql(
            "INSERT INTO {buyer_quota} (quota_id, customer_id, year, currency, annual_limit, "
            "per_order_limit, used, restored, remaining, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (quota_id) DO NOTHING"),
            (event["subject"], self.subject(event, tx, d["customer_id"]), int(d["year"]),
             d["annual_limit"]["currency"],
             limit, money_amount(d["per_order_limit"]), zero, zero, limit, event["time"]))

    def _move(self, event: Event, tx: Transaction, column: str, sign: int, counter: str,
              extra: str = "") -> None:
        row = tx.one(self.sql(f"SELECT {column}, remaining FROM {{buyer_quota}} "
                              "WHERE quota_id = ?"), (event["subject"],))
        if row is None:
            return
        amount = Decimal(event["data"]["amount"])
        tx.execute(self.sql(
            f"UPDATE {{buyer_quota}} SET {column} = ?, remaining = ?, {counter} = {counter} + 1"
            f"{extra}, updated_at = ? WHERE quota_id = ?"),
            (str(Decimal(row[0]) + amount), str(Decimal(row[1]) - sign * amount), event["time"],
             event["subject"]))

    def _entry(self, event: Event, tx: Transaction, kind: str) -> None:
        d = event["data"]
        tx.execute(self.sql(
            "INSERT INTO {buyer_quota_entries} (quota_id, kind, order_id, return_case_id, "
            "amount, at, position) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (quota_id, position) DO NOTHING"),
            (event["subject"], kind, d["order_id"], d.get("return_case_id"), str(d["amount"]),
             utc(event["time"]), int(event["position"])))

    @handles("aftersales.quota.Used")
    def used(self, event: Event, tx: Transaction) -> None:
        over = bool(event["data"].get("over_order_limit") or
                    event["data"].get("over_annual_limit"))
        extra = ", orders_over_limit = orders_over_limit + 1" if over else ""
        self._move(event, tx, "used", 1, "orders", extra)
        self._entry(event, tx, "used")

    @handles("aftersales.quota.Restored")
    def restored(self, event: Event, tx: Transaction) -> None:
        self._move(event, tx, "restored", -1, "customs_returns")
        self._entry(event, tx, "restored")

    @handles("aftersales.quota.Released")
    def released(self, event: Event, tx: Transaction) -> None:
        """An order cancelled before its goods cleared customs: its use is given back (the
        ``remaining`` rises; ``used`` keeps the use that happened; an entry of kind
        ``released`` says why)."""
        self._remaining(event, tx, 1, "released")

    @handles("aftersales.quota.Rebooked")
    def rebooked(self, event: Event, tx: Transaction) -> None:
        """A release taken back (the goods cleared customs after all): ``remaining`` falls
        again; an entry of kind ``rebooked``."""
        self._remaining(event, tx, -1, "rebooked")

    def _remaining(self, event: Event, tx: Transaction, sign: int, kind: str) -> None:
        row = tx.one(self.sql("SELECT remaining FROM {buyer_quota} WHERE quota_id = ?"),
                     (event["subject"],))
        if row is None:
            return
        tx.execute(self.sql("UPDATE {buyer_quota} SET remaining = ?, updated_at = ? "
                            "WHERE quota_id = ?"),
                   (str(Decimal(row[0]) + sign * Decimal(event["data"]["amount"])),
                    event["time"], event["subject"]))
        self._entry(event, tx, kind)
