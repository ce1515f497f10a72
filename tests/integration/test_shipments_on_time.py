"""A parcel is on time when delivered by the promised date: the delivery's calendar date in
the promise's own offset against the promised date, not the delivery's instant against the
promise's (a promise of 10 July 00:00 is kept by a delivery that afternoon). The same after the
runner as after a rebuild, and when the scans come before the order (topics are not ordered
with each other)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from aftersales_core.application.services import Services
from projections.db import ReadDatabase
from projections.insights.carriers import carriers
from projections.shipments import promise, promised_by
from tests.factories import ingest, order_paid, order_placed, shipment
from tests.read_models import applied_by_a_runner, rebuilt_from

PROMISED = "2026-07-10T00:00:00-03:00"  # 10 July in Brazil
DELIVERIES = {
    "early": "2026-07-06T09:00:00-03:00",
    "that-afternoon": "2026-07-10T15:00:00-03:00",  # 18:00 UTC: after the promise's instant
    "last-minute": "2026-07-10T23:59:59-03:00",  # 11 July 02:59:59 UTC
    "next-day": "2026-07-11T00:00:00-03:00",
}
WANTED = {"early": 1, "that-afternoon": 1, "last-minute": 1, "next-day": 0, "scan-first": 1}


def shop(app: Services) -> None:
    for order_id, delivered in DELIVERIES.items():
        placed = order_placed(order_id, market="BR", currency="BRL", fulfilment="domestic",
                              at=datetime.fromisoformat("2026-07-01T10:00:00-03:00"),
                              estimated_delivery_at=PROMISED)
        ingest(app, placed, order_paid(placed),
               shipment(order_id, "Dispatched",
                        datetime.fromisoformat("2026-07-02T10:00:00-03:00")),
               shipment(order_id, "Delivered", datetime.fromisoformat(delivered)))
    late_order = order_placed("scan-first", market="BR", currency="BRL", fulfilment="domestic",
                              at=datetime.fromisoformat("2026-07-01T10:00:00-03:00"),
                              estimated_delivery_at=PROMISED)
    ingest(app, shipment("scan-first", "Delivered",
                         datetime.fromisoformat(DELIVERIES["that-afternoon"])), late_order)


def on_time(db: ReadDatabase) -> dict[str, int | None]:
    return {r["order_id"]: r["on_time"] for r in
            db.query("SELECT * FROM shipments WHERE direction = 'outbound'")}


def test_delivered_on_the_promised_date_is_on_time_after_runner_and_rebuild(
        app: Services, read_db: ReadDatabase, tmp_path: Path) -> None:
    shop(app)
    applied_by_a_runner(app, read_db)
    assert on_time(read_db) == WANTED
    rebuilt = rebuilt_from(app, tmp_path, ["shipments"])
    assert on_time(rebuilt) == WANTED
    rebuilt.close()


def test_the_promised_date_ends_at_midnight_in_the_promises_own_offset() -> None:
    assert promised_by(PROMISED) == "2026-07-11T03:00:00+00:00"
    assert promised_by("2026-07-10T23:30:00+09:00") == "2026-07-10T15:00:00+00:00"
    assert promised_by("2026-07-10T12:00:00") is None  # no offset: no promise to judge
    assert promised_by("soon") is None and promised_by(None) is None


DATE_ONLY = {  # promised "2026-03-05" (a date alone): kept until that day ends for the buyer
    "berlin-late-evening": ("DE", None, "2026-03-05T23:30:00+01:00", 1),
    "berlin-after-midnight": ("DE", None, "2026-03-06T00:30:00+01:00", 0),  # 23:30 UTC on 5th
    "new-york-evening": ("DE", "America/New_York", "2026-03-05T23:00:00-05:00", 1),  # 6th UTC
    "tokyo-after-midnight": ("DE", "Asia/Tokyo", "2026-03-06T00:30:00+09:00", 0),  # 5th UTC
}


def test_a_promised_date_without_a_time_ends_with_that_day_in_the_buyers_zone(
        app: Services, read_db: ReadDatabase, tmp_path: Path) -> None:
    """It was no promise at all (the on-time rate left such parcels out): SPEC counts days to
    their end in the buyer's time zone, the order's buyer_timezone else the market's."""
    for order_id, (market, zone, delivered, _) in DATE_ONLY.items():
        placed = order_placed(order_id, market=market, estimated_delivery_at="2026-03-05",
                              at=datetime.fromisoformat("2026-03-01T10:00:00+00:00"),
                              **({"buyer_timezone": zone} if zone else {}))
        ingest(app, placed, order_paid(placed),
               shipment(order_id, "Dispatched",
                        datetime.fromisoformat("2026-03-02T10:00:00+00:00")),
               shipment(order_id, "Delivered", datetime.fromisoformat(delivered)))
    wanted = {order_id: kept for order_id, (*_, kept) in DATE_ONLY.items()}
    applied_by_a_runner(app, read_db)
    assert on_time(read_db) == wanted
    rebuilt = rebuilt_from(app, tmp_path, ["shipments"])
    assert on_time(rebuilt) == wanted
    rebuilt.close()
    cards = carriers(read_db).view("scorecards").rows
    assert [(c["on_time"].k, c["on_time"].n) for c in cards] == [(2, 4)]


def test_a_date_alone_is_read_in_the_zone_given_and_a_time_in_its_own_offset() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    assert promise("2026-03-05", berlin) == ("2026-03-04T23:00:00+00:00",
                                             "2026-03-05T23:00:00+00:00")
    assert promise("2026-03-28", berlin)[1] == "2026-03-28T23:00:00+00:00"  # 29th: summer time
    assert promise("2026-03-29", berlin)[1] == "2026-03-29T22:00:00+00:00"
    assert promise("2026-03-05") == (None, None)  # no zone: no instant
    assert promise(PROMISED, berlin) == ("2026-07-10T03:00:00+00:00",
                                         "2026-07-11T03:00:00+00:00")
