"""The outbound contract: what a downstream service gets on the case-events topic is a
structured-mode CloudEvent whose data matches the committed JSON Schema its dataschema names,
and carries what the service needs to act alone; principals' events never leave the engine."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import jsonschema
import orjson
import pytest

from aftersales.brokers.topics import topic_config
from aftersales.settings import Settings
from aftersales_core.application.services import Services
from aftersales_core.domain.ids import order_aggregate_id
from consumers import kafka_clients
from consumers.case_events import is_relayed, to_cloud_event
from consumers.payloads import Payloads
from schemas import events
from schemas.export import OUT
from schemas.outbound import CASE_EVENT, CaseState
from tests.factories import T0, delivered_order, iso, order_placed, run
from tests.kafka_fixtures import TestBroker
from tests.pipeline import eventually, pipeline_settings, read_all, workers

AT = T0 + timedelta(days=6)
PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def busy_day(app: Services) -> None:
    """Orders, a return, a refund from request to settlement, a failed one, a complaint."""
    delivered_order(app, lines=[{"line_id": "1", "sku": "TV", "category": "electronics",
                                 "quantity": 1, "unit_price": "400.00"},
                                {"line_id": "2", "sku": "MUG", "category": "home",
                                 "quantity": 2, "unit_price": "10.00"}])
    run(app, "customer-c-1", {"command": "RequestReturn", "order_id": "o-1",
                              "reason": "defective", "at": iso(AT),
                              "lines": [{"line_id": "2", "quantity": 1}]})
    refund = run(app, "agent-1", {"command": "RequestRefund", "order_id": "o-1",
                                  "source": "goodwill", "amount": "300.00",
                                  "reason": "late", "at": iso(AT)})
    case = str(refund.case_id)
    for name, command in [("sup-1", {"command": "ApproveRefund"}),
                          ("payments-1", {"command": "IssueRefund"}),
                          ("payments-1", {"command": "RecordRefundFailed",
                                          "error": "card expired"}),
                          ("payments-1", {"command": "IssueRefund"}),
                          ("payments-1", {"command": "ConfirmRefundSettled",
                                          "provider_ref": "psp-1"})]:
        run(app, name, {**command, "case_id": case, "at": iso(AT + timedelta(hours=1))})
    run(app, "customer-c-1", {"command": "FileComplaint", "order_id": "o-1",
                              "channel": "email", "category": "damaged",
                              "description": "the mug was broken", "at": iso(AT)})


def published(app: Services) -> list[dict[str, Any]]:
    recorder = app.store.recorder
    added = Payloads(recorder)
    end = recorder.max_notification_id() or 0
    return [to_cloud_event(n, added) for n in recorder.select_notifications(1, end)
            if is_relayed(n.topic)]


def schema_file(dataschema: str) -> dict[str, Any]:
    name = dataschema.removeprefix(events.SCHEMA_BASE)
    found: dict[str, Any] = json.loads((OUT / "events" / f"{name}.schema.json").read_text())
    return found


def test_every_event_matches_the_committed_schema_its_dataschema_names(app: Services) -> None:
    busy_day(app)
    out = published(app)
    types = {e["type"] for e in out}
    assert {"aftersales.refund.Settled", "aftersales.refund.Failed", "aftersales.order.Paid",
            "aftersales.return.Requested", "aftersales.complaint.Filed"} <= types
    for event in out:
        CASE_EVENT.validate_python(event)
        assert event["partitionkey"] == event["subject"]
        schema = schema_file(event["dataschema"])
        assert schema["$id"] == event["dataschema"]
        jsonschema.validate(event["data"], schema, cls=jsonschema.Draft202012Validator,
                            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def test_every_refund_event_names_its_order_amount_currency_and_components(
        app: Services) -> None:
    busy_day(app)
    refund_events = [e for e in published(app) if e["type"].startswith("aftersales.refund.")]
    assert len({e["type"] for e in refund_events}) >= 7
    for event in refund_events:
        facts = event["data"]["refund"]
        assert facts["refund_id"] == event["subject"]
        assert (facts["order_id"], facts["amount"], facts["currency"]) == (
            "o-1", "300.00", "EUR"), event["type"]
        assert facts["components"]["goodwill"] == "300.00"
        assert facts["source"] == "goodwill"


def test_every_order_event_names_its_order_id(app: Services) -> None:
    busy_day(app)
    order_events = [e for e in published(app) if e["type"].startswith("aftersales.order.")]
    assert {"aftersales.order.Paid", "aftersales.order.ShipmentScanned"} <= {
        e["type"] for e in order_events}
    assert all(e["data"]["order_id"] == "o-1" for e in order_events)


def test_principals_events_are_not_published(app: Services) -> None:
    busy_day(app)
    stored = app.store.recorder.select_notifications(1, 10_000)
    assert any(n.topic.startswith("aftersales.principal.") for n in stored)
    assert not any(e["type"].startswith("aftersales.principal.") for e in published(app))
    assert "aftersales.principal.Created" not in events.event_classes()


def test_a_schema_change_is_caught_by_validation(app: Services) -> None:
    """The schemas are not vacuous: a refund event without its facts, or with an amount that
    is not decimal text, is refused."""
    busy_day(app)
    issued = next(e for e in published(app) if e["type"] == "aftersales.refund.Issued")
    schema = schema_file(issued["dataschema"])
    broken = {k: v for k, v in issued["data"].items() if k != "refund"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)
    wrong = {**issued["data"], "refund": {**issued["data"]["refund"], "amount": 300}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(wrong, schema)


ASYNCAPI_SCHEMA = Path(__file__).parent.parent / "contracts" / "asyncapi-3.0.0.schema.json"


def test_the_asyncapi_document_is_valid_asyncapi_3_and_its_refs_resolve() -> None:
    document = json.loads((OUT / "asyncapi.json").read_text())
    validator = jsonschema.Draft7Validator(json.loads(ASYNCAPI_SCHEMA.read_text()))
    assert not [e.message for e in validator.iter_errors(document)]
    refs: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            refs.extend(v for k, v in value.items() if k == "$ref")
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(document)
    for ref in refs:
        target: Any = document
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
    channels = {c["address"] for c in document["channels"].values()}
    assert channels == {"orders.v1", "shipments.v1", "aftersales.case-events.v1",
                        "aftersales.cases.v1", "aftersales.dlq.v1"}
    messages = document["channels"]["caseEvents"]["messages"]
    assert len(messages) == len(events.event_classes())
    broken = {**document, "operations": {"x": {"action": "publish",
                                               "channel": {"$ref": "#/channels/orders"}}}}
    assert list(validator.iter_errors(broken))  # the validator does refuse a wrong document


@pytest.mark.kafka
def test_a_cloudevents_sdk_consumer_reads_the_topics(
        app: Services, sqlite_url: str, kafka_broker: TestBroker, topic_prefix: str) -> None:
    from cloudevents.core.bindings.kafka import KafkaMessage, from_kafka, from_structured
    from cloudevents.core.formats.json import JSONFormat

    settings = pipeline_settings(Settings(database_url=sqlite_url),
                                 kafka_broker.bootstrap_servers, topic_prefix)
    busy_day(app)
    busy = app.store.recorder.max_notification_id() or 0
    producer = kafka_clients.producer(settings.kafka())  # an upstream message with a trace
    producer.send(settings.orders_topic, key=b"o-2", value=orjson.dumps(order_placed("o-2")),
                  headers=[("traceparent", PARENT.encode()), ("tracestate", b"shop=7")])
    producer.flush(timeout=30)
    producer.close()
    with workers(app, settings, "inbound", "relay", "case-states") as running:
        eventually(lambda: running["inbound"].stats.applied == 1, 90, "applied",
                   running["failures"])
        stored = app.store.recorder.max_notification_id() or 0
        eventually(lambda: running["relay"].stats.position == stored
                   and running["case-states"].position == stored, 60, "relayed",
                   running["failures"])
    expected = published(app)
    # every event the traced message caused (its order's and the customer's), nothing else
    assert ["traceparent" in e for e in expected] == [e["position"] > busy for e in expected]
    assert str(order_aggregate_id("o-2")) in {e["subject"] for e in expected if
                                               "traceparent" in e}
    records = read_all(settings, settings.case_events_topic, len(expected))
    assert len(records) == len(expected)
    by_id = {e["id"]: e for e in expected}
    for record in records:
        headers = dict(record.headers)
        assert headers["content-type"] == b"application/cloudevents+json; charset=UTF-8"
        message = KafkaMessage(headers=headers, key=record.key, value=record.value)
        event = from_kafka(message, JSONFormat())  # detects structured mode by itself
        assert event.get_attributes() == from_structured(message, JSONFormat()).get_attributes()
        attributes = event.get_attributes()
        ours = by_id[attributes["id"]]
        assert attributes["type"] == ours["type"]
        assert attributes["partitionkey"] == record.key.decode() == ours["subject"]
        assert attributes["dataschema"] == ours["dataschema"]
        assert event.get_data() == ours["data"]
        if "traceparent" in ours:  # the distributed-tracing extension
            assert (attributes["traceparent"], attributes["tracestate"]) == (PARENT, "shop=7")
    # the compacted topic: the latest state of each case, keyed by case id
    config = topic_config(kafka_broker.bootstrap_servers, settings.case_states_topic,
                          "cleanup.policy")
    assert config == "compact"
    cases = {str(a.id): a for a in (app.store.load_any(UUID(e["subject"])) for e in expected
                                    if e["type"].split(".")[1] in ("return", "refund",
                                                                   "complaint"))}
    states: dict[str, dict[str, Any]] = {}
    for record in read_all(settings, settings.case_states_topic, len(cases)):
        state = CaseState.model_validate_json(record.value)
        assert record.key.decode() == state.case_id
        states[state.case_id] = json.loads(record.value)
    assert set(states) == set(cases)
    for case_id, case in cases.items():
        assert case is not None
        assert states[case_id]["version"] == case.version
        assert states[case_id]["status"] == str(case.status)  # type: ignore[attr-defined]
    refund = next(s for s in states.values() if s["case_type"] == "refund")
    assert refund["status"] == "settled" and refund["state"]["amount"] == {
        "amount": "300.00", "currency": "EUR"}
    complaint = next(s for s in states.values() if s["case_type"] == "complaint")
    assert "the mug was broken" not in json.dumps(complaint)  # personal data stays redacted
