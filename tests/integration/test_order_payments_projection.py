"""A payment re-sent under a new event id with the same payment id is stored as a second
``Paid`` (the event id is new), and the Order counts it once: the `orders` read model does too,
after the runner as after a rebuild, so `insights refunds` shares out what was really paid."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from aftersales_core.application.services import Services
from aftersales_core.domain.ids import order_aggregate_id
from aftersales_core.domain.order import Order
from projections.db import ReadDatabase
from tests.factories import ingest, order_paid, order_placed
from tests.read_models import applied_by_a_runner, rebuilt_from


def paid(db: ReadDatabase) -> dict[str, Decimal]:
    return {r["order_id"]: Decimal(r["paid"]) for r in db.query("SELECT * FROM orders")}


def test_a_payment_re_sent_under_a_new_event_id_is_paid_once_in_the_read_model(
        app: Services, read_db: ReadDatabase, tmp_path: Path) -> None:
    placed, split = order_placed("o-1"), order_placed("o-2")
    payment = order_paid(placed)
    again = {**payment, "event_id": "o-1-paid-again"}
    first = {**order_paid(split), "payment_id": "p-a", "amount": "50.00"}
    second = {**order_paid(split), "event_id": "o-2-paid-b", "payment_id": "p-b",
              "amount": "74.00"}
    first_again = {**first, "event_id": "o-2-paid-a-again"}
    results = ingest(app, placed, payment, again, split, first, second, first_again)
    assert all(r.applied for r in results)  # new event ids: stored, as the Order sees them
    domain = {o: app.store.load(Order, order_aggregate_id(o)).paid.amount
              for o in ("o-1", "o-2")}
    assert domain == {"o-1": Decimal(placed["total"]), "o-2": Decimal("124.00")}

    applied_by_a_runner(app, read_db)
    assert paid(read_db) == domain
    rebuilt = rebuilt_from(app, tmp_path, ["orders"])
    assert paid(rebuilt) == domain
    rebuilt.close()


def test_a_re_sent_payment_with_another_amount_counts_its_latest_amount(
        app: Services, read_db: ReadDatabase) -> None:
    placed = order_placed("o-1")
    payment = order_paid(placed)
    later = (datetime.fromisoformat(payment["occurred_at"]) + timedelta(minutes=1)).isoformat()
    ingest(app, placed, {**payment, "amount": "10.00"},
           {**payment, "event_id": "o-1-paid-fixed", "occurred_at": later})
    domain = app.store.load(Order, order_aggregate_id("o-1")).paid.amount
    assert domain == Decimal(placed["total"])
    applied_by_a_runner(app, read_db)
    assert paid(read_db) == {"o-1": domain}

