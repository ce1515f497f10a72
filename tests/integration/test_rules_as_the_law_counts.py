"""Issue 10 through the application on both stores: the calendar-day window in the buyer's
zone, the bonded zone counted on arrival with the buyer's quota ledger, returned quantities
capped across cases, one proactive case per shipment and kind, returnless only when the
merchant pays, goodwill booked as goodwill."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from aftersales.bootstrap import store_reader
from aftersales_core.application.access import Caller
from aftersales_core.application.services import Services
from aftersales_core.domain.complaints import ComplaintCase
from aftersales_core.domain.ids import case_id_for, order_aggregate_id, quota_aggregate_id
from aftersales_core.domain.order import Order
from aftersales_core.domain.quota import BuyerQuota
from aftersales_core.domain.refunds import RefundCase
from aftersales_core.domain.returns import ReturnCase
from projections.db import ReadDatabase
from projections.rebuild import rebuild
from tests.factories import caller, customer, ingest, order_paid, order_placed, shipment

RELEASED = datetime.fromisoformat("2026-04-01T02:00:00+00:00")  # 10:00 in Shanghai


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def request(app: Services, order_id: str, when: datetime, reason: str = "changed_mind",
            lines: list[dict[str, Any]] | None = None) -> Any:
    """The order's own customer requests the return (customer-<their id>)."""
    return app.returns.request(buyer(app, order_id), uuid4(), order_id,
                               lines or [{"line_id": "1", "quantity": 1}], reason, "refund", when)


def buyer(app: Services, order_id: str) -> Caller:
    order = app.store.load(Order, order_aggregate_id(order_id))
    return customer(app, order.customer_id or "")


# ---- item 1: a window ends at the end of its last day, in the buyer's calendar ----------------

def test_a_withdrawal_on_the_evening_of_day_14_in_berlin_is_accepted(app: Services) -> None:
    placed = order_placed("o-de", market="DE", currency="EUR", at=at("2026-05-20T08:00:00+00:00"))
    ingest(app, placed, order_paid(placed),
           shipment("o-de", "Delivered", at("2026-06-01T10:00:00+00:00")))
    on_time = request(app, "o-de", at("2026-06-15T20:00:00+00:00"))  # 22:00 in Berlin
    assert on_time.status == "approved"
    details = on_time.decisions[0].details
    assert (details["zone"], details["window_last_day"]) == ("Europe/Berlin", "2026-06-15")
    late = request(app, "o-de", at("2026-06-15T22:00:00+00:00"), lines=[
        {"line_id": "2", "quantity": 1}])  # midnight in Berlin: 16 June
    assert late.status == "rejected"
    assert "ended at the end of 2026-06-15 (Europe/Berlin)" in " ".join(late.decisions[0].reasons)


def test_the_buyers_own_zone_counts_where_the_utc_date_is_another(app: Services) -> None:
    placed = order_placed("o-us", market="US", currency="USD", fulfilment="domestic",
                          buyer_timezone="America/Los_Angeles",
                          at=at("2026-05-01T08:00:00+00:00"))
    ingest(app, placed, order_paid(placed),
           shipment("o-us", "Delivered", at("2026-05-02T05:00:00+00:00")))  # 1 May, 22:00 LA
    # day 30 after 1 May is 31 May; 06:59 UTC on 1 June is still 31 May in Los Angeles
    assert request(app, "o-us", at("2026-06-01T06:59:00+00:00")).status == "approved"
    late = request(app, "o-us", at("2026-06-01T07:00:00+00:00"), lines=[
        {"line_id": "2", "quantity": 1}])
    assert late.status == "rejected"
    assert late.decisions[0].details["zone_source"] == "buyer"


# ---- item 3: the bonded zone counts on arrival; the quota ledger ---------------------------

def bonded_order(app: Services, order_id: str = "o-cn") -> None:
    lines = [{"line_id": "1", "sku": "SERUM", "category": "cosmetics", "quantity": 1,
              "unit_price": "599.00"}]
    placed = order_placed(order_id, market="CN", currency="CNY", fulfilment="bonded",
                          customer_id="c-cn", lines=lines, shipping_fee="0.00",
                          taxes="54.51", at=RELEASED - timedelta(days=2))
    ingest(app, placed, order_paid(placed),
           shipment(order_id, "CustomsReleased", RELEASED),
           shipment(order_id, "Delivered", RELEASED + timedelta(days=2)))


