"""Records the Kafka client cannot decode (issue 9: no single message stops a worker).

kafka-python raises from ``poll()`` for a record whose header name is not UTF-8 (a broker
takes it: header names are bytes to it) or whose batch is compressed with a codec this process
has no library for; every later poll of the partition raises again, so the inbound consumer
used to fail on it for ever and apply nothing after it, on any partition. Such a record is
dead-lettered by its place (``undecodable``), the consumer commits past it and applies the
rest."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from aftersales.bootstrap import open_app
from aftersales.settings import Settings, eventsourcing_env
from aftersales_core.application.services import Services
from aftersales_core.domain.ids import order_aggregate_id
from aftersales_core.domain.order import Order
from consumers import kafka_clients
from consumers.dead_letters import DeadLetter
from projections.db import ReadDatabase
from tests.crash_helpers import read_to_end
from tests.factories import ingest, order_placed
from tests.integration.test_projection_runner import caught_up, rebuilt, snapshot
from tests.integration.test_worker_poison import relay_and_runner
from tests.kafka_fixtures import TestBroker
from tests.pipeline import eventually, pipeline_settings, workers

pytestmark = pytest.mark.kafka


class NotUtf8(str):
    """A header name the producer writes as bytes that are not UTF-8."""

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return b"\xff\xfe"


@pytest.fixture
def sqlite_app(sqlite_url: str) -> Iterator[Services]:
    application = open_app(eventsourcing_env(sqlite_url))
    yield application
    application.close()


def _publish(settings: Settings, items: list[tuple[str, list[tuple[str, bytes]]]],
             **config: object) -> list[tuple[int, int]]:
    assert settings.kafka_bootstrap_servers
    producer = kafka_clients.producer(settings.kafka_bootstrap_servers, **config)
    try:
        sent = [producer.send(settings.orders_topic, key=order_id.encode(),
                              value=orjson.dumps(order_placed(order_id)), headers=headers)
                for order_id, headers in items]
        producer.flush(timeout=30)
        return [(m.partition, m.offset) for m in (f.get(timeout=30) for f in sent)]
    finally:
        producer.close(timeout=5)


def _letters(settings: Settings) -> list[DeadLetter]:
    assert settings.kafka_bootstrap_servers
    return [DeadLetter(r.partition, r.offset, r.timestamp, r.key, r.value, tuple(r.headers))
            for r in read_to_end(settings.kafka_bootstrap_servers, settings.dlq_topic)]


def _applied(app: Services, *order_ids: str) -> bool:
    return all(app.store.find(Order, order_aggregate_id(o)) is not None for o in order_ids)


def test_a_header_name_that_is_not_utf8_is_dead_lettered_and_the_rest_applied(
    sqlite_app: Services, sqlite_url: str, kafka_broker: TestBroker, topic_prefix: str
) -> None:
    settings = pipeline_settings(Settings(database_url=sqlite_url),
                                 kafka_broker.bootstrap_servers, topic_prefix)
    good = [f"o-{n}" for n in range(1, 9)]
    items = [(good[0], []), ("o-bad", [(NotUtf8("traceparent"), b"x")]),
             *[(o, []) for o in good[1:]]]
    # each flushed alone, so that the bad record is a batch of its own (kafka-python cannot
    # read the records a producer batched with it either: those are dead-lettered by place)
    located = [found for item in items for found in _publish(settings, [item])]
    with workers(sqlite_app, settings, "inbound") as running:
        stats = running["inbound"].stats
        eventually(lambda: _applied(sqlite_app, *good), 60,
                   "every good order applied, on every partition", running["failures"])
        eventually(lambda: stats.dead_lettered == 1, 30, "the bad record dead-lettered",
                   running["failures"])
    assert stats.applied == len(good)
    assert not _applied(sqlite_app, "o-bad")
    [letter] = _letters(settings)
    assert letter.header("error_type") == "undecodable"
    assert (int(letter.header("source_partition") or -1),
            int(letter.header("source_offset") or -1)) == located[1]
    assert letter.header("source_topic") == settings.orders_topic
    assert "UnicodeDecodeError" in (letter.header("error") or "")
    assert not letter.value and letter.unsendable  # nothing of it here: never redriven


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
def test_batches_compressed_with_every_codec_of_kafka_are_applied(
    sqlite_app: Services, sqlite_url: str, kafka_broker: TestBroker, topic_prefix: str,
    codec: str
) -> None:
    """Producers often compress (lz4 or zstd by default in many clients): each of Kafka's
    codecs is installed with the engine, so such batches are applied, not dead-lettered."""
    settings = pipeline_settings(Settings(database_url=sqlite_url),
                                 kafka_broker.bootstrap_servers, topic_prefix)
    orders = [f"o-{codec}-{n}" for n in range(3)]
    _publish(settings, [(o, []) for o in orders], compression_type=codec)
    with workers(sqlite_app, settings, "inbound") as running:
        eventually(lambda: _applied(sqlite_app, *orders), 60, f"the {codec} batch applied",
                   running["failures"])
        assert running["inbound"].stats.dead_lettered == 0


def test_a_batch_compressed_with_a_codec_the_consumer_lacks_is_dead_lettered_record_by_record(
    sqlite_app: Services, sqlite_url: str, kafka_broker: TestBroker, topic_prefix: str,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = pipeline_settings(Settings(database_url=sqlite_url),
                                 kafka_broker.bootstrap_servers, topic_prefix)
    _publish(settings, [("o-1", [])])
    compressed = _publish(settings, [("o-zip", [])], compression_type="gzip")
    _publish(settings, [("o-2", []), ("o-3", [])])
    import kafka.codec

    monkeypatch.setattr(kafka.codec, "has_gzip", lambda: False)  # as lz4/zstd/snappy are
    with workers(sqlite_app, settings, "inbound") as running:
        stats = running["inbound"].stats
        eventually(lambda: _applied(sqlite_app, "o-1", "o-2", "o-3"), 60,
                   "the orders around the compressed batch applied", running["failures"])
        eventually(lambda: stats.dead_lettered == 1, 30, "the compressed record dead-lettered",
                   running["failures"])
    [letter] = _letters(settings)
    assert letter.header("error_type") == "undecodable"
    assert (int(letter.header("source_partition") or -1),
            int(letter.header("source_offset") or -1)) == compressed[0]
    assert "gzip" in (letter.header("error") or "")


def test_the_projection_runner_leaves_out_a_record_it_cannot_decode_and_goes_on(
    tmp_path: Path, kafka_broker: TestBroker, topic_prefix: str
) -> None:
    """A record forged onto the case-events topic with a header name that is not UTF-8."""
    settings = pipeline_settings(Settings(database_url=f"sqlite:///{tmp_path / 'e.sqlite'}"),
                                 kafka_broker.bootstrap_servers, topic_prefix)
    read_url = f"sqlite:///{tmp_path / 'read.sqlite'}"
    app = open_app(eventsourcing_env(settings.database_url))
    servers = kafka_broker.bootstrap_servers
    stop = threading.Event()
    try:
        producer = kafka_clients.producer(servers)
        forged = producer.send(settings.case_events_topic, key=b"k", value=b"{}",
                               headers=[(NotUtf8("traceparent"), b"x")]).get(timeout=30)
        producer.close(timeout=5)
        ingest(app, order_placed("o-1"))
        runner, _ = relay_and_runner(app, settings, read_url, stop)
        eventually(lambda: caught_up(read_url, app, settings), 90, "the runner applied the store")
        eventually(lambda: runner.stats.dead_lettered == 1, 30, "the forged record dead-lettered")
        ingest(app, order_placed("o-2"))  # and it goes on
        eventually(lambda: caught_up(read_url, app, settings), 60, "the runner goes on")
    finally:
        stop.set()
    [letter] = _letters(settings)
    assert (int(letter.header("source_partition") or -1),
            int(letter.header("source_offset") or -1)) == (forged.partition, forged.offset)
    assert letter.header("error_type") == "not_a_case_event"
    assert "cannot decode" in (letter.header("error") or "")
    assert snapshot(ReadDatabase(read_url)) == rebuilt(app, tmp_path)
    app.close()
