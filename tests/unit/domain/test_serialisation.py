"""Stored events: every event of every aggregate survives the Mapper round trip, topics are
explicit and stable, and events stored today keep decoding into the current classes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate, CanMutateAggregate
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    UUIDAsHex,
)
from eventsourcing.utils import get_topic, resolve_topic
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales_core.application.transcodings import TRANSCODINGS
from aftersales_core.decisions import PolicyDecision
from aftersales_core.domain.complaints import ComplaintCase
from aftersales_core.domain.customer import Customer
from aftersales_core.domain.order import Order
from aftersales_core.domain.policy_book import PolicyBook
from aftersales_core.domain.principals import Principal
from aftersales_core.domain.quota import BuyerQuota
from aftersales_core.domain.refunds import RefundCase, RefundStatus
from aftersales_core.domain.returns import ReturnCase, ReturnStatus
from aftersales_core.money import MINOR_UNITS, Money
from aftersales_core.personal import PersonalData
from privacy.kek import KeyEncryptionKeys
from privacy.key_tables import MemoryKeyTable
from privacy.keys import Keyring
from privacy.sealing import SealingMapper
from tests.unit.domain import builders as b
from tests.unit.domain.test_order_ledger import placed_order


def build_mapper() -> Mapper[UUID]:
    """The mapper the application builds (ServiceBase.register_transcodings), sealing personal
    data as the composition root makes it (keys in memory)."""
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), *TRANSCODINGS):
        transcoder.register(transcoding)
    keyring = Keyring(MemoryKeyTable(), KeyEncryptionKeys.generate())
    return SealingMapper(Mapper(transcoder=transcoder), keyring)


MAPPER = build_mapper()
AGGREGATES: tuple[type[Aggregate], ...] = (
    Order,
    Customer,
    ReturnCase,
    RefundCase,
    ComplaintCase,
    Principal,
    BuyerQuota,
    PolicyBook,
)


def event_classes(aggregate: type[Aggregate]) -> list[type[Any]]:
    return [
        obj
        for name, obj in vars(aggregate).items()
        if isinstance(obj, type) and issubclass(obj, CanMutateAggregate) and name != "Event"
    ]


ALL_EVENTS = [(aggregate, cls) for aggregate in AGGREGATES for cls in event_classes(aggregate)]

# The topics stored events carry today. Adding events is fine; renaming or removing one of these
# would orphan stored events, so it needs an alias (register_topic) or an upcaster instead.
STORED_TOPICS: dict[type[Aggregate], tuple[str, set[str]]] = {
    Order: (
        "aftersales.order",
        {
            "Registered",
            "Placed",
            "Paid",
            "Cancelled",
            "ShipmentScanned",
            "RefundReserved",
            "RefundReleased",
            "RefundSettled",
            "CaseLinked",
            "ReturnReserved",
            "ReturnReleased",
        },
    ),
    BuyerQuota: ("aftersales.quota", {"Opened", "Used", "Restored"}),
    Customer: (
        "aftersales.customer",
        {"Registered", "OrderPlaced", "OrderReturned", "ComplaintFiled"},
    ),
    ReturnCase: (
        "aftersales.return",
        {
            "Requested",
            "DecisionRecorded",
            "Approved",
            "SentToReview",
            "Rejected",
            "Cancelled",
            "LabelIssued",
            "ShippedBack",
            "Received",
            "Inspected",
            "DispositionSet",
            "Resolved",
            "Closed",
        },
    ),
    RefundCase: (
        "aftersales.refund",
        {
            "Requested",
            "DecisionRecorded",
            "Calculated",
            "AwaitingApproval",
            "Approved",
            "Rejected",
            "Issued",
            "Settled",
            "Failed",
        },
    ),
    Principal: (
        "aftersales.principal",
        {"Created", "RoleGranted", "RoleRevoked", "Disabled", "ReEnabled"},
    ),
    ComplaintCase: (
        "aftersales.complaint",
        {
            "Filed",
            "DecisionRecorded",
            "Triaged",
            "Acknowledged",
            "MessageAdded",
            "ResolutionProposed",
            "ProposalAnswered",
            "Escalated",
            "Resolved",
            "Closed",
            "Reopened",
            "WaitingOnCustomer",
            "CustomerAnswered",
        },
    ),
    PolicyBook: ("aftersales.policy_book", {"Opened", "VersionSet"}),
}


def round_trip(event: Any) -> Any:
    stored = MAPPER.to_stored_event(event)
    assert stored.topic == type(event).TOPIC
    back = MAPPER.to_domain_event(stored)
    assert type(back) is type(event)
    assert back == event
    # Nothing lost that == does not see (UTC offsets, Decimal exponents): same bytes again,
    # but for the ciphertexts of personal data (a fresh nonce every time it is sealed).
    assert unsealed(MAPPER.to_stored_event(back).state) == unsealed(stored.state)
    return back


def unsealed(state: bytes) -> Any:
    """The stored JSON with each sealed personal datum's ciphertext blanked out (its subject
    and key id stay)."""

    def blank(value: Any) -> Any:
        if isinstance(value, dict):
            if value.get("_type_") == "personal_data":
                return {**value, "_data_": {**value["_data_"], "ct": "…"}}
            return {k: blank(v) for k, v in value.items()}
        if isinstance(value, list):
            return [blank(v) for v in value]
        return value

    return blank(json.loads(state))


# ---- strategies for every field type the events declare ----------------------------------------

texts = st.text(max_size=40)  # any unicode but lone surrogates
offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
aware_datetimes = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2200, 1, 1), timezones=offsets
)
decimals = st.decimals(allow_nan=False, allow_infinity=False)


@st.composite
def money(draw: st.DrawFn) -> Money:
    currency = draw(st.sampled_from(sorted(MINOR_UNITS)))
    places = MINOR_UNITS[currency]
    return Money.of(
        draw(
            st.decimals(
                min_value=-(10**12),
                max_value=10**12,
                places=places,
                allow_nan=False,
                allow_infinity=False,
            )
        ),
        currency,
    )


def not_a_transcoded_object(value: dict[str, Any]) -> bool:
    """A plain dict shaped exactly like the transcoder's envelope cannot round trip."""
    return set(value) != {"_type_", "_data_"}


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | texts
    | decimals
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(texts, inner, max_size=4).filter(not_a_transcoded_object)
    ),
    max_leaves=12,
)
json_objects = st.dictionaries(texts, json_values, max_size=5).filter(not_a_transcoded_object)
personal_data = st.builds(PersonalData, subject=texts, value=texts)
decisions = st.builds(
    PolicyDecision,
    policy_id=st.sampled_from(["return.eligibility", "refund.calculation", "complaint.triage"]),
    policy_version=st.integers(min_value=1, max_value=99),
    inputs=json_objects
    | st.builds(lambda m, at: {"amount": m, "at": at}, money(), aware_datetimes),
    outcome=texts,
    reasons=st.lists(texts, max_size=3).map(tuple),
    rules=st.lists(texts, max_size=3).map(tuple),
    details=json_objects,
    book=st.none() | st.fixed_dictionaries({
        "merchant_id": st.none() | texts, "book": st.sampled_from(["merchant", "platform"]),
        "book_version": st.integers(0, 10**6), "settings_hash": texts}),
)