def return_arriving(app: Services, arrives_after_release: timedelta,
                    order_id: str = "o-cn") -> tuple[ReturnCase, RefundCase]:
    rid = request(app, order_id, RELEASED + timedelta(days=3)).case_id
    ingest(app,
           shipment(order_id, "Dispatched", RELEASED + timedelta(days=40), direction="return"),
           shipment(order_id, "Delivered", RELEASED + arrives_after_release, direction="return"))
    after = RELEASED + arrives_after_release + timedelta(hours=2)
    app.returns.inspect(caller(app, "warehouse-1"), rid, "A", after)
    resolved = app.resolutions.resolve(caller(app, "agent-1"), rid, after)
    refund_id = UUID(resolved.related["refund_case_id"])
    return app.store.load(ReturnCase, rid), app.store.load(RefundCase, refund_id)


def quota(app: Services) -> BuyerQuota:
    return app.store.load(BuyerQuota, quota_aggregate_id("c-cn", 2026))


def test_paying_a_bonded_order_uses_the_buyers_annual_quota(app: Services) -> None:
    bonded_order(app)
    ledger = quota(app)
    assert ledger.used_by("o-cn") is not None
    assert (str(ledger.used.amount), str(ledger.remaining.amount)) == ("599.00", "25401.00")
    lines = [{"line_id": "1", "sku": "SERUM", "category": "cosmetics", "quantity": 1,
              "unit_price": "599.00"}]
    placed = order_placed("o-cn", market="CN", currency="CNY", fulfilment="bonded",
                          customer_id="c-cn", lines=lines, shipping_fee="0.00",
                          taxes="54.51", at=RELEASED - timedelta(days=2))
    assert not ingest(app, order_paid(placed))[0].applied  # redelivered: the same message
    assert quota(app).version == ledger.version


def test_a_return_back_in_the_bonded_zone_on_day_45_is_a_customs_return(
        app: Services) -> None:
    bonded_order(app)
    # day 45 after 1 April is 16 May; 15:59 UTC is 23:59 in Shanghai
    case, refund = return_arriving(app, at("2026-05-16T15:59:00+00:00") - RELEASED)
    customs = case.latest("return.customs_return")
    assert customs is not None and customs.outcome == "customs_return"
    assert refund.components == {"items": "599.00", "taxes": "54.51"}
    assert str(quota(app).restored.amount) == "599.00"
    assert str(quota(app).remaining.amount) == "26000.00"


def test_a_return_that_arrives_on_day_46_is_no_customs_return(app: Services) -> None:
    bonded_order(app)
    case, refund = return_arriving(app, at("2026-05-16T16:00:00+00:00") - RELEASED)
    customs = case.latest("return.customs_return")
    assert customs is not None and customs.outcome == "not_customs_return"
    assert "arrived back in the bonded zone on 2026-05-17" in customs.reasons[0]
    assert refund.components == {"items": "599.00"}  # shipped on day 40, but arrived late
    assert quota(app).restored.is_zero()
    assert str(quota(app).remaining.amount) == "25401.00"


def test_a_refund_before_the_goods_are_back_in_the_bonded_zone_keeps_the_tax(
        app: Services) -> None:
    """Staff may refund a cross-border return before its goods arrive; the cross-border tax is
    refundable only once customs counts it a customs return (arrived in time), so it waits."""
    bonded_order(app)
    rid = request(app, "o-cn", RELEASED + timedelta(days=3)).case_id
    ahead = app.refunds.request(caller(app, "agent-1"), uuid4(), "o-cn", "return",
                                "refunded ahead of the goods", RELEASED + timedelta(days=4),
                                source_case_id=str(rid), lines=[{"line_id": "1", "quantity": 1}])
    assert app.store.load(RefundCase, ahead.case_id).components == {"items": "599.00"}
    assert ahead.decisions[0].inputs["tax_refundable"] is False
    ingest(app, shipment("o-cn", "Delivered", RELEASED + timedelta(days=20), direction="return"))
    after = RELEASED + timedelta(days=21)
    app.returns.inspect(caller(app, "warehouse-1"), rid, "A", after)
    resolved = app.resolutions.resolve(caller(app, "agent-1"), rid, after)
    rest = app.store.load(RefundCase, UUID(resolved.related["refund_case_id"]))
    assert rest.components == {"taxes": "54.51"}  # a customs return now: the tax follows


