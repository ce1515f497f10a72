"""Poison messages on the real broker (SPEC §7): every kind of bad inbound message goes to the
dead-letter topic unchanged, with headers naming the error and where it came from; duplicates
are ignored; valid messages around them are applied exactly once; the consumer commits past
everything and never stops."""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from random import Random
from typing import Any

import hypothesis
import orjson
import pytest
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st

from aftersales.bootstrap import open_app
from aftersales.settings import Settings, eventsourcing_env
from aftersales_core.application.services import Services
from aftersales_core.domain.ids import order_aggregate_id
from aftersales_core.domain.order import Order
from aftersales_core.money import MINOR_UNITS
from consumers import kafka_clients
from schemas.limits import MAX_MESSAGE_BYTES
from schemas.outbound import DLQ_HEADERS
from tests.crash_helpers import StoreView, lag, publish_located, read_to_end, wait_for
from tests.factories import T0, order_paid, order_placed, shipment
from tests.kafka_fixtures import TestBroker
from tests.pipeline import as_message, eventually, pipeline_settings, workers

pytestmark = pytest.mark.kafka

ORDERS, SHIPMENTS = "orders", "shipments"
CURRENCIES = ("EUR", "GBP", "USD")
KINDS = ("not_json", "not_utf8", "wrong_types", "negative_amount", "total_mismatch",
         "unknown_currency", "missing_field", "oversized", "key_mismatch", "order_on_shipments",
         "shipment_on_orders", "empty_value", "tombstone", "refused")
PLACED_REQUIRED = ("event_id", "event_type", "occurred_at", "order_id", "customer_id", "market",
                   "currency", "fulfilment", "lines", "shipping_fee", "duties", "taxes", "total")
PAID_REQUIRED = ("event_id", "event_type", "occurred_at", "order_id", "payment_id", "method",
                 "amount", "currency")
SCAN_REQUIRED = ("event_id", "event_type", "occurred_at", "order_id", "shipment_id", "carrier",
                 "direction")
INVALID_UTF8 = (b"\xff", b"\xc3\x28", b"\xa0\xa1", b"\xed\xa0\x80", b"\xf0\x28\x8c\x28",
                b"\xc0\xaf", b"\xfe\xfe")

money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("400"), places=2)
fees = st.decimals(min_value=Decimal("0"), max_value=Decimal("30"), places=2)


@dataclass
class Item:
    """One message to publish and what must become of it."""

    topic: str  # ORDERS or SHIPMENTS
    key: bytes | None
    value: bytes | None
    label: str
    dead_letter_as: frozenset[str] = frozenset()  # acceptable error_type values; empty = valid
    duplicate: bool = False

    @property
    def poison(self) -> bool:
        return bool(self.dead_letter_as)


def dumps(message: Any) -> bytes:
    return orjson.dumps(message)


def valid(topic: str, message: dict[str, Any], label: str) -> Item:
    return Item(topic, message["order_id"].encode(), dumps(message), label)


def poison(topic: str, key: str | bytes | None, value: bytes | None, label: str,
           *kinds: str) -> Item:
    raw_key = key.encode() if isinstance(key, str) else key
    return Item(topic, raw_key, value, label, frozenset(kinds))


@st.composite
def placed_orders(draw: st.DrawFn, order_id: str) -> dict[str, Any]:
    lines = [
        {"line_id": str(n + 1), "sku": f"SKU-{draw(st.integers(1, 99))}",
         "category": draw(st.sampled_from(["home", "toys", "apparel", "electronics"])),
         "quantity": draw(st.integers(1, 4)), "unit_price": str(draw(money))}
        for n in range(draw(st.integers(1, 3)))
    ]
    return order_placed(
        order_id, currency=draw(st.sampled_from(CURRENCIES)),
        market=draw(st.sampled_from(["DE", "FR", "GB", "US", "NL"])),
        fulfilment=draw(st.sampled_from(["bonded", "direct_mail", "domestic"])),
        customer_id=f"c-{draw(st.integers(1, 5))}", lines=lines,
        shipping_fee=str(draw(fees)), duties=str(draw(fees)), taxes=str(draw(fees)),
        at=T0 + timedelta(minutes=draw(st.integers(0, 600))),
    )