FIELD_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "str": texts,
    "int": st.integers(min_value=-(2**63), max_value=2**63),
    "bool": st.booleans(),
    "datetime": aware_datetimes,
    "Decimal": decimals,
    "UUID": st.uuids(),
    "Money": money(),
    "PolicyDecision": decisions,
    "PersonalData": personal_data,
    "PersonalData | str": personal_data | texts,
    "str | PersonalData": texts | personal_data,
    "list[PersonalData]": st.lists(personal_data, max_size=3),
    "list[str]": st.lists(texts, max_size=3),
    "list[dict[str, Any]]": st.lists(json_objects, max_size=3),
    "dict[str, Any]": json_objects,
    "dict[str, str]": st.dictionaries(texts, texts, max_size=4),
    "dict[str, int]": st.dictionaries(texts, st.integers(1, 100_000), max_size=4),
}


def strategy_for(annotation: str) -> st.SearchStrategy[Any]:
    if annotation.endswith(" | None"):
        return st.none() | strategy_for(annotation.removesuffix(" | None"))
    if annotation not in FIELD_STRATEGIES:
        raise LookupError(f"no strategy for event field type {annotation!r}: add one")
    return FIELD_STRATEGIES[annotation]


def event_strategy(aggregate: type[Aggregate], cls: type[Any]) -> st.SearchStrategy[Any]:
    fields: dict[str, st.SearchStrategy[Any]] = {
        name: strategy_for(str(field.type))
        for name, field in cls.__dataclass_fields__.items()
        if name not in ("originator_id", "originator_version", "originator_topic")
    }
    fields["originator_id"] = st.uuids()
    fields["originator_version"] = st.integers(min_value=1, max_value=10**6)
    if "originator_topic" in cls.__dataclass_fields__:
        fields["originator_topic"] = st.just(get_topic(aggregate))
    return st.fixed_dictionaries(fields).map(lambda kwargs: cls(**kwargs))


