"""`logistics_exceptions`: one row per logistics exception that happened, by carrier.

An exception (SPEC §3.1) is either

* a carrier's scan that is one by itself: ``Lost``, ``Damaged``, ``DeliveryFailed`` (either
  direction; keyed by the scan's event id), or
* a parcel held at customs, or without a tracking scan, for longer than the policy limit:
  ``CustomsHeld`` or ``NoScan``, only when the Order's logistics watchdog fired for the parcel
  and ``logistics.exception`` found the hold or the silence over its limit (the breach's action
  opened a proactive complaint). Keyed ``watchdog:<order aggregate>:<shipment>:<kind>:<since>``
  (one per watch, as the complaint it opens); ``occurred_at`` is when the watchdog fired,
  ``detail`` the decision's reason (since when, how many hours over which limit).

A ``CustomsHeld`` scan alone is no exception: a hold released within the limit is routine
(the `shipments` table has every hold and its hours). A hold or silence that ended before the
watchdog fired is closed as a late breach of its deadline (`deadlines`, outcome ``late``),
without a decision or a complaint, and is not counted here.

``logistics_parcels`` is the projection's own bookkeeping: the carrier and direction of every
parcel seen (a watchdog's breach names only the shipment), and the watchdog decision waiting
for the breach recorded right after it."""

from __future__ import annotations

from aftersales_core.domain.watchdog import WATCHDOG
from aftersales_core.outcomes import LogisticsException
from projections.base import Event, Projection, handles, utc
from projections.db import Transaction

SCAN_EXCEPTIONS = ("Lost", "Damaged", "DeliveryFailed")
POLICY_ID = "logistics.exception"


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
        )""", "logistics_parcels": """
        CREATE TABLE {logistics_parcels} (
            order_aggregate_id TEXT NOT NULL,
            shipment_id TEXT NOT NULL,
            carrier TEXT NOT NULL,
            direction TEXT NOT NULL,
            pending_exception TEXT,
            pending_since TIMESTAMPTZ,
            pending_detail TEXT,
            PRIMARY KEY (order_aggregate_id, shipment_id)
        )"""}
    indexes = {"logistics_carrier": "CREATE INDEX logistics_carrier ON {logistics_exceptions} "
                                    "(carrier, exception)"}

    def _insert(self, tx: Transaction, row: tuple[object, ...]) -> None:
        tx.execute(self.sql(
            "INSERT INTO {logistics_exceptions} (event_id, order_aggregate_id, shipment_id, "
            "carrier, direction, exception, occurred_at, location, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING"), row)

    @handles("aftersales.order.ShipmentScanned")
    def scanned(self, event: Event, tx: Transaction) -> None:
        d = event["data"]
        tx.execute(self.sql(
            "INSERT INTO {logistics_parcels} (order_aggregate_id, shipment_id, carrier, "
            "direction) VALUES (?, ?, ?, ?) ON CONFLICT (order_aggregate_id, shipment_id) "
            "DO NOTHING"), (event["subject"], d["shipment_id"], d["carrier"], d["direction"]))
        if d["scan"] not in SCAN_EXCEPTIONS:
            return
        self._insert(tx, (d["event_id"], event["subject"], d["shipment_id"], d["carrier"],
                          d["direction"], d["scan"], utc(d["occurred_at"]), d.get("location"),
                          d.get("detail")))

    @handles("aftersales.order.DecisionRecorded")
    def decided(self, event: Event, tx: Transaction) -> None:
        """A watchdog's ``logistics.exception`` decision: the Order records the breach of the
        parcel's deadline right after it (same aggregate, same transaction), which names the
        shipment; kept on the order's parcels until then."""
        decision = event["data"]["decision"]
        if decision["policy_id"] != POLICY_ID:
            return
        opens = LogisticsException(decision["outcome"]).opens_complaint
        inputs = decision["inputs"]
        tx.execute(self.sql(
            "UPDATE {logistics_parcels} SET pending_exception = ?, pending_since = ?, "
            "pending_detail = ? WHERE order_aggregate_id = ?"),
            (inputs["event_type"] if opens else None, utc(inputs.get("since")),
             "; ".join(decision["reasons"]), event["subject"]))

    @handles("aftersales.order.DeadlineBreached")
    def breached(self, event: Event, tx: Transaction) -> None:
        d = event["data"]
        if not d["name"].startswith(WATCHDOG):
            return
        shipment_id = d["name"].removeprefix(WATCHDOG)
        row = tx.one(self.sql(
            "SELECT carrier, direction, pending_exception, pending_since, pending_detail FROM "
            "{logistics_parcels} WHERE order_aggregate_id = ? AND shipment_id = ?"),
            (event["subject"], shipment_id))
        tx.execute(self.sql(
            "UPDATE {logistics_parcels} SET pending_exception = NULL, pending_since = NULL, "
            "pending_detail = NULL WHERE order_aggregate_id = ?"), (event["subject"],))
        if row is None or row[2] is None:
            return  # a late breach (no decision), or within the policy's limit
        carrier, direction, exception, since, detail = row
        kind = "customs_hold" if exception == "CustomsHeld" else "no_scan"
        self._insert(tx, (f"{WATCHDOG}{event['subject']}:{shipment_id}:{kind}:{since}",
                          event["subject"], shipment_id, carrier, direction, exception,
                          utc(d.get("fired_at")) or event["time"], None, detail))