def test_a_customs_return_restores_the_quota_the_returned_goods_used(app: Services) -> None:
    """The quota counted the bag at 3,000.00 less its 300.00 share of the discount plus its
    30.00 share of the freight: its return restores 2,730.00, not its 3,000.00 list price."""
    lines = [{"line_id": "1", "sku": "BAG", "category": "bags", "quantity": 1,
              "unit_price": "3000.00"},
             {"line_id": "2", "sku": "WATCH", "category": "watches", "quantity": 1,
              "unit_price": "2000.00"}]
    placed = order_placed("o-cn", market="CN", currency="CNY", fulfilment="bonded",
                          customer_id="c-cn", lines=lines, shipping_fee="50.00",
                          taxes="414.05", at=RELEASED - timedelta(days=2), discount="500.00")
    placed["total"] = "4964.05"
    ingest(app, placed, order_paid(placed), shipment("o-cn", "CustomsReleased", RELEASED),
           shipment("o-cn", "Delivered", RELEASED + timedelta(days=2)))
    assert str(quota(app).used.amount) == "4550.00"
    case, refund = return_arriving(app, timedelta(days=44))
    customs = case.latest("return.customs_return")
    assert customs is not None and customs.details["quota_restored"] == "2730.00"
    assert str(quota(app).restored.amount) == "2730.00"
    assert refund.components["items"] == "2700.00"


def test_case_show_and_the_read_model_show_the_buyers_quota(
        app: Services, tmp_path: Any) -> None:
    bonded_order(app)
    case, _ = return_arriving(app, timedelta(days=44))
    auditor = caller(app, "auditor-1")
    shown = app.reads.case(auditor, case.id).to_json()["buyer_quota"]
    assert shown is not None
    assert (shown["year"], shown["used"], shown["restored"], shown["remaining"]) == (
        2026, "599.00", "599.00", "26000.00")
    assert shown["this_order_used"] == "599.00"
    before = app.reads.case(auditor, case.id, RELEASED + timedelta(days=5)).to_json()[
        "buyer_quota"]
    assert before is not None and before["restored"] == "0.00"
    db = ReadDatabase(f"sqlite:///{tmp_path / 'read.sqlite'}")
    rebuild(db, ["buyer_quota"], store_reader(app))
    with db.transaction() as tx:
        row = tx.one("SELECT customer_id, year, used, restored, remaining, orders, "
                     "customs_returns FROM buyer_quota", ())
        tx.execute("SELECT kind, amount FROM buyer_quota_entries ORDER BY position")
        kinds = tx.cursor.fetchall()
    assert row is not None and tuple(row) == ("c-cn", 2026, "599.00", "599.00", "26000.00", 1, 1)
    assert [tuple(k) for k in kinds] == [("used", "599.00"), ("restored", "599.00")]


# ---- item 5: returned quantities are capped across cases ----------------------------------

def test_a_second_return_of_units_already_returned_is_rejected_with_its_reason(
        app: Services) -> None:
    lines = [{"line_id": "1", "sku": "MUG", "category": "home", "quantity": 2,
              "unit_price": "40.00"}]
    placed = order_placed("o-2", market="US", currency="USD", fulfilment="domestic", lines=lines,
                          shipping_fee="10.00", taxes="0.00", at=RELEASED)
    ingest(app, placed, order_paid(placed),
           shipment("o-2", "Delivered", RELEASED + timedelta(days=2)))
    first = request(app, "o-2", RELEASED + timedelta(days=3),
                    lines=[{"line_id": "1", "quantity": 2}])
    assert first.status == "approved"
    second = request(app, "o-2", RELEASED + timedelta(days=4))
    assert second.status == "rejected"
    assert "return.quantity_left" in second.decisions[0].rules
    order = app.store.load(Order, order_aggregate_id("o-2"))
    assert order.units_in_returns("1") == 2
    app.returns.cancel(buyer(app, "o-2"), first.case_id, RELEASED + timedelta(days=5))  # units back
    assert app.store.load(Order, order_aggregate_id("o-2")).units_in_returns("1") == 0
    assert request(app, "o-2", RELEASED + timedelta(days=6)).status == "approved"


# ---- item 6: one proactive case per shipment and kind -------------------------------------