def _with_total(message: dict[str, Any]) -> dict[str, Any]:
    """Recompute the total so that only the fault under test is wrong."""
    items = sum(Decimal(x["unit_price"]) * x["quantity"] for x in message["lines"])
    message["total"] = str(items + sum(Decimal(message[f]) for f in
                                       ("shipping_fee", "duties", "taxes")))
    return message


# ---- one strategy per kind of poison (SPEC §7); `bad` is an order id no valid message uses ----

@st.composite
def not_json(draw: st.DrawFn, bad: str) -> Item:
    whole = dumps(draw(placed_orders(bad)))
    value = draw(st.one_of(
        st.integers(1, len(whole) - 1).map(lambda cut: whole[:cut]),
        st.text(min_size=1, max_size=50).map(lambda t: b"<order>" + t.encode()),
        st.sampled_from([b"{'order_id': 'x'}", b'{"a": 1,}', b"NaN", b"order_id=o-1", b"{",
                         b"\x00\x01\x02", whole + b"}"]),
    ))
    return poison(ORDERS, bad, value, "not JSON", "not_json")


@st.composite
def not_utf8(draw: st.DrawFn, bad: str) -> Item:
    message = draw(placed_orders(bad))
    how = draw(st.sampled_from(["invalid bytes", "utf-16", "latin-1"]))
    if how == "invalid bytes":
        marker = b'"customer_id":"'
        whole = dumps(message)
        cut = whole.index(marker) + len(marker)
        value = whole[:cut] + draw(st.sampled_from(INVALID_UTF8)) + whole[cut:]
    else:
        message["customer_id"] = "Zoë Ångström"
        value = orjson.dumps(message).decode().encode(how)
    return poison(ORDERS, bad, value, f"not UTF-8 ({how})", "not_json")


@st.composite
def wrong_types(draw: st.DrawFn, bad: str) -> Item:
    message = draw(placed_orders(bad))
    field, wrong = draw(st.sampled_from([
        ("total", float(message["total"])),  # a JSON number, not a decimal string
        ("shipping_fee", 5), ("lines", "two mugs"), ("lines", {"line_id": "1"}),
        ("line quantity", "two"), ("line quantity", 1.5), ("occurred_at", "yesterday"),
        ("occurred_at", "2026-03-02T09:00:00"),  # no offset: not RFC 3339
        ("customer_id", 42), ("customer_id", None), ("event_type", "OrderShipped"),
        ("fulfilment", "teleport"), ("market", "Germany"), ("whole", []), ("whole", "text"),
        ("whole", 42), ("whole", None), ("whole", True),
    ]))
    if field == "whole":
        return poison(ORDERS, bad, dumps(wrong), f"not an object: {wrong!r}", "invalid")
    if field == "line quantity":
        message["lines"][0]["quantity"] = wrong
    else:
        message[field] = wrong
    return poison(ORDERS, bad, dumps(message), f"{field}={wrong!r}", "invalid")


@st.composite
def negative_amount(draw: st.DrawFn, bad: str) -> Item:
    message = draw(placed_orders(bad))
    minus = "-" + str(draw(money))
    where = draw(st.sampled_from(["shipping_fee", "taxes", "unit_price", "payment"]))
    if where == "payment":
        paid = order_paid(message) | {"amount": minus}
        return poison(ORDERS, bad, dumps(paid), "negative payment", "invalid")
    if where == "unit_price":
        message["lines"][0]["unit_price"] = minus
    else:
        message[where] = minus
    return poison(ORDERS, bad, dumps(_with_total(message)), f"negative {where}", "invalid")


@st.composite
def total_mismatch(draw: st.DrawFn, bad: str) -> Item:
    message = draw(placed_orders(bad))
    total, delta = Decimal(message["total"]), draw(money)
    message["total"] = str(total - delta if total - delta >= 0 and draw(st.booleans())
                           else total + delta)
    return poison(ORDERS, bad, dumps(message), f"total off by {delta}", "invalid")


@st.composite
def unknown_currency(draw: st.DrawFn, bad: str) -> Item:
    currency = draw(st.one_of(
        st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3)
        .filter(lambda c: c not in MINOR_UNITS),
        st.sampled_from(["eur", "EURO", "€", "", "E U"]),
    ))
    message = draw(placed_orders(bad))
    if draw(st.booleans()):
        value = dumps(order_paid(message) | {"currency": currency})
    else:
        value = dumps(message | {"currency": currency})
    return poison(ORDERS, bad, value, f"currency {currency!r}", "invalid")