@pytest.mark.parametrize(
    ("aggregate", "cls"), ALL_EVENTS, ids=[f"{a.__name__}.{c.__name__}" for a, c in ALL_EVENTS]
)
def test_every_event_field_type_has_a_generator(aggregate: type[Aggregate], cls: type[Any]) -> None:
    event_strategy(aggregate, cls)  # raises LookupError for a field type nobody thought of


@pytest.mark.parametrize(
    ("aggregate", "cls"), ALL_EVENTS, ids=[f"{a.__name__}.{c.__name__}" for a, c in ALL_EVENTS]
)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_every_event_survives_the_mapper_round_trip(
    aggregate: type[Aggregate], cls: type[Any], data: st.DataObject
) -> None:
    round_trip(data.draw(event_strategy(aggregate, cls), "event"))


# ---- topics ------------------------------------------------------------------------------------


@pytest.mark.parametrize("aggregate", AGGREGATES, ids=[a.__name__ for a in AGGREGATES])
def test_every_event_class_has_an_explicit_stable_topic_and_a_class_version(
    aggregate: type[Aggregate],
) -> None:
    topic, names = STORED_TOPICS[aggregate]
    assert vars(aggregate)["TOPIC"] == topic == get_topic(aggregate)
    assert resolve_topic(topic) is aggregate
    assert isinstance(vars(vars(aggregate)["Event"]).get("class_version"), int)
    for cls in event_classes(aggregate):
        explicit = vars(cls).get("TOPIC")
        assert explicit, f"{cls.__qualname__} has no explicit TOPIC"
        assert explicit.startswith("aftersales.")
        assert explicit == f"{topic}.{cls.__name__}"
        assert resolve_topic(explicit) is cls
        assert get_topic(cls) == explicit
        assert isinstance(cls.class_version, int) and cls.class_version >= 1
        for version in range(1, cls.class_version):
            assert callable(getattr(cls, f"upcast_v{version}_v{version + 1}", None))
    assert {f"{topic}.{name}" for name in names} <= {
        vars(c)["TOPIC"] for c in event_classes(aggregate)
    }


# ---- golden events, stored today ----------------------------------------------------------

