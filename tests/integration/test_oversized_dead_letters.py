"""A message larger than any dead letter may be (over 1 MiB, on a topic an upstream configured
to take it) is dead-lettered cut to a bounded prefix, with its size and SHA-256; the inbound
consumer commits past it and applies the next message; `dlq show` says what was kept and where
the whole is, and `dlq redrive` refuses to send the part as if it were the message (SPEC §7)."""

from __future__ import annotations

import hashlib
import json

import orjson
import pytest

from aftersales.brokers.topics import ensure_topics
from aftersales.settings import Settings
from aftersales_core.application.services import Services
from aftersales_core.domain.ids import order_aggregate_id
from aftersales_core.domain.order import Order
from consumers.dead_letters import SAFE_BYTES
from tests.crash_helpers import lag, publish_located, read_to_end
from tests.factories import order_placed
from tests.integration.test_dlq_cli import dlq
from tests.kafka_fixtures import TestBroker
from tests.pipeline import as_message, eventually, pipeline_settings, workers

pytestmark = pytest.mark.kafka

BIG = 1_500_000


def test_a_message_over_a_mebibyte_is_dead_lettered_cut_and_the_consumer_goes_on(
        app: Services, sqlite_url: str, kafka_broker: TestBroker, topic_prefix: str) -> None:
    servers = kafka_broker.bootstrap_servers
    orders = f"{topic_prefix}-orders"  # made first, as an upstream could: it takes 2 MB
    ensure_topics(servers, {orders: 1}, configs={orders: {"max.message.bytes": "2000000"}})
    settings = pipeline_settings(Settings(database_url=sqlite_url), servers, topic_prefix)
    assert settings.orders_topic == orders
    big = order_placed("o-1", upstream_note="x" * BIG)
    key, value = as_message(big)
    assert len(value) > 1024 * 1024
    located = publish_located(settings, [(orders, key, value),
                                         (orders, *as_message(order_placed("o-2")))])
    with workers(app, settings, "inbound") as running:
        stats = running["inbound"].stats
        eventually(lambda: stats.dead_lettered == 1 and stats.applied == 1, 60,
                   "the big message dead-lettered, the next one applied", running["failures"])
        eventually(lambda: not any(lag(servers, [orders], settings.inbound_group).values()), 30,
                   "the offset committed past both")
        assert not running["failures"]
    assert stats.by_kind == {"oversized": 1}
    assert app.store.find(Order, order_aggregate_id("o-2")) is not None
    assert app.store.find(Order, order_aggregate_id("o-1")) is None

    [letter] = read_to_end(servers, settings.dlq_topic)
    headers = dict(letter.headers)
    assert headers["error_type"] == b"oversized" and headers["cut"] == b"value"
    assert (headers["source_topic"], headers["source_partition"], headers["source_offset"]) == (
        orders.encode(), str(located[0].partition).encode(), str(located[0].offset).encode())
    assert headers["original_bytes"] == str(len(value)).encode()
    assert headers["original_sha256"] == hashlib.sha256(value).hexdigest().encode()
    assert letter.key == key and value.startswith(letter.value)
    assert SAFE_BYTES - 10_000 < len(letter.value) < SAFE_BYTES

    listed = dlq(settings, "list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert row["cut"] == "value" and row["bytes"] == len(value)
    shown = dlq(settings, "show", row["where"], "--format", "json")
    assert shown.returncode == 0, shown.stderr
    detail = json.loads(shown.stdout)
    assert detail["headers"]["original_sha256"] == hashlib.sha256(value).hexdigest()
    assert f"{orders}[{located[0].partition}]@{located[0].offset}" in detail["kept"]
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(detail["value"])  # a prefix, and said to be one
    table = dlq(settings, "show", row["where"])
    assert table.returncode == 0 and f"of {len(value)} bytes" in table.stdout

    for dry in (["--dry-run"], []):
        refused = dlq(settings, "redrive", *dry)
        assert refused.returncode == 1, refused.stderr
        assert "cut" in refused.stderr and row["where"] in refused.stderr
        assert "sent" not in json.loads(refused.stdout.splitlines()[0])
    assert len(read_to_end(servers, orders)) == 2  # nothing was sent back


def test_dead_letters_are_cut_to_the_limit_the_dead_letter_topic_has(
        app: Services, sqlite_url: str, kafka_broker: TestBroker, topic_prefix: str) -> None:
    servers = kafka_broker.bootstrap_servers
    small = 100_000  # the dead-letter topic's max.message.bytes, learnt from the broker
    ensure_topics(servers, {f"{topic_prefix}-dlq": 1},
                  configs={f"{topic_prefix}-dlq": {"max.message.bytes": str(small)}})
    settings = pipeline_settings(Settings(database_url=sqlite_url), servers, topic_prefix)
    key, value = as_message(order_placed("o-1", upstream_note="x" * 300_000))  # > 256 KiB
    publish_located(settings, [(settings.orders_topic, key, value)])
    with workers(app, settings, "inbound") as running:
        eventually(lambda: running["inbound"].stats.dead_lettered == 1, 60, "dead-lettered",
                   running["failures"])
    [letter] = read_to_end(servers, settings.dlq_topic)
    headers = dict(letter.headers)
    assert headers["cut"] == b"value" and headers["original_bytes"] == str(len(value)).encode()
    assert value.startswith(letter.value) and 80_000 < len(letter.value) < small
