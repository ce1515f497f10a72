"""`shipments`: one row per parcel (outbound or return) with its carrier, route, promise and
what happened to it, for carrier scorecards; `shipment_orders` holds the order facts the rows
copy (market, promised delivery). Both come from the Order's own events, which arrive in order."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from aftersales_core.errors import InvalidCommandError
from aftersales_core.policies.calendar import MARKET_ZONES, buyer_zone, every_market
from projections.base import Event, Projection, handles, utc
from projections.db import Transaction
from projections.insights.periods import hours_between, month_of, week_of
from projections.orders import promised

# scan -> (column set on the first such scan)
FIRST_SCAN = {"Dispatched": "dispatched_at", "Delivered": "delivered_at", "Lost": "lost_at",
              "Damaged": "damaged_at", "CustomsHeld": "customs_held_at"}


def promise(value: Any, where: tzinfo | None = None) -> tuple[str | None, str | None]:
    """(the promise, the end of its date) as UTC text, or (None, None) when there is none to
    judge. A time (RFC 3339 with an offset) is read in its own offset: "delivered by the
    promised date" compares calendar dates there, so a promise of ``2026-07-10T00:00-03:00`` is
    kept by a delivery at any hour of 10 July in that offset. A date alone (``2026-03-05``)
    is that day in the buyer's zone ``where`` (SPEC: days end in the buyer's time zone): from
    its midnight to the next one there. A time without an offset, or a date without a zone,
    says no instant: no promise."""
    if not isinstance(value, str):
        return None, None
    try:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            start = datetime.fromisoformat(value)
        else:
            if where is None:
                return None, None
            start = datetime.combine(day, time(0), where)
        if start.tzinfo is None:
            return None, None
        end = datetime.combine(start.date() + timedelta(days=1), time(0), start.tzinfo)
        return start.astimezone(UTC).isoformat(), end.astimezone(UTC).isoformat()
    except (ValueError, OverflowError):
        return None, None


def promised_by(value: Any, where: tzinfo | None = None) -> str | None:
    """The end of the promised date, as UTC text (``promise``)."""
    return promise(value, where)[1]


_ZONES = every_market(MARKET_ZONES)


def buyers_zone(data: dict[str, Any]) -> tzinfo:
    """Where the buyer's days end: the order's ``buyer_timezone``, else its market's default
    zone (every market has one), else anywhere on Earth (aftersales_core/policies/calendar.py,
    as deadlines v6 count)."""
    zones = _ZONES
    try:
        return buyer_zone(data.get("buyer_timezone"), data.get("market") or "", zones).info
    except InvalidCommandError:  # a zone this machine does not know: the market's default
        return buyer_zone(None, data.get("market") or "", zones).info


ROW_COLUMNS = ("scans", "last_scan_at", "origin", "destination", "promised_at",
               "failed_deliveries", "customs_released_at", *FIRST_SCAN.values())


class Shipments(Projection):
    name = "shipments"
    tables = {
        "shipment_orders": """
        CREATE TABLE {shipment_orders} (
            order_aggregate_id TEXT PRIMARY KEY,
            order_id TEXT,
            market TEXT,
            promised_at TIMESTAMPTZ,
            promised_by TIMESTAMPTZ
        )""",
        "shipments": """
        CREATE TABLE {shipments} (
            order_aggregate_id TEXT NOT NULL,
            shipment_id TEXT NOT NULL,
            order_id TEXT,
            market TEXT,
            carrier TEXT NOT NULL,
            direction TEXT NOT NULL,
            origin TEXT,
            destination TEXT,
            first_scan_at TIMESTAMPTZ NOT NULL,
            month TEXT NOT NULL,
            promised_at TIMESTAMPTZ,
            dispatched_at TIMESTAMPTZ,
            delivered_at TIMESTAMPTZ,
            delivered_week TEXT,
            on_time INTEGER,
            transit_hours DOUBLE PRECISION,
            lost_at TIMESTAMPTZ,
            damaged_at TIMESTAMPTZ,
            failed_deliveries INTEGER NOT NULL DEFAULT 0,
            customs_held_at TIMESTAMPTZ,
            customs_released_at TIMESTAMPTZ,
            customs_hold_hours DOUBLE PRECISION,
            scans INTEGER NOT NULL DEFAULT 0,
            last_scan TEXT,
            last_scan_at TIMESTAMPTZ,
            PRIMARY KEY (order_aggregate_id, shipment_id)
        )""",
    }
    indexes = {"shipments_carrier": "CREATE INDEX shipments_carrier ON {shipments} "
                                    "(direction, carrier, month)"}

    @handles("aftersales.order.Registered")
    def registered(self, event: Event, tx: Transaction) -> None:
        tx.execute(self.sql("INSERT INTO {shipment_orders} (order_aggregate_id, order_id) "
                            "VALUES (?, ?) ON CONFLICT (order_aggregate_id) DO NOTHING"),
                   (event["subject"], event["data"]["order_id"]))

    @handles("aftersales.order.Placed")
    def placed(self, event: Event, tx: Transaction) -> None:
        """The order's market and promise; scans may have come first (upstream topics are not
        ordered with each other), so rows already there get them too."""
        d = event["data"]
        promised_at, by = promise(promised(d), buyers_zone(d))
        tx.execute(self.sql("UPDATE {shipment_orders} SET market = ?, promised_at = ?, "
                            "promised_by = ? WHERE order_aggregate_id = ?"),
                   (d["market"], promised_at, by, event["subject"]))
        kind = "TIMESTAMPTZ" if tx.db.is_postgres else "TEXT"  # a time: typed on PostgreSQL
        tx.execute(self.sql(
            "UPDATE {shipments} SET market = ?, promised_at = CASE direction WHEN 'outbound' "
            f"THEN CAST(? AS {kind}) END, on_time = CASE WHEN direction <> 'outbound' OR "
            f"delivered_at IS NULL OR CAST(? AS {kind}) IS NULL THEN NULL WHEN delivered_at < "
            f"CAST(? AS {kind}) THEN 1 ELSE 0 END WHERE order_aggregate_id = ?"),
            (d["market"], promised_at, by, by, event["subject"]))

    @handles("aftersales.order.ShipmentScanned")
    def scanned(self, event: Event, tx: Transaction) -> None:
        d, order = event["data"], event["subject"]
        at = utc(d["occurred_at"])
        assert at is not None
        key = (order, d["shipment_id"])
        row = self._row(tx, key)
        if row is None:
            facts = tx.one(self.sql("SELECT order_id, market, promised_at FROM "
                                    "{shipment_orders} WHERE order_aggregate_id = ?"), (order,))
            order_id, market, promised = facts if facts is not None else (None, None, None)
            row = {**dict.fromkeys(ROW_COLUMNS), "scans": 0, "failed_deliveries": 0,
                   "promised_at": promised if d["direction"] == "outbound" else None}
            tx.execute(self.sql(
                "INSERT INTO {shipments} (order_aggregate_id, shipment_id, order_id, market, "
                "carrier, direction, first_scan_at, month, promised_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                (*key, order_id, market, d["carrier"], d["direction"], at, month_of(at),
                 row["promised_at"]))
        changes: dict[str, Any] = {"scans": row["scans"] + 1}
        if row["last_scan_at"] is None or at >= row["last_scan_at"]:
            changes.update(last_scan=d["scan"], last_scan_at=at)
        column = FIRST_SCAN.get(d["scan"])
        if column is not None and (row[column] is None or at < row[column]):
            changes[column] = at
        if d["scan"] == "Dispatched" and changes.get("dispatched_at"):
            changes.update(origin=d.get("location") or row["origin"], month=month_of(at))
        if d["scan"] == "Delivered" and changes.get("delivered_at"):
            changes.update(destination=d.get("location") or row["destination"],
                           delivered_week=week_of(at))
        if d["scan"] == "DeliveryFailed":
            changes["failed_deliveries"] = row["failed_deliveries"] + 1
        held = changes.get("customs_held_at", row["customs_held_at"])
        if d["scan"] == "CustomsReleased" and held is not None and at >= held \
                and row["customs_released_at"] is None:
            changes.update(customs_released_at=at, customs_hold_hours=hours_between(held, at))
        merged = {**row, **changes}
        if merged["delivered_at"] is not None:
            start = merged["dispatched_at"]
            changes["transit_hours"] = hours_between(start, merged["delivered_at"])
            changes["on_time"] = None if merged["promised_at"] is None else \
                self._kept(tx, order, merged["delivered_at"])
        names = ", ".join(f"{c} = ?" for c in changes)
        tx.execute(self.sql(f"UPDATE {{shipments}} SET {names} WHERE order_aggregate_id = ? "
                            "AND shipment_id = ?"), (*changes.values(), *key))

    def _kept(self, tx: Transaction, order: str, delivered_at: str) -> int | None:
        """1 when delivered by the promised date (before the end of that date), else 0."""
        found = tx.one(self.sql("SELECT promised_by FROM {shipment_orders} "
                                "WHERE order_aggregate_id = ?"), (order,))
        by = None if found is None else found[0]
        return None if by is None else int(delivered_at < by)

    def _row(self, tx: Transaction, key: tuple[str, str]) -> dict[str, Any] | None:
        row = tx.one(self.sql(f"SELECT {', '.join(ROW_COLUMNS)} FROM {{shipments}} WHERE "
                              "order_aggregate_id = ? AND shipment_id = ?"), key)
        return None if row is None else dict(zip(ROW_COLUMNS, row, strict=True))