REQUESTED_ID = UUID("0b7e5a52-2f4c-4f3e-9a8e-3d1f2c6b9a01")
RETURN_REQUESTED = StoredEvent(
    originator_id=REQUESTED_ID,
    originator_version=1,
    topic="aftersales.return.Requested",
    state=(
        b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-03-02T17:00:00+08:00"},'
        b'"originator_topic":"aftersales.return","order_id":"o-1001","customer_id":"c-77",'
        b'"lines":[{"line_id":"1","quantity":2}],"reason":"damaged","wanted_outcome":"refund",'
        b'"note":{"_type_":"personal_data","_data_":{"subject":"c-77","value":'
        b'"Glas zerbrochen \xe2\x80\x93 \xe7\xa0\xb4\xe6\x8d\x9f"}},'
        b'"evidence":[{"_type_":"personal_data","_data_":{"subject":"c-77",'
        b'"value":"https://img.example/1.jpg"}}],"channel":"web","requested_by":"c-77"}'
    ),
)
APPROVED_ID = UUID("5d0c1a7e-8b2f-4c61-b3a4-0e9f7d2c4b55")
REFUND_APPROVED = StoredEvent(
    originator_id=APPROVED_ID,
    originator_version=7,
    topic="aftersales.refund.Approved",
    state=(
        b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-03-04T10:30:00+01:00"},'
        b'"by":"supervisor-1"}'
    ),
)


def test_a_return_request_stored_today_still_decodes_and_opens_the_case() -> None:
    event = MAPPER.to_domain_event(RETURN_REQUESTED)
    assert isinstance(event, ReturnCase.Requested)
    assert event.timestamp == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert event.timestamp.utcoffset() == timedelta(hours=8)
    case = event.mutate(None)
    assert isinstance(case, ReturnCase)
    assert (case.id, case.version, case.status) == (REQUESTED_ID, 1, ReturnStatus.REQUESTED)
    assert (case.order_id, case.customer_id, case.reason) == ("o-1001", "c-77", "damaged")
    assert case.lines == [{"line_id": "1", "quantity": 2}]
    assert case.note == PersonalData("c-77", "Glas zerbrochen \u2013 破损")
    assert case.evidence == [PersonalData("c-77", "https://img.example/1.jpg")]
    # version 1 named its actor in requested_by, as the command said, with no role
    assert (event.by, event.role) == ("c-77", "unrecorded")
    assert (case.requested_by, case.requested_role) == ("c-77", "unrecorded")


def test_a_refund_approval_stored_today_still_decodes_and_applies() -> None:
    event = MAPPER.to_domain_event(REFUND_APPROVED)
    assert isinstance(event, RefundCase.Approved)
    assert (event.originator_id, event.originator_version, event.by) == (
        APPROVED_ID,
        7,
        "supervisor-1",
    )
    refund = RefundCase(
        id=APPROVED_ID,
        order_id="o-1001",
        customer_id="c-77",
        source="return",
        source_case_id=None,
        lines=[],
        amount=None,
        reason="damaged",
        by="agent-7",
        role="agent",
        timestamp=b.T0,
    )
    refund.calculate(b.calculation("300.00"), b.approval("needs_supervisor"), b.T0)
    refund.record_decision(decision=b.approval("approve"), timestamp=b.T0)
    assert refund.version == 6
    refund = event.mutate(refund)
    assert (refund.status, refund.approved_by) == (RefundStatus.APPROVED, "supervisor-1")
    assert refund.approved_role == "unrecorded"
    assert refund.modified_on == datetime(2026, 3, 4, 9, 30, tzinfo=UTC)


PROPOSED_V1 = StoredEvent(
    originator_id=APPROVED_ID,
    originator_version=5,
    topic="aftersales.complaint.ResolutionProposed",
    state=(
        b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-03-04T10:30:00+01:00"},'
        b'"agent":"agent-1","resolution":"coupon","amount":null,"note":null}'
    ),
)
SUPERVISOR_ID = "5f7c2a0e-1b1d-5c8e-9f57-6d3f0a2c9b11"
REFUND_APPROVED_V2 = StoredEvent(
    originator_id=APPROVED_ID,
    originator_version=7,
    topic="aftersales.refund.Approved",
    state=(
        b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-03-04T10:30:00+01:00"},'
        b'"by":"' + SUPERVISOR_ID.encode() + b'","role":"supervisor","class_version":2}'
    ),
)


