"""The unknown fields an upstream fact carries (SPEC §4.1: "allowed and kept") may name the
buyer, an address or a phone: once the order's buyer is known they are the buyer's personal
data, sealed in the store, listed in the buyer's export, redacted on the case-events topic and
``[erased]`` with the buyer's key (SPEC §3.4). A fact before the order's placement (its buyer not
known yet) seals them under the order's own key, which the placement links to the buyer
(tests/integration/test_personal_data.py follows them to the export and the erasure). SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from aftersales.settings import Settings
from aftersales_core.application.services import Services
from aftersales_core.domain.ids import order_aggregate_id, order_subject
from aftersales_core.domain.order import Order
from aftersales_core.personal import ERASED, PersonalData
from consumers.case_events import to_cloud_event
from tests.factories import ADMIN, T0, caller, ingest, order_paid, order_placed, shipment
from tests.integration.test_personal_data import pg_of, store_bytes

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


def test_unknown_fields_are_the_buyers_personal_data(
    app: Services, store_settings: Settings, request: pytest.FixtureRequest
) -> None:
    pg = pg_of(request, store_settings)
    phone = f"+49 170 {uuid4().int % 10**7:07d}"
    placed = {**order_placed("o-x", customer_id="c-x"), "ship_to_phone": phone}
    scanned = {**shipment("o-x", "Delivered", T0 + timedelta(days=3)), "signed_by": "Erika M."}
    ingest(app, placed, order_paid(placed), scanned)
    assert phone.encode() not in store_bytes(app, store_settings, pg)
    assert b"Erika M." not in store_bytes(app, store_settings, pg)
    facts = [e for e in app.store.events.get(order_aggregate_id("o-x"))
             if isinstance(e, (Order.Placed, Order.ShipmentScanned))]
    assert [type(e.extra) for e in facts] == [PersonalData, PersonalData]
    assert phone in facts[0].extra.value and "Erika M." in facts[1].extra.value
    exported = str(app.privacy.export(caller(app, ADMIN), "c-x", NOW))
    assert phone in exported and "Erika M." in exported
    published = str([to_cloud_event(n) for n in app.store.recorder.select_notifications(1, 10_000)])
    assert phone not in published and "Erika M." not in published
    assert "'extra': {'personal_data': 'redacted', 'subject': 'c-x'}" in published

    app.privacy.erase(caller(app, ADMIN), "c-x", "request DSR-11", NOW)

    erased = [e.extra for e in app.store.events.get(order_aggregate_id("o-x"))
              if isinstance(e, (Order.Placed, Order.ShipmentScanned))]
    assert erased == [PersonalData("c-x", ERASED)] * 2
    assert phone not in str(app.privacy.export(caller(app, ADMIN), "c-x", NOW))


def test_a_fact_before_the_placement_seals_them_under_the_orders_key(app: Services) -> None:
    placed = order_placed("o-early", customer_id="c-e")
    early = {**order_paid(placed), "gateway_note": "3ds ok"}
    ingest(app, early)  # the payment first: nobody's yet
    ingest(app, placed)
    [paid] = [e for e in app.store.events.get(order_aggregate_id("o-early"))
              if isinstance(e, Order.Paid)]
    assert isinstance(paid.extra, PersonalData) and "3ds ok" in paid.extra.value
    assert paid.extra.subject == order_subject("o-early")
    raw = b"".join(n.state for n in app.store.recorder.select_notifications(1, 100_000))
    assert b"3ds ok" not in raw
