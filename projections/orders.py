"""`orders` and `order_lines`: the order facts, for rates (returns per order) and joins."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson

from projections.base import Event, Projection, handles, json_text, utc
from projections.db import Transaction


def _extra(data: dict[str, Any]) -> dict[str, Any]:
    """The upstream event's unknown fields, kept by the engine as JSON text (redacted, not
    text, once they are the buyer's personal data: order class version 3)."""
    text = data.get("extra") or ""
    if not isinstance(text, str):
        return {}
    try:
        extra = orjson.loads(text) if text else {}
    except orjson.JSONDecodeError:
        return {}
    return extra if isinstance(extra, dict) else {}


def promised(data: dict[str, Any]) -> Any:
    """An order's delivery promise: its own field (order class version 3), else the unknown
    field of the same name (older events)."""
    return data.get("estimated_delivery_at") or _extra(data).get("estimated_delivery_at")


def _extra_time(value: Any) -> str | None:
    """An unknown field read as a time: UTC text when it is an RFC 3339 time with an offset,
    else None (unknown fields are opaque: nothing in them may stop a projection)."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
        return None if moment.tzinfo is None else moment.astimezone(UTC).isoformat()
    except (ValueError, OverflowError):
        return None


class Orders(Projection):
    name = "orders"
    tables = {
        "orders": """
        CREATE TABLE {orders} (
            aggregate_id TEXT PRIMARY KEY,
            order_id TEXT NOT NULL,
            customer_id TEXT,
            market TEXT,
            currency TEXT,
            fulfilment TEXT,
            channel TEXT,
            total NUMERIC,
            shipping_fee NUMERIC,
            duties NUMERIC,
            taxes NUMERIC,
            placed_at TIMESTAMPTZ,
            estimated_delivery_at TIMESTAMPTZ,
            paid NUMERIC NOT NULL DEFAULT '0',
            payments JSONB NOT NULL DEFAULT '{{}}',
            cancelled_at TIMESTAMPTZ,
            customs_released_at TIMESTAMPTZ,
            delivered_at TIMESTAMPTZ,
            refunded NUMERIC NOT NULL DEFAULT '0'
        )""",
        "order_lines": """
        CREATE TABLE {order_lines} (
            order_id TEXT NOT NULL,
            line_id TEXT NOT NULL,
            sku TEXT NOT NULL,
            category TEXT NOT NULL,
            quantity INTEGER NOT NULL,
            unit_price NUMERIC NOT NULL,
            PRIMARY KEY (order_id, line_id)
        )""",
    }
    indexes = {"orders_order_id": "CREATE INDEX orders_order_id ON {orders} (order_id)",
               "orders_customer": "CREATE INDEX orders_customer ON {orders} (customer_id)"}
    subject_columns = {"orders": "customer_id"}

    def _order_id(self, event: Event, tx: Transaction) -> str | None:
        row = tx.one(self.sql("SELECT order_id FROM {orders} WHERE aggregate_id = ?"),
                     (event["subject"],))
        return None if row is None else str(row[0])

    def _add(self, event: Event, tx: Transaction, column: str, amount: str) -> None:
        row = tx.one(self.sql(f"SELECT {column} FROM {{orders}} WHERE aggregate_id = ?"),
                     (event["subject"],))
        if row is not None:
            tx.execute(self.sql(f"UPDATE {{orders}} SET {column} = ? WHERE aggregate_id = ?"),
                       (str(Decimal(row[0]) + Decimal(amount)), event["subject"]))

    @handles("aftersales.order.Registered")
    def registered(self, event: Event, tx: Transaction) -> None:
        tx.execute(self.sql("INSERT INTO {orders} (aggregate_id, order_id) VALUES (?, ?) "
                            "ON CONFLICT (aggregate_id) DO NOTHING"),
                   (event["subject"], event["data"]["order_id"]))

    @handles("aftersales.order.Placed")
    def placed(self, event: Event, tx: Transaction) -> None:
        d = event["data"]
        tx.execute(self.sql(
            "UPDATE {orders} SET customer_id = ?, market = ?, currency = ?, fulfilment = ?, "
            "channel = ?, total = ?, shipping_fee = ?, duties = ?, taxes = ?, placed_at = ?, "
            "estimated_delivery_at = ? WHERE aggregate_id = ?"),
            (self.subject(event, tx, d["customer_id"]), d["market"], d["currency"],
             d["fulfilment"], d.get("channel"),
             d["total"], d["shipping_fee"], d["duties"], d["taxes"], utc(d["placed_at"]),
             _extra_time(promised(d)), event["subject"]))
        order_id = self._order_id(event, tx)
        tx.executemany(self.sql(
            "INSERT INTO {order_lines} (order_id, line_id, sku, category, quantity, unit_price) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (order_id, line_id) DO NOTHING"),
            [(order_id, line["line_id"], line["sku"], line["category"], line["quantity"],
              str(line["unit_price"])) for line in d["lines"]])

    @handles("aftersales.order.Paid")
    def paid(self, event: Event, tx: Transaction) -> None:
        """One amount per payment id, the latest, as the Order keeps it: a payment re-sent
        under a new event id (stored as a second ``Paid``) is not paid twice."""
        d = event["data"]
        row = tx.one(self.sql("SELECT payments FROM {orders} WHERE aggregate_id = ?"),
                     (event["subject"],))
        if row is None:
            return
        payments = orjson.loads(row[0])
        payments[d["payment_id"]] = str(d["amount"])
        paid = sum((Decimal(amount) for amount in payments.values()), Decimal(0))
        tx.execute(self.sql("UPDATE {orders} SET payments = ?, paid = ? WHERE aggregate_id = ?"),
                   (json_text(payments), str(paid), event["subject"]))

    @handles("aftersales.order.RefundSettled")
    def refund_settled(self, event: Event, tx: Transaction) -> None:
        self._add(event, tx, "refunded", event["data"]["amount"])

    @handles("aftersales.order.Cancelled")
    def cancelled(self, event: Event, tx: Transaction) -> None:
        tx.execute(self.sql("UPDATE {orders} SET cancelled_at = ? WHERE aggregate_id = ?"),
                   (utc(event["data"]["cancelled_at"]), event["subject"]))

    @handles("aftersales.order.ShipmentScanned")
    def scanned(self, event: Event, tx: Transaction) -> None:
        d = event["data"]
        if d["direction"] != "outbound" or d["scan"] not in ("Delivered", "CustomsReleased"):
            return
        # as the Order keeps them, by business time whatever the order scans arrive in: the
        # latest delivery (the periods run from the last good's), the earliest release
        column, kept = (("delivered_at", "<") if d["scan"] == "Delivered"
                        else ("customs_released_at", ">"))
        time = "TIMESTAMPTZ" if tx.db.is_postgres else "TEXT"  # a time: typed on PostgreSQL
        at = utc(d["occurred_at"])
        tx.execute(self.sql(f"UPDATE {{orders}} SET {column} = ? WHERE aggregate_id = ? AND "
                            f"({column} IS NULL OR {column} {kept} CAST(? AS {time}))"),
                   (at, event["subject"], at))
