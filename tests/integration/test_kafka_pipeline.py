"""The engine connected to a real broker: inbound topics in, case events out, dead letters."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

import pytest

from aftersales.settings import Settings
from aftersales_core.application.principals import principal_id_of
from aftersales_core.application.services import Services
from consumers.case_events import is_relayed
from schemas.outbound import CASE_EVENT
from tests.factories import T0, admin, caller, order_paid, order_placed, shipment
from tests.kafka_fixtures import TestBroker
from tests.pipeline import as_message, eventually, pipeline_settings, publish, read_all, workers

pytestmark = pytest.mark.kafka
FACTS = {f"aftersales.order.{name}" for name in ("Placed", "Paid", "Cancelled",
                                                  "ShipmentScanned")}


def upstream_day() -> list[dict[str, Any]]:
    placed = [order_placed(f"o-{i}", customer_id=f"c-{i % 3}") for i in range(5)]
    out: list[dict[str, Any]] = []
    for message in placed:
        out += [message, order_paid(message),
                shipment(message["order_id"], "Delivered", T0 + timedelta(days=3))]
    out.append(shipment("o-4", "Lost", T0 + timedelta(days=9)))
    return out


def happy_path(app: Services, settings: Settings) -> None:
    events = upstream_day()
    orders = [e for e in events if e["event_type"].startswith("Order")]
    scans = [e for e in events if not e["event_type"].startswith("Order")]
    publish(settings, settings.orders_topic, [as_message(e) for e in orders])
    publish(settings, settings.shipments_topic, [as_message(e) for e in scans])
    with workers(app, settings, "inbound", "relay") as running:
        failed = running["failures"]
        eventually(lambda: running["inbound"].stats.applied == len(events), 90,
                   "all upstream events applied", failed)
        stored = app.store.recorder.max_notification_id() or 0
        eventually(lambda: running["relay"].stats.position == stored, 60, "relay caught up",
                   failed)
    published = {n.id for n in app.store.recorder.select_notifications(1, stored)
                 if is_relayed(n.topic)}
    records = read_all(settings, settings.case_events_topic, len(published))
    assert len(records) >= len(published)
    events_out = [CASE_EVENT.validate_json(r.value) for r in records]
    assert {e.position for e in events_out} == published  # principals, id claims stay inside
    by_case: dict[str, list[int]] = defaultdict(list)
    for record, event in zip(records, events_out, strict=True):
        assert record.key == event.subject.encode()
        by_case[event.subject].append(event.version)
    for versions in by_case.values():
        assert versions == sorted(versions)
    types = {e.type for e in events_out}
    assert {"aftersales.order.Placed", "aftersales.complaint.Filed",
            "aftersales.refund.Requested"} <= types
    # every fact the inbound consumer applied names it (system.upstream) and its role
    facts = [e for e in events_out if e.type in FACTS]
    assert len(facts) == len(events)
    inbound = str(principal_id_of("system.upstream"))
    assert {(e.data["by"], e.data["role"]) for e in facts} == {(inbound, "upstream")}


def test_happy_path_on_apache_kafka(app: Services, store_settings: Settings,
                                   kafka_broker: TestBroker, topic_prefix: str) -> None:
    happy_path(app, pipeline_settings(store_settings, kafka_broker.bootstrap_servers,
                                      topic_prefix))


def test_happy_path_on_tansu(app: Services, store_settings: Settings,
                             tansu_broker: TestBroker, topic_prefix: str) -> None:
    happy_path(app, pipeline_settings(store_settings, tansu_broker.bootstrap_servers,
                                      topic_prefix))


def test_redelivered_messages_change_nothing(app: Services, sqlite_url: str,
                                             kafka_broker: TestBroker, topic_prefix: str) -> None:
    settings = pipeline_settings(Settings(database_url=sqlite_url),
                                 kafka_broker.bootstrap_servers, topic_prefix)
    placed = order_placed("o-1")
    twice = [as_message(placed), as_message(order_paid(placed))] * 2
    publish(settings, settings.orders_topic, twice)
    with workers(app, settings, "inbound") as running:
        eventually(lambda: running["inbound"].stats.duplicates == 2, 60, "duplicates seen",
                   running["failures"])
        assert running["inbound"].stats.applied == 2


def test_the_inbound_consumer_acts_as_its_principal_and_a_denial_is_dead_lettered(
    app: Services, sqlite_url: str, kafka_broker: TestBroker, topic_prefix: str
) -> None:
    """An administrator disabled system.upstream: its messages are denied, nothing is stored,
    each goes to the dead-letter topic as refused (nothing lost) and the denial is logged."""
    settings = pipeline_settings(Settings(database_url=sqlite_url),
                                 kafka_broker.bootstrap_servers, topic_prefix)
    caller(app, "system.upstream")
    app.principals.disable(admin(app), "system.upstream", "compromised key", T0)
    before = app.store.recorder.max_notification_id()
    publish(settings, settings.orders_topic, [as_message(order_placed("o-1"))])
    with workers(app, settings, "inbound") as running:
        eventually(lambda: running["inbound"].stats.dead_lettered == 1, 60,
                   "the denied message dead-lettered", running["failures"])
        assert running["inbound"].stats.by_kind == {"refused": 1}
    assert app.store.recorder.max_notification_id() == before
    [letter] = read_all(settings, settings.dlq_topic, 1)
    assert dict(letter.headers)["error_type"] == b"refused"
    assert b"disabled" in dict(letter.headers)["error"]
    denials = app.access.denials.list(principal="system.upstream")  # type: ignore[attr-defined]
    assert [(d["operation"], d["rule"], d["via"]) for d in denials] == [
        ("OrderPlaced", "access.disabled", "kafka")]