def test_a_second_lost_scan_with_a_new_event_id_opens_nothing_more(app: Services) -> None:
    placed = order_placed("o-lost", at=RELEASED)
    lost = shipment("o-lost", "Lost", RELEASED + timedelta(days=9))
    again = {**lost, "event_id": "another-id-for-the-same-loss",
             "occurred_at": (RELEASED + timedelta(days=10)).isoformat()}
    ingest(app, placed, order_paid(placed), lost, again)
    order = app.store.load(Order, order_aggregate_id("o-lost"))
    assert len(order.case_ids("complaint")) == 1
    assert len(order.case_ids("refund")) == 1
    complaint = app.store.load(ComplaintCase, UUID(order.case_ids("complaint")[0]))
    assert complaint.proactive


# ---- item 7: returnless only when the merchant pays ----------------------------------------

def test_a_changed_mind_item_worth_less_than_its_return_label_is_not_returnless(
        app: Services) -> None:
    lines = [{"line_id": "1", "sku": "CASE", "category": "phones", "quantity": 1,
              "unit_price": "20.00"}]
    placed = order_placed("o-rl", market="US", currency="USD", lines=lines, taxes="0.00",
                          at=RELEASED)
    ingest(app, placed, order_paid(placed),
           shipment("o-rl", "Delivered", RELEASED + timedelta(days=2)))
    buyer_pays = app.returns.request(buyer(app, "o-rl"), uuid4(), "o-rl",
                                     [{"line_id": "1", "quantity": 1}], "changed_mind", "refund",
                                     RELEASED + timedelta(days=3),
                                     return_shipping_estimate=Decimal("40.00"))
    shipping = buyer_pays.decisions[-1]
    assert (shipping.outcome, shipping.details["returnless"]) == ("buyer", False)
    assert "shipping.returnless_merchant_choice" in shipping.rules
    app.returns.cancel(buyer(app, "o-rl"), buyer_pays.case_id,
                       RELEASED + timedelta(days=3, hours=1))
    merchant_pays = app.returns.request(buyer(app, "o-rl"), uuid4(), "o-rl",
                                        [{"line_id": "1", "quantity": 1}], "defective", "refund",
                                        RELEASED + timedelta(days=4),
                                        return_shipping_estimate=Decimal("40.00"))
    assert merchant_pays.decisions[-1].details["returnless"] is True


# ---- item 8: goodwill is goodwill -------------------------------------------------------

def test_a_goodwill_refund_is_booked_as_goodwill(app: Services) -> None:
    placed = order_placed("o-gw", at=RELEASED)
    ingest(app, placed, order_paid(placed))
    done = app.refunds.request(caller(app, "agent-1"), uuid4(), "o-gw", "goodwill",
                               "sorry for the wait", RELEASED + timedelta(days=1),
                               amount=Decimal("15.00"))
    assert app.store.load(RefundCase, done.case_id).components == {"goodwill": "15.00"}


def test_a_return_delivery_scan_receives_the_goods_and_leaves_a_returnless_return_alone(
        app: Services) -> None:
    """An order with a returnless return (the buyer keeps the item) and a return whose goods
    come back: the carrier's Delivered scan receives the second and passes the first by."""
    lines = [{"line_id": "1", "sku": "CASE", "category": "phones", "quantity": 1,
              "unit_price": "20.00"},
             {"line_id": "2", "sku": "TV-1", "category": "electronics", "quantity": 1,
              "unit_price": "400.00"}]
    placed = order_placed("o-mix", market="US", currency="USD", lines=lines, taxes="0.00",
                          at=RELEASED)
    ingest(app, placed, order_paid(placed),
           shipment("o-mix", "Delivered", RELEASED + timedelta(days=2)))
    kept = app.returns.request(buyer(app, "o-mix"), uuid4(), "o-mix",
                               [{"line_id": "1", "quantity": 1}], "defective", "refund",
                               RELEASED + timedelta(days=3),
                               return_shipping_estimate=Decimal("40.00"))
    assert (kept.status, kept.decisions[-1].details["returnless"]) == ("approved", True)
    back = app.returns.request(buyer(app, "o-mix"), uuid4(), "o-mix",
                               [{"line_id": "2", "quantity": 1}], "defective", "refund",
                               RELEASED + timedelta(days=3, hours=1))
    assert back.status == "approved"
    [done] = ingest(app, shipment("o-mix", "Delivered", RELEASED + timedelta(days=6),
                                  direction="return", shipment_id="rs-1"))
    assert done.applied and f"return {back.case_id} received" in done.effects
    assert app.store.load(ReturnCase, back.case_id).status == "received"
    returnless = app.store.load(ReturnCase, kept.case_id)
    assert (returnless.status, returnless.returnless) == ("approved", True)


