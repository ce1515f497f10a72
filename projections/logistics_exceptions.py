"""`logistics_exceptions`: lost, damaged, undeliverable and held parcels, by carrier."""

from __future__ import annotations

from projections.base import Event, Projection, handles, utc
from projections.db import Transaction

EXCEPTIONS = ("Lost", "Damaged", "DeliveryFailed", "CustomsHeld", "NoScan")


class LogisticsExceptions(Projection):
    name = "logistics_exceptions"
    tables = {"logistics_exceptions": """
        CREATE TABLE {logistics_exceptions} (
            event_id TEXT PRIMARY KEY,
            order_aggregate_id TEXT NOT NULL,
            shipment_id TEXT NOT NULL,
            carrier TEXT NOT NULL,
            direction TEXT NOT NULL,
            exception TEXT NOT NULL,
            occurred_at TIMESTAMPTZ NOT NULL,
            location TEXT,
            detail TEXT
        )"""}
    indexes = {"logistics_carrier": "CREATE INDEX logistics_carrier ON {logistics_exceptions} "
                                    "(carrier, exception)"}

    @handles("aftersales.order.ShipmentScanned")
    def scanned(self, event: Event, tx: Transaction) -> None:
        d = event["data"]
        if d["scan"] not in EXCEPTIONS:
            return
        tx.execute(self.sql(
            "INSERT INTO {logistics_exceptions} (event_id, order_aggregate_id, shipment_id, "
            "carrier, direction, exception, occurred_at, location, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING"),
            (d["event_id"], event["subject"], d["shipment_id"], d["carrier"], d["direction"],
             d["scan"], utc(d["occurred_at"]), d.get("location"), d.get("detail")))