@st.composite
def missing_field(draw: st.DrawFn, bad: str) -> Item:
    placed = draw(placed_orders(bad))
    topic, message, required = draw(st.sampled_from([
        (ORDERS, placed, PLACED_REQUIRED), (ORDERS, order_paid(placed), PAID_REQUIRED),
        (SHIPMENTS, shipment(bad, "InTransit", T0 + timedelta(days=1)), SCAN_REQUIRED),
    ]))
    dropped = draw(st.sampled_from(required))
    del message[dropped]
    return poison(topic, bad, dumps(message), f"no {dropped}", "invalid")


@st.composite
def oversized(draw: st.DrawFn, bad: str) -> Item:
    size = draw(st.integers(MAX_MESSAGE_BYTES + 1, MAX_MESSAGE_BYTES + 40 * 1024))
    message = draw(placed_orders(bad))
    padding = size - len(dumps(message | {"padding": ""}))
    value = dumps(message | {"padding": "x" * padding})
    assert len(value) == size
    return poison(ORDERS, bad, value, f"{size} bytes", "oversized")


@st.composite
def key_mismatch(draw: st.DrawFn, bad: str) -> Item:
    key = draw(st.one_of(st.binary(min_size=1, max_size=30), st.just(b"o-0"), st.none(),
                         st.just(bad.upper().encode())).filter(lambda k: k != bad.encode()))
    return poison(ORDERS, key, dumps(draw(placed_orders(bad))), f"key {key!r}", "key_mismatch")


@st.composite
def order_on_shipments(draw: st.DrawFn, bad: str) -> Item:
    placed = draw(placed_orders(bad))
    message = draw(st.sampled_from([placed, order_paid(placed)]))
    return poison(SHIPMENTS, bad, dumps(message), f"{message['event_type']} on shipments",
                  "invalid", "wrong_topic")


@st.composite
def shipment_on_orders(draw: st.DrawFn, bad: str) -> Item:
    scan = draw(st.sampled_from(["Dispatched", "Delivered", "Lost"]))
    message = shipment(bad, scan, T0 + timedelta(days=2))
    return poison(ORDERS, bad, dumps(message), f"{scan} on orders", "invalid", "wrong_topic")


def empty_value(bad: str) -> st.SearchStrategy[Item]:
    return st.just(poison(ORDERS, bad, b"", "empty value", "not_json"))


def tombstone(bad: str) -> st.SearchStrategy[Item]:
    return st.just(poison(SHIPMENTS, bad, None, "tombstone (null value)", "not_json"))


POISONS: dict[str, Callable[[str], st.SearchStrategy[Item]]] = {
    "not_json": not_json, "not_utf8": not_utf8, "wrong_types": wrong_types,
    "negative_amount": negative_amount, "total_mismatch": total_mismatch,
    "unknown_currency": unknown_currency, "missing_field": missing_field,
    "oversized": oversized, "key_mismatch": key_mismatch,
    "order_on_shipments": order_on_shipments, "shipment_on_orders": shipment_on_orders,
    "empty_value": empty_value, "tombstone": tombstone,
}


def refused(data: st.DataObject, placed: dict[str, Any], n: int) -> Item:
    """Well-formed, but the domain refuses it against the order already placed."""
    draw = data.draw
    oid, currency = placed["order_id"], placed["currency"]
    how = draw(st.sampled_from(["other currency", "below minor unit", "placed twice"]))
    paid = order_paid(placed) | {"event_id": f"{oid}-refused-{n}", "payment_id": f"pay-r{n}"}
    if how == "other currency":
        other = draw(st.sampled_from([c for c in CURRENCIES if c != currency]))
        message = paid | {"currency": other}
    elif how == "below minor unit":
        message = paid | {"amount": f"{draw(money)}1"}  # e.g. 12.341: there is no such cent
    else:
        message = placed | {"event_id": f"{oid}-placed-again-{n}", "customer_id": "c-other"}
    return poison(ORDERS, oid, dumps(message), f"refused: {how}", "refused")