def test_an_order_over_a_limit_says_which_and_by_how_much(app: Services) -> None:
    """¥5,000 a transaction and ¥26,000 a year (SPEC §3): the orders happened (upstream paid
    them), so they are booked, and the effect names the limit each one broke."""
    def paid(order_id: str, price: str, day: int) -> list[str]:
        lines = [{"line_id": "1", "sku": "COAT", "category": "apparel", "quantity": 1,
                  "unit_price": price}]
        placed = order_placed(order_id, market="CN", currency="CNY", fulfilment="bonded",
                              customer_id="c-big", lines=lines, shipping_fee="0.00",
                              taxes="0.00", at=RELEASED - timedelta(days=30 - day))
        return [e for r in ingest(app, placed, order_paid(placed)) for e in r.effects
                if e.startswith("quota")]

    for day in range(5):
        assert paid(f"o-big-{day}", "4999.00", day)[0].endswith("CNY left")
    assert paid("o-big-5", "4999.00", 5) == [
        "quota 2026: 4999.00 CNY used, 3994.00 CNY over the annual limit of 26000.00 CNY"]
    [one] = paid("o-big-6", "5000.01", 6)
    assert one.startswith("quota 2026: 5000.01 CNY used, over the per-transaction limit of "
                          "5000.00 CNY, 8994.01 CNY over the annual limit")
    assert paid("o-ok", "5000.00", 7)[0].count("per-transaction") == 0


def test_a_bonded_order_cancelled_before_customs_release_gives_its_quota_back(
        app: Services, tmp_path: Any) -> None:
    """Goods that never cleared customs were never imported: the cancellation refunds the tax
    and the use of the buyer's annual quota is given back; after the release it stays used."""
    bonded = [{"line_id": "1", "sku": "SERUM", "category": "cosmetics", "quantity": 1,
               "unit_price": "300.00"}]
    early = order_placed("o-cancel", market="CN", currency="CNY", fulfilment="bonded",
                         customer_id="c-cn", lines=bonded, shipping_fee="0.00", taxes="27.30",
                         at=RELEASED - timedelta(days=2))
    ingest(app, early, order_paid(early))
    assert str(quota(app).remaining.amount) == "25700.00"
    [result] = ingest(app, {"event_id": "o-cancel-x", "event_type": "OrderCancelled",
                            "occurred_at": (RELEASED - timedelta(days=1)).isoformat(),
                            "order_id": "o-cancel", "reason": "changed my mind"})
    assert "quota 2026: 300.00 CNY given back (cancelled before customs release), " \
           "26000.00 CNY left" in result.effects
    ledger = quota(app)
    assert (str(ledger.used.amount), str(ledger.released.amount),
            str(ledger.remaining.amount)) == ("300.00", "300.00", "26000.00")
    ingest(app, {"event_id": "o-cancel-y", "event_type": "OrderCancelled",
                 "occurred_at": RELEASED.isoformat(), "order_id": "o-cancel",
                 "reason": "again"})
    assert str(quota(app).remaining.amount) == "26000.00"  # given back once
    db = ReadDatabase(f"sqlite:///{tmp_path / 'read.sqlite'}")
    rebuild(db, ["buyer_quota"], store_reader(app))
    with db.transaction() as tx:
        row = tx.one("SELECT used, remaining FROM buyer_quota", ())
        tx.execute("SELECT kind, amount FROM buyer_quota_entries ORDER BY position")
        kinds = tx.cursor.fetchall()
    db.close()
    assert row is not None and tuple(row) == ("300.00", "26000.00")
    assert [tuple(k) for k in kinds] == [("used", "300.00"), ("released", "300.00")]

    late = order_placed("o-kept", market="CN", currency="CNY", fulfilment="bonded",
                        customer_id="c-cn", lines=bonded, shipping_fee="0.00", taxes="27.30",
                        at=RELEASED - timedelta(days=2))
    ingest(app, late, order_paid(late), shipment("o-kept", "CustomsReleased", RELEASED))
    [kept] = ingest(app, {"event_id": "o-kept-x", "event_type": "OrderCancelled",
                          "occurred_at": (RELEASED + timedelta(hours=1)).isoformat(),
                          "order_id": "o-kept", "reason": "too late"})
    assert not any("given back" in e for e in kept.effects)
    assert str(quota(app).remaining.amount) == "25700.00"