def test_every_v1_actor_field_is_upcast_into_by_with_an_unrecorded_role() -> None:
    event = MAPPER.to_domain_event(PROPOSED_V1)
    assert isinstance(event, ComplaintCase.ResolutionProposed)
    assert (event.by, event.role, event.resolution) == ("agent-1", "unrecorded", "coupon")
    stored_again = json.loads(MAPPER.to_stored_event(event).state)
    assert "agent" not in stored_again and stored_again["class_version"] == 2


def test_an_approval_stored_by_a_principal_records_its_id_and_role_and_round_trips() -> None:
    event = MAPPER.to_domain_event(REFUND_APPROVED_V2)
    assert isinstance(event, RefundCase.Approved)
    assert (event.by, event.role) == (SUPERVISOR_ID, "supervisor")
    assert MAPPER.to_stored_event(event).state == REFUND_APPROVED_V2.state


ORDER_ID = UUID("8c2d0f5e-6a1b-5d3c-9e4f-7a0b1c2d3e4f")
# an order's facts as version 1 stored them: nobody named who delivered them
ORDER_REGISTERED_V1 = StoredEvent(
    originator_id=ORDER_ID,
    originator_version=1,
    topic="aftersales.order.Registered",
    state=(
        b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-03-02T09:00:00+00:00"},'
        b'"originator_topic":"aftersales.order","order_id":"o-1"}'
    ),
)
ORDER_PAID_V1 = StoredEvent(
    originator_id=ORDER_ID,
    originator_version=2,
    topic="aftersales.order.Paid",
    state=(
        b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-03-02T09:00:00+00:00"},'
        b'"event_id":"o-1-paid-0","payment_id":"pay-0","method":"card",'
        b'"amount":{"_type_":"decimal_str","_data_":"100.00"},"currency":"EUR",'
        b'"paid_at":{"_type_":"datetime_iso","_data_":"2026-03-02T09:00:00+00:00"}}'
    ),
)
SCANNED_V1 = StoredEvent(
    originator_id=ORDER_ID,
    originator_version=3,
    topic="aftersales.order.ShipmentScanned",
    state=(
        b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-03-03T09:00:00+00:00"},'
        b'"event_id":"e-9","shipment_id":"s-1","carrier":"DHL","direction":"outbound",'
        b'"scan":"Delivered","occurred_at":{"_type_":"datetime_iso",'
        b'"_data_":"2026-03-03T08:00:00+00:00"},"location":null,"detail":null,"extra":""}'
    ),
)


def test_an_orders_facts_stored_before_they_named_who_sent_them_decode_as_unrecorded() -> None:
    events = [MAPPER.to_domain_event(s) for s in (ORDER_REGISTERED_V1, ORDER_PAID_V1,
                                                  SCANNED_V1)]
    paid, scanned = events[1:]
    assert isinstance(paid, Order.Paid) and isinstance(scanned, Order.ShipmentScanned)
    assert (paid.by, paid.role) == (scanned.by, scanned.role) == ("unrecorded", "unrecorded")
    order = b.replay(events)
    assert isinstance(order, Order)
    assert (order.version, order.payments) == (3, {"pay-0": Decimal("100.00")})
    assert order.delivered_at == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    stored_again = json.loads(MAPPER.to_stored_event(paid).state)
    assert (stored_again["by"], stored_again["class_version"]) == ("unrecorded", 3)
    registered_again = json.loads(MAPPER.to_stored_event(events[0]).state)
    assert "by" not in registered_again and "role" not in registered_again


def test_an_orders_fact_records_who_delivered_it_and_round_trips() -> None:
    order = placed_order()
    placed, paid = order.collect_events()[1:3]
    assert isinstance(placed, Order.Placed) and isinstance(paid, Order.Paid)
    for fact in (placed, paid):
        assert (fact.by, fact.role) == ("orders-service", "upstream")
        stored = MAPPER.to_stored_event(fact)
        assert json.loads(stored.state)["role"] == "upstream"
        assert MAPPER.to_stored_event(MAPPER.to_domain_event(stored)).state == stored.state