@dataclass
class Scenario:
    items: list[Item]
    orders: dict[str, dict[str, Any]]  # valid order id -> its OrderPlaced
    valid_ids: dict[str, set[str]]  # valid order id -> event ids that must be applied
    bad_ids: list[str]


def scenario(data: st.DataObject) -> Scenario:
    """Valid orders (placed, paid, dispatched), duplicates of some, and poison of every kind
    (some kinds more than once), interleaved; per order and topic the valid order is kept."""
    draw = data.draw
    n_orders = draw(st.integers(3, 6), label="valid orders")
    kinds = list(KINDS) + draw(st.lists(st.sampled_from(KINDS), max_size=6), label="extra kinds")
    rng = draw(st.randoms(use_true_random=False), label="interleaving")
    rng.shuffle(kinds)
    sequences: list[list[Item]] = []
    orders: dict[str, dict[str, Any]] = {}
    valid_ids: dict[str, set[str]] = {}
    targets = [f"o-{n}" for n in range(n_orders)]
    refusals: dict[str, list[Item]] = {oid: [] for oid in targets}
    bad_ids: list[str] = []
    for oid in targets:
        orders[oid] = draw(placed_orders(oid), label=f"order {oid}")
    for n, kind in enumerate(kinds):
        if kind == "refused":
            oid = rng.choice(targets)
            refusals[oid].append(refused(data, orders[oid], n))
            continue
        bad = f"bad-{n}"
        bad_ids.append(bad)
        sequences.append([draw(POISONS[kind](bad), label=kind)])
    for oid in targets:
        placed = orders[oid]
        paid = order_paid(placed)
        scanned = shipment(oid, "Dispatched", T0 + timedelta(days=1))
        valid_ids[oid] = {placed["event_id"], paid["event_id"], scanned["event_id"]}
        tail = [valid(ORDERS, paid, "paid"), *refusals[oid]]
        rng.shuffle(tail)
        on_orders = [valid(ORDERS, placed, "placed"), *tail]
        on_shipments = [valid(SHIPMENTS, scanned, "dispatched")]
        for sequence in (on_orders, on_shipments):
            for original in [i for i in sequence if not i.poison]:
                if rng.random() < 0.4:  # a redelivery: the same bytes again, later
                    copy = Item(original.topic, original.key, original.value,
                                f"duplicate of {original.label}", duplicate=True)
                    sequence.insert(rng.randint(sequence.index(original) + 1, len(sequence)),
                                    copy)
            sequences.append(sequence)
    if not any(i.duplicate for s in sequences for i in s):
        first = sequences[-1][0]
        sequences[-1].append(Item(first.topic, first.key, first.value, "duplicate",
                                  duplicate=True))
    return Scenario(merge(sequences, rng), orders, valid_ids, bad_ids)


def merge(sequences: list[list[Item]], rng: Random) -> list[Item]:
    """A random interleaving that keeps each sequence's own order."""
    queues = [list(s) for s in sequences]
    out: list[Item] = []
    while any(queues):
        pick = rng.randrange(sum(len(q) for q in queues))  # weighted by what is left
        for queue in queues:
            if pick < len(queue):
                out.append(queue.pop(0))
                break
            pick -= len(queue)
    return out