def test_a_bonded_order_cancelled_after_customs_release_keeps_its_tax_with_its_quota(
        app: Services) -> None:
    """Found cold (F10): after the release the goods were imported, so the quota stays used,
    and the cancellation refunded the cross-border tax in full beside it (1113.10 CNY): the
    two effects a customs return ties together came apart with no reason. The refund leaves
    the tax out, as for a return that is no customs return, and says why; before the release
    it refunds the tax and gives the quota back."""
    bonded = [{"line_id": "1", "sku": "SERUM", "category": "cosmetics", "quantity": 1,
               "unit_price": "1000.00"}]
    placed = order_placed("o-cxr", market="CN", currency="CNY", fulfilment="bonded",
                          customer_id="c-cxr", lines=bonded, shipping_fee="20.00",
                          taxes="93.10", at=RELEASED - timedelta(days=1))
    ingest(app, placed, order_paid(placed), shipment("o-cxr", "CustomsReleased", RELEASED))
    ingest(app, {"event_id": "o-cxr-x", "event_type": "OrderCancelled",
                 "occurred_at": (RELEASED + timedelta(hours=2)).isoformat(),
                 "order_id": "o-cxr", "reason": "buyer cancelled"})
    refund = app.store.load(RefundCase, case_id_for("refund", "cancellation:o-cxr"))
    calculation = next(d for d in refund.decisions if d.policy_id == "refund.calculation")
    assert calculation.details["total"] == "1020.00"
    assert "taxes" not in calculation.details["components"]
    assert "refund.cancelled_after_customs_release" in calculation.rules
    assert any(r.startswith("duties 0.00 CNY and taxes 93.10 CNY not refunded: the order was "
                            "cancelled after its goods cleared customs") and "quota stays used"
               in r for r in calculation.reasons)
    ledger = app.store.load(BuyerQuota, quota_aggregate_id("c-cxr", 2026))
    assert str(ledger.remaining.amount) == "24980.00"  # 1020.00 still used


def test_a_customs_release_that_came_in_after_the_cancellation_takes_the_quota_again(
        app: Services, tmp_path: Any) -> None:
    """Upstream topics are not ordered with each other: the carrier's release scan may arrive
    after the cancellation gave the quota back. The goods cleared customs, so they were
    imported: the use stands again (once), and the read model follows."""
    bonded = [{"line_id": "1", "sku": "SERUM", "category": "cosmetics", "quantity": 1,
               "unit_price": "300.00"}]
    placed = order_placed("o-late", market="CN", currency="CNY", fulfilment="bonded",
                          customer_id="c-cn", lines=bonded, shipping_fee="0.00", taxes="27.30",
                          at=RELEASED - timedelta(days=2))
    ingest(app, placed, order_paid(placed))
    ingest(app, {"event_id": "o-late-x", "event_type": "OrderCancelled",
                 "occurred_at": (RELEASED + timedelta(hours=1)).isoformat(),
                 "order_id": "o-late", "reason": "changed my mind"})
    assert str(quota(app).remaining.amount) == "26000.00"  # no release known yet: given back
    [result] = ingest(app, shipment("o-late", "CustomsReleased", RELEASED))
    assert "quota 2026: 300.00 CNY used again (the goods cleared customs after all), " \
           "25700.00 CNY left" in result.effects
    ledger = quota(app)
    assert (str(ledger.released.amount), str(ledger.remaining.amount)) == ("0.00", "25700.00")
    [again] = ingest(app, {**shipment("o-late", "CustomsReleased", RELEASED + timedelta(hours=2)),
                           "event_id": "o-late-release-2"})
    assert not any("used again" in e for e in again.effects)  # taken back once
    assert str(quota(app).remaining.amount) == "25700.00"
    db = ReadDatabase(f"sqlite:///{tmp_path / 'read.sqlite'}")
    rebuild(db, ["buyer_quota"], store_reader(app))
    with db.transaction() as tx:
        row = tx.one("SELECT used, remaining FROM buyer_quota", ())
        tx.execute("SELECT kind, amount FROM buyer_quota_entries ORDER BY position")
        kinds = tx.cursor.fetchall()
    db.close()
    assert row is not None and tuple(row) == ("300.00", "25700.00")
    assert [tuple(k) for k in kinds] == [("used", "300.00"), ("released", "300.00"),
                                         ("rebooked", "300.00")]