def test_the_golden_states_are_plain_json_with_typed_envelopes() -> None:
    for stored in (RETURN_REQUESTED, REFUND_APPROVED):
        state = json.loads(stored.state)
        assert state["timestamp"]["_type_"] == "datetime_iso"


# ---- whole cases through the store format -------------------------------------------------------


def at(hours: int, offset: int = 0) -> datetime:
    return (b.T0 + timedelta(hours=hours)).astimezone(timezone(timedelta(hours=offset)))


def lifecycles() -> list[Aggregate]:
    """Real aggregates, driven through every event type they have."""
    ret = ReturnCase(
        id=uuid4(),
        order_id="o-1",
        customer_id="c-1",
        lines=[{"line_id": "1", "quantity": 1}],
        reason="damaged",
        wanted_outcome="refund",
        note=None,
        evidence=[],
        channel="app",
        by="c-1",
        role="customer",
        timestamp=at(0, 8),
    )
    ret.decide(b.eligibility(), b.abuse("review"), b.shipping(), at(1, 8))
    ret.approve(b.SUPERVISOR, b.shipping("merchant"), at(2, -5))
    ret.issue_label(b.AGENT, "SF Express", "SF123", Money.of("38.50", "CNY"), at(3))
    ret.shipped_back(shipment_id="s-1", carrier="SF Express", at=at(4, 8), actor=b.CARRIER)
    ret.receive(b.WAREHOUSE, "s-1", at(50))
    ret.inspect(b.WAREHOUSE, "C", "scratches", b.disposition("refurbish"), at(51))
    ret.resolve(b.AGENT, "refund", uuid4(), "refund of the item", at(52))
    ret.close(b.AGENT, at(53))

    cancelled = ReturnCase(
        id=uuid4(),
        order_id="o-2",
        customer_id="c-1",
        lines=[],
        reason="changed_mind",
        wanted_outcome="exchange",
        note=PersonalData("c-1", "größe passt nicht"),
        evidence=[PersonalData("c-1", "https://x.example/a.png")],
        channel="web",
        by="c-1",
        role="customer",
        timestamp=at(0),
    )
    cancelled.cancel(b.CUSTOMER, "found it", at(1))
    rejected = ReturnCase(
        id=uuid4(),
        order_id="o-3",
        customer_id="c-1",
        lines=[],
        reason="other",
        wanted_outcome="repair",
        note=None,
        evidence=[],
        channel="web",
        by="c-1",
        role="customer",
        timestamp=at(0),
    )
    rejected.decide(b.eligibility("reject"), b.abuse(), None, at(1))

    refund = RefundCase(
        id=uuid4(),
        order_id="o-1",
        customer_id="c-1",
        source="goodwill",
        source_case_id=None,
        lines=[],
        amount=Money.of("300.00", "EUR"),
        reason="goodwill",
        by="agent-7",
        role="agent",
        timestamp=at(0),
    )
    refund.calculate(b.calculation("300.00"), b.approval("needs_supervisor"), at(1))
    refund.approve(b.SUPERVISOR, b.approval("approve"), at(2))
    refund.issue(b.PAYMENTS, at(3))
    refund.fail("psp timeout", b.PAYMENTS, at(4))
    refund.issue(b.PAYMENTS, at(5))
    refund.settle("psp-42", b.PAYMENTS, at(6))
    refused = RefundCase(
        id=uuid4(),
        order_id="o-1",
        customer_id="c-1",
        source="complaint",
        source_case_id=str(uuid4()),
        lines=[],
        amount=None,
        reason="x",
        by="agent-7",
        role="agent",
        timestamp=at(0),
    )
    refused.reject(b.SUPERVISOR, "duplicate", at(1))

    complaint = ComplaintCase(
        id=uuid4(),
        customer_id="c-1",
        order_id=None,
        channel="social",
        category="customs",
        description=PersonalData("c-1", "关税太高了"),
        by="c-1",
        role="customer",
        proactive=True,
        timestamp=at(0, 8),
    )
    complaint.triage(b.triage("high"), at(0, 8))
    complaint.acknowledge(b.AGENT, PersonalData("c-1", "Wir prüfen das"), at(1))
    complaint.add_message("out", "social", b.AGENT, PersonalData("c-1", "哪个订单?"), at(1, 12),
                          awaiting_customer=True)
    complaint.add_message("in", "social", b.CUSTOMER, PersonalData("c-1", "👍"), at(2))
    complaint.propose(b.AGENT, "refund", Money.of("12.00", "EUR"), "duties", at(3))
    complaint.respond(False, b.CUSTOMER, at(4))
    complaint.escalate(b.AGENT, "regulator", "threatened", at(5))
    complaint.resolve(b.SUPERVISOR, "duties refunded", None, at(6))
    complaint.close(b.SUPERVISOR, 2, at(7))
    complaint.reopen(b.CUSTOMER, "not refunded", at(8))

    order = placed_order("EUR", ("100.00",))
    refund_id = uuid4()
    order.reserve_refund(refund_id, Money.of("40.00", "EUR"), at(1))
    order.settle_refund(refund_id=str(refund_id), amount=Decimal("40.00"), timestamp=at(2))
    order.release_refund(refund_id, at(3))
    order.record_shipment(
        event_id="e-9",
        shipment_id="s-1",
        carrier="DHL",
        direction="outbound",
        scan="CustomsReleased",
        occurred_at=at(4, 8),
        location="Shanghai",
        detail=None,
        by=b.UPSTREAM.principal_id,
        role=b.UPSTREAM.role,
        timestamp=at(4),
    )
    order.link_case(case_id=str(ret.id), kind="return", timestamp=at(5))
    order.reserve_return(ret.id, {"1": 1}, at(5))
    order.release_return(ret.id, "cancelled", at(5))
    order.cancel(event_id="e-10", reason="fraud", cancelled_at=at(6),
                 by=b.UPSTREAM.principal_id, role=b.UPSTREAM.role, timestamp=at(6))

    customer = Customer(customer_id="c-1", timestamp=at(0))
    customer.add_order("o-1", at(1))
    customer.add_return("o-1", at(2))
    customer.add_complaint(case_id=str(complaint.id), timestamp=at(3))

    admin = b.who("admin-id", "admin")
    principal = Principal.open("warehouse-7", ["warehouse"], None, admin, at(0))
    principal.grant("customer", "c-1", admin, at(1))
    principal.revoke("warehouse", admin, at(2))
    principal.disable("left the company", admin, at(3))
    principal.enable(admin, at(4))
    quota = BuyerQuota(customer_id="c-1", year=2026, annual_limit=Money.of("26000", "CNY"),
                       per_order_limit=Money.of("5000", "CNY"), timestamp=at(0))
    quota.use("o-1", Money.of("5999.00", "CNY"), at(1))
    quota.restore(str(ret.id), "o-1", Money.of("599.00", "CNY"), at(2))
    book = PolicyBook(owner="merchant", merchant_id="m-1", timestamp=at(0))
    book.set_version({"format": "aftersales.policy-book/1", "returns": {"ship_back": "14 days"}},
                     "sha256:ab", "admin-1", "admin", "first book", at(1),
                     base_hash="sha256:00")
    return [ret, cancelled, rejected, refund, refused, complaint, order, customer, principal,
            quota, book]


def test_cases_rebuilt_from_stored_events_equal_the_cases_that_wrote_them() -> None:
    written: dict[type[Aggregate], set[str]] = {a: set() for a in AGGREGATES}
    for aggregate in lifecycles():
        events = list(aggregate.collect_events())
        stored = [MAPPER.to_stored_event(e) for e in events]
        rebuilt = b.replay(MAPPER.to_domain_event(s) for s in stored)
        assert rebuilt == aggregate
        written[type(aggregate)] |= {type(e).__name__ for e in events}
    for kind, (_, names) in STORED_TOPICS.items():
        assert names <= written[kind], f"{kind.__name__} never wrote {names - written[kind]}"
