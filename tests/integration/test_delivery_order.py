"""The delivery every period counts from is the order's latest outbound delivery by business
time (Directive 2011/83/EU art. 9(2)(b): the delivery of the last good), whatever order the
parcels' scans are ingested in; the decision names it, and the `orders` read model holds the
same delivery and the earliest customs release, after a rebuild as after the runner."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

from aftersales_core.application.services import Services
from projections.db import ReadDatabase
from tests.factories import caller, ingest, order_paid, order_placed, shipment
from tests.read_models import applied_by_a_runner, rebuilt_from

FIRST = datetime.fromisoformat("2026-06-01T08:00:00+00:00")  # 10:00 in Berlin
LAST = datetime.fromisoformat("2026-06-10T08:00:00+00:00")
ASKED = datetime.fromisoformat("2026-06-20T08:00:00+00:00")  # day 19 after the first parcel


def two_parcels(app: Services, order_id: str, arrival: tuple[str, ...]) -> None:
    placed = order_placed(order_id, at=datetime.fromisoformat("2026-05-28T08:00:00+00:00"))
    when = {"s1": FIRST, "s2": LAST}
    ingest(app, placed, order_paid(placed),
           shipment(order_id, "CustomsReleased", LAST, shipment_id="s2"),
           shipment(order_id, "CustomsReleased", FIRST, shipment_id="s1"),
           *(shipment(order_id, "Delivered", when[s], shipment_id=s) for s in arrival))


def test_the_same_scans_in_any_order_give_the_same_window(app: Services) -> None:
    two_parcels(app, "o-12", ("s1", "s2"))
    two_parcels(app, "o-21", ("s2", "s1"))
    outcomes = []
    for order_id in ("o-12", "o-21"):
        result = app.returns.request(caller(app, "customer-c-1"), uuid4(), order_id,
                                     [{"line_id": "2", "quantity": 1}], "changed_mind",
                                     "refund", ASKED)
        decision = result.decisions[0]
        assert decision.inputs["delivered_at"] == LAST.isoformat()  # the delivery it counted
        assert decision.details["window_last_day"] == "2026-06-24"
        outcomes.append(result.status)
    assert outcomes == ["approved", "approved"]


def facts(db: ReadDatabase, table: str = "orders") -> dict[str, Any]:
    return {r["order_id"]: (r["delivered_at"], r["customs_released_at"])
            for r in db.query(f"SELECT * FROM {table}")}


def test_the_orders_read_model_keeps_the_latest_delivery_and_earliest_release(
        app: Services, read_db: ReadDatabase, tmp_path: Path) -> None:
    two_parcels(app, "o-12", ("s1", "s2"))
    two_parcels(app, "o-21", ("s2", "s1"))
    wanted = (LAST.isoformat(), FIRST.isoformat())
    applied_by_a_runner(app, read_db)
    assert facts(read_db) == {"o-12": wanted, "o-21": wanted}
    rebuilt = rebuilt_from(app, tmp_path, ["orders"])
    assert facts(rebuilt) == facts(read_db)
    rebuilt.close()


def weeks(db: ReadDatabase) -> dict[str, tuple[str, set[str]]]:
    """Each order's product week and the weeks of its lines."""
    lines: dict[str, set[str]] = {}
    for r in db.query("SELECT order_aggregate_id, week FROM product_lines"):
        lines.setdefault(r["order_aggregate_id"], set()).add(r["week"])
    return {r["order_id"]: (r["week"], lines.get(r["order_aggregate_id"], set()))
            for r in db.query("SELECT order_id, order_aggregate_id, week FROM product_orders")}


def test_product_signals_count_an_order_in_the_week_of_its_first_delivery_by_time(
        app: Services, read_db: ReadDatabase, tmp_path: Path) -> None:
    """The week of the first parcel (1 June), also when its scan arrives after the second's
    (10 June, the next week): it stayed in the week of the scan ingested first."""
    two_parcels(app, "o-12", ("s1", "s2"))
    two_parcels(app, "o-21", ("s2", "s1"))
    applied_by_a_runner(app, read_db)
    wanted = ("2026-06-01", {"2026-06-01"})
    assert weeks(read_db) == {"o-12": wanted, "o-21": wanted}
    rebuilt = rebuilt_from(app, tmp_path, ["product_signals"])
    assert weeks(rebuilt) == weeks(read_db)
    counts = "SELECT order_id, delivered, units_sold FROM product_orders ORDER BY order_id"
    assert rebuilt.query(counts) == read_db.query(counts)
    rebuilt.close()
