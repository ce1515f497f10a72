"""The logistics watchdog: a silent parcel, or one held at customs, gets one proactive complaint
before the customer asks; later scans move the watch, delivery ends it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast
from uuid import UUID

from aftersales_core.application.services import Services
from aftersales_core.domain.complaints import ComplaintCase
from aftersales_core.domain.ids import case_id_for, order_aggregate_id
from aftersales_core.domain.order import Order
from tests.factories import T0, caller, ingest, order_paid, order_placed, shipment
from tests.unit.deadlines.oracle import memory_app

ORDER = order_aggregate_id("o-1")
SENT = T0 + timedelta(days=1)


def shipped(app: Services, *scans: tuple[str, datetime]) -> Order:
    placed = order_placed("o-1", market="CN", currency="CNY", fulfilment="bonded")
    ingest(app, placed, order_paid(placed), *(shipment("o-1", s, at) for s, at in scans))
    return app.store.load(Order, ORDER)


def watchdog_complaint(kind: str, since: datetime) -> UUID:
    return case_id_for("complaint", f"watchdog:o-1:o-1-outbound:{kind}:{since.isoformat()}")


def test_a_parcel_without_a_scan_for_120_hours_opens_one_proactive_complaint() -> None:
    app = memory_app()
    order = shipped(app, ("Dispatched", SENT))
    watch = order.deadlines["watchdog:o-1-outbound"]
    assert (watch.due_at, watch.action) == (SENT + timedelta(hours=120), "open_complaint")
    assert (
        app.deadlines.fire(caller(app, "system.scheduler"), ORDER, SENT + timedelta(hours=120))
        == []
    )  # exactly on time
    fired = app.deadlines.fire(caller(app, "system.scheduler"), ORDER, SENT + timedelta(hours=121))
    complaint_id = watchdog_complaint("no_scan", SENT)
    assert [(f.name, f.action, f.related) for f in fired] == [
        ("watchdog:o-1-outbound", "open_complaint", {"complaint_case_id": str(complaint_id)})
    ]
    complaint = app.store.load(ComplaintCase, complaint_id)
    assert complaint.proactive and (complaint.filed_by, complaint.filed_role) == (
        "policy",
        "policy",
    )
    assert complaint.category == "logistics_delay" and complaint.order_id == "o-1"
    cause = complaint.decisions[0]
    assert (cause.policy_id, cause.outcome) == ("logistics.exception", "open_complaint")
    assert cause.inputs["event_type"] == "NoScan" and cause.inputs["since"] == SENT.isoformat()
    assert set(complaint.deadlines) == {"first_response", "resolution"}
    assert (
        app.deadlines.fire(caller(app, "system.scheduler"), ORDER, SENT + timedelta(days=30)) == []
    )
    assert app.store.load(Order, ORDER).case_ids("complaint") == [str(complaint_id)]
    assert app.store.load(Order, ORDER).deadlines["watchdog:o-1-outbound"].state == "done"


def test_each_later_scan_moves_the_watch_and_delivery_ends_it() -> None:
    app = memory_app()
    shipped(app, ("Dispatched", SENT), ("InTransit", SENT + timedelta(hours=100)))
    order = app.store.load(Order, ORDER)
    assert order.deadlines["watchdog:o-1-outbound"].due_at == SENT + timedelta(hours=220)
    assert (
        app.deadlines.fire(caller(app, "system.scheduler"), ORDER, SENT + timedelta(hours=150))
        == []
    )
    cancelled = [e for e in app.store.events.get(ORDER) if type(e).__name__ == "DeadlineCancelled"]
    assert [cast(Any, e).reason for e in cancelled] == ["met"]
    ingest(app, shipment("o-1", "Delivered", SENT + timedelta(hours=200)))
    order = app.store.load(Order, ORDER)
    assert order.open_deadlines() == [] and order.deadlines_wanted() == {}
    assert (
        app.deadlines.fire(caller(app, "system.scheduler"), ORDER, SENT + timedelta(days=60)) == []
    )


def test_a_parcel_held_at_customs_for_72_hours_opens_a_customs_complaint() -> None:
    app = memory_app()
    held = SENT + timedelta(hours=10)
    order = shipped(
        app, ("Dispatched", SENT), ("CustomsHeld", held), ("InTransit", held + timedelta(hours=20))
    )  # still held: no release scan
    assert order.deadlines["watchdog:o-1-outbound"].due_at == held + timedelta(hours=72)
    fired = app.deadlines.fire(caller(app, "system.scheduler"), ORDER, held + timedelta(hours=73))
    assert [f.action for f in fired] == ["open_complaint"]
    complaint = app.store.load(ComplaintCase, watchdog_complaint("customs_hold", held))
    assert complaint.category == "customs"
    assert complaint.decisions[0].inputs["event_type"] == "CustomsHeld"


def test_a_release_ends_the_customs_watch_and_starts_the_silence_watch() -> None:
    app = memory_app()
    released = SENT + timedelta(hours=60)
    shipped(app, ("CustomsHeld", SENT), ("CustomsReleased", released))
    watch = app.store.load(Order, ORDER).deadlines["watchdog:o-1-outbound"]
    assert (watch.since, watch.due_at) == (released, released + timedelta(hours=120))


def test_scans_before_the_order_is_known_start_the_watch_once_it_is_placed() -> None:
    app = memory_app()
    ingest(app, shipment("o-1", "Dispatched", SENT))
    assert app.store.load(Order, ORDER).deadlines == {}
    placed = order_placed("o-1", at=T0)
    ingest(app, placed)
    assert app.store.load(Order, ORDER).deadlines["watchdog:o-1-outbound"].since == SENT


def test_a_lost_parcel_is_a_logistics_exception_not_a_watchdog_case() -> None:
    app = memory_app()
    shipped(app, ("Dispatched", SENT), ("Lost", SENT + timedelta(hours=30)))
    watch = app.store.load(Order, ORDER).deadlines["watchdog:o-1-outbound"]
    assert (watch.state, watch.outcome) == ("cancelled", "cancelled")
    assert (
        app.deadlines.fire(caller(app, "system.scheduler"), ORDER, SENT + timedelta(days=30)) == []
    )
    assert len(app.store.load(Order, ORDER).case_ids("complaint")) == 1  # the Lost one, not ours


def test_a_silence_after_a_damaged_scan_adds_no_second_complaint_while_the_first_is_open(
) -> None:
    """One parcel, one proactive complaint at a time: the watchdog's breach is linked to the
    open complaint the Damaged scan opened; once that one is closed, a new silence opens its
    own."""
    app = memory_app()
    damaged_at = SENT + timedelta(hours=2)
    shipped(app, ("Dispatched", SENT), ("Damaged", damaged_at))
    [first] = app.store.load(Order, ORDER).case_ids("complaint")
    fired = app.deadlines.fire(caller(app, "system.scheduler"), ORDER,
                               damaged_at + timedelta(hours=121))
    assert [(f.name, f.related) for f in fired] == [
        ("watchdog:o-1-outbound", {"complaint_case_id": first})]
    assert app.store.load(Order, ORDER).case_ids("complaint") == [first]

    agent = caller(app, "agent-1")
    later = damaged_at + timedelta(days=6)
    app.complaints.resolve(agent, UUID(first), "replaced", later)
    app.complaints.close(agent, UUID(first), later + timedelta(hours=1), satisfaction=4)
    ingest(app, shipment("o-1", "InTransit", later + timedelta(hours=2)))
    silent = later + timedelta(hours=2)
    app.deadlines.fire(caller(app, "system.scheduler"), ORDER, silent + timedelta(hours=121))
    complaints = app.store.load(Order, ORDER).case_ids("complaint")
    assert complaints == [first, str(watchdog_complaint("no_scan", silent))]