class Lines(logging.Handler):
    """Collects the consumer's warnings (it logs from its own thread)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def mention(self, text: str) -> bool:
        return any(text in line for line in self.lines)


def check_dead_letters(settings: Settings, items: list[Item], located: list[Any]) -> None:
    assert settings.kafka_bootstrap_servers
    expected = {(m.topic, m.partition, m.offset): item
                for item, m in zip(items, located, strict=True) if item.poison}
    records = read_to_end(settings.kafka_bootstrap_servers, settings.dlq_topic)
    seen: Counter[tuple[str, int, int]] = Counter()
    for record in records:
        headers = {k: v for k, v in record.headers}
        assert set(DLQ_HEADERS) <= set(headers), headers
        source = (headers["source_topic"].decode(), int(headers["source_partition"]),
                  int(headers["source_offset"]))
        seen[source] += 1
        item = expected.get(source)
        assert item is not None, f"a message that is not poison was dead-lettered: {source}"
        assert record.value == item.value, f"{item.label}: the value changed in the DLQ"
        assert record.key == item.key, f"{item.label}: the key changed in the DLQ"
        assert headers["error_type"].decode() in item.dead_letter_as, (
            f"{item.label}: error_type {headers['error_type']!r}, "
            f"expected one of {sorted(item.dead_letter_as)}")
        assert headers["error"].strip(), f"{item.label}: empty error header"
    missing = [expected[s].label for s in expected if s not in seen]
    assert not missing, f"not in the DLQ: {missing}"
    assert all(n == 1 for n in seen.values()), f"dead-lettered more than once: {seen}"


def check_store(app: Services, plan: Scenario) -> None:
    view = StoreView(app)
    view.refresh()
    every_valid = set().union(*plan.valid_ids.values())
    assert set(view.upstream_ids) == every_valid, (
        f"applied but poison: {set(view.upstream_ids) - every_valid}; "
        f"valid but not applied: {every_valid - set(view.upstream_ids)}")
    assert all(n == 1 for n in view.upstream_ids.values()), view.upstream_ids
    for oid, placed in plan.orders.items():
        order = app.store.load(Order, order_aggregate_id(oid))
        assert order.placed and order.currency == placed["currency"]
        assert order.total == Decimal(placed["total"])
        assert order.payments == {f"pay-{oid}": Decimal(placed["total"])}
        assert order.seen_event_ids == plan.valid_ids[oid]
        aggregate = str(order.id)
        for topic in ("Placed", "Paid", "ShipmentScanned"):
            assert view.types[(aggregate, f"aftersales.order.{topic}")] == 1, (oid, topic)
    for bad in plan.bad_ids:
        assert app.store.find(Order, order_aggregate_id(bad)) is None, f"{bad} left a trace"


@hypothesis.settings(max_examples=3, deadline=None,
                     phases=(Phase.explicit, Phase.reuse, Phase.generate),  # no shrinking
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_poison_of_every_kind_is_dead_lettered_and_valid_messages_apply_once(
    kafka_broker: TestBroker, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    plan = scenario(data)
    prefix = f"t-poison-{uuid.uuid4().hex[:10]}"
    store = tmp_path_factory.mktemp("poison") / "events.sqlite"
    settings = pipeline_settings(Settings(database_url=f"sqlite:///{store}"),
                                  kafka_broker.bootstrap_servers, prefix)
    topics = {ORDERS: settings.orders_topic, SHIPMENTS: settings.shipments_topic}
    located = publish_located(settings, [(topics[i.topic], i.key, i.value) for i in plan.items])
    poisons = sum(i.poison for i in plan.items)
    duplicates = sum(i.duplicate for i in plan.items)
    app = open_app(eventsourcing_env(settings.database_url))
    logged = Lines()
    logger = logging.getLogger("consumers.inbound")
    logger.addHandler(logged)
    try:
        with workers(app, settings, "inbound") as running:
            stats = running["inbound"].stats

            def handled() -> bool:
                if running["failures"]:
                    raise AssertionError("the inbound consumer died") from running["failures"][0]
                return stats.applied + stats.duplicates + stats.dead_lettered >= len(plan.items)

            wait_for(handled, 60, f"{len(plan.items)} messages handled", interval=0.1)
            servers = kafka_broker.bootstrap_servers
            wait_for(lambda: not any(lag(servers, list(topics.values()),
                                                        settings.inbound_group).values()), 30,
                     "offsets committed up to the end of both topics", interval=0.2)
            assert not running["failures"]
        assert stats.dead_lettered == poisons, stats
        assert stats.duplicates == duplicates, stats
        assert stats.applied == len(plan.items) - poisons - duplicates, stats
        check_dead_letters(settings, plan.items, located)
        check_store(app, plan)
        for item, where in zip(plan.items, located, strict=True):
            if item.poison:  # SPEC §7: a log line names topic/partition/offset
                assert logged.mention(f"{where.topic}[{where.partition}]@{where.offset}"), item
    finally:
        logger.removeHandler(logged)
        app.close()


@pytest.fixture
def sqlite_app(sqlite_url: str) -> Iterator[Services]:
    application = open_app(eventsourcing_env(sqlite_url))
    yield application
    application.close()


def test_an_extra_field_shaped_like_the_stores_type_envelope_does_not_stop_the_consumer(
    sqlite_app: Services, sqlite_url: str, kafka_broker: TestBroker, topic_prefix: str
) -> None:
    settings = pipeline_settings(Settings(database_url=sqlite_url),
                                 kafka_broker.bootstrap_servers, topic_prefix)
    tricky = order_placed("o-1", upstream_meta={"_type_": "uuid_hex", "_data_": "not-a-uuid"})
    after = order_placed("o-2")
    messages = [tricky, order_paid(tricky), after]
    publish_located(settings, [(settings.orders_topic, *as_message(m)) for m in messages])
    with workers(sqlite_app, settings, "inbound") as running:
        stats = running["inbound"].stats
        eventually(lambda: stats.applied + stats.dead_lettered == len(messages), 30,
                   "all three messages handled", running["failures"])
        assert not running["failures"]
    assert sqlite_app.store.find(Order, order_aggregate_id("o-2")) is not None
    sqlite_app.store.find(Order, order_aggregate_id("o-1"))  # loads: the stored facts are readable


def test_a_replayed_dead_letter_is_dead_lettered_again_with_only_its_new_error(
    sqlite_app: Services, sqlite_url: str, kafka_broker: TestBroker, topic_prefix: str
) -> None:
    settings = pipeline_settings(Settings(database_url=sqlite_url),
                                 kafka_broker.bootstrap_servers, topic_prefix)
    old = [("error", b"key b'x' is not the order_id 'o-9'"), ("error_type", b"key_mismatch"),
           ("source_topic", b"orders.v1"), ("source_partition", b"2"),
           ("source_offset", b"41"), ("trace_id", b"abc")]
    assert settings.kafka_bootstrap_servers
    producer = kafka_clients.producer(settings.kafka_bootstrap_servers)
    where = producer.send(settings.orders_topic, key=b"o-9", value=b"{not json",
                          headers=old).get(timeout=30)
    producer.close(timeout=5)
    with workers(sqlite_app, settings, "inbound") as running:
        eventually(lambda: running["inbound"].stats.dead_lettered == 1, 30, "dead-lettered",
                   running["failures"])
    [record] = read_to_end(settings.kafka_bootstrap_servers, settings.dlq_topic)
    names = [k for k, _ in record.headers]
    assert all(names.count(h) == 1 for h in DLQ_HEADERS), names
    headers = dict(record.headers)
    assert headers["error_type"] == b"not_json"
    assert (headers["source_topic"], headers["source_partition"], headers["source_offset"]) == (
        where.topic.encode(), str(where.partition).encode(), str(where.offset).encode())
    assert headers["trace_id"] == b"abc"  # other headers travel with the message


def test_a_message_without_a_key_is_dead_lettered_as_a_key_mismatch(
    sqlite_app: Services, sqlite_url: str, kafka_broker: TestBroker, topic_prefix: str
) -> None:
    """The key is the order_id (AsyncAPI, README): a keyless message lands on any partition,
    where the facts of its order could be applied out of order."""
    settings = pipeline_settings(Settings(database_url=sqlite_url),
                                 kafka_broker.bootstrap_servers, topic_prefix)
    keyless = order_placed("o-1")
    scan = shipment("o-2", "Dispatched", T0 + timedelta(days=1))
    located = publish_located(settings, [
        (settings.orders_topic, None, dumps(keyless)),
        (settings.shipments_topic, None, dumps(scan)),
        (settings.orders_topic, *as_message(order_placed("o-2")))])
    with workers(sqlite_app, settings, "inbound") as running:
        stats = running["inbound"].stats
        eventually(lambda: stats.dead_lettered == 2 and stats.applied == 1, 30,
                   "two dead-lettered, one applied", running["failures"])
    assert stats.by_kind == {"key_mismatch": 2}
    assert sqlite_app.store.find(Order, order_aggregate_id("o-1")) is None
    assert sqlite_app.store.find(Order, order_aggregate_id("o-2")) is not None
    assert settings.kafka_bootstrap_servers
    letters = read_to_end(settings.kafka_bootstrap_servers, settings.dlq_topic)
    assert sorted((dict(r.headers)["source_topic"].decode(), int(dict(r.headers)[
        "source_offset"])) for r in letters) == sorted((m.topic, m.offset) for m in located[:2])
    for record in letters:
        assert record.key is None
        assert dict(record.headers)["error"].startswith(b"no key: the key must be the order_id")
