"""What `dlq list` and `dlq redrive` read from the dead-letter topic: only headers the engine
wrote say where a letter came from and whether it is a redriven message that failed again
(an upstream's `redriven_from` hid a genuine letter, found by a cold test); letters of one
source place, written twice by a worker killed before its offset commit, are one; and a
sender's key is quoted cut short in errors and log lines (a 900 KB key made a 4.5 MB line)."""

from __future__ import annotations

import logging
from typing import Any
from uuid import uuid4

import pytest
from kafka.consumer.fetcher import ConsumerRecord

from aftersales_core.application.services import Services
from consumers.dead_letters import (
    MAX_ERROR_BYTES,
    QUOTE_LIMIT,
    DeadLetter,
    Rejection,
    dead_letter,
    listing,
    mark_redriven,
)
from consumers.inbound import InboundConsumer
from tests.factories import order_placed
from tests.pipeline import as_message

DLQ = "aftersales.dlq.v1"


class Sent:
    def __init__(self, partition: int = 0, offset: int = 0) -> None:
        self.partition, self.offset = partition, offset

    def get(self, timeout: float | None = None) -> Sent:
        return self


class FakeProducer:
    """Records what is sent; the broker's ack names the next offset of each topic."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]] = []

    def send(self, topic: str, key: bytes | None = None, value: bytes | None = None,
             headers: list[tuple[str, bytes]] | None = None) -> Sent:
        offset = sum(1 for t, *_ in self.sent if t == topic)
        self.sent.append((topic, key, value, list(headers or [])))
        return Sent(0, offset)

    def letters(self) -> list[DeadLetter]:
        return [DeadLetter(0, offset, 1000 + offset, key, value, tuple(headers))
                for offset, (_, key, value, headers) in enumerate(
                    x for x in self.sent if x[0] == DLQ)]


def record(offset: int, value: bytes = b"{not json", key: bytes | None = b"o-1",
           headers: list[tuple[str, bytes]] | None = None, topic: str = "orders.v1",
           partition: int = 2) -> ConsumerRecord:
    return ConsumerRecord(topic, partition, -1, offset, -1, -1, key, value, headers or [],
                          None, -1, -1, -1)


def not_json() -> Rejection:
    return Rejection("not_json", "not JSON")


def test_an_upstream_redriven_from_header_makes_no_letter_a_copy() -> None:
    """The cold test's attack: a poison message naming a genuine letter in `redriven_from`
    made that letter "failed again", so redrive skipped it (and --again sent the attacker's
    message in its place)."""
    producer = FakeProducer()
    dead_letter(producer, DLQ, record(52), not_json())  # type: ignore[arg-type]
    dead_letter(producer, DLQ, record(53, headers=[  # type: ignore[arg-type]
        ("redriven_from", f"{DLQ}[0]@0".encode()), ("redrive_of", b"0:0"),
        ("redriven_to_topic", b"orders.v1"), ("redriven_to_partition", b"2"),
        ("redriven_to_offset", b"53"), ("source_offset", b"52"), ("x-trace", b"t")]),
        not_json())
    genuine, forged = producer.letters()
    assert [k for k, _ in forged.headers] == ["error", "error_type", "source_topic",
                                              "source_partition", "source_offset", "x-trace"]
    assert forged.header("source_offset") == "53" and not forged.redrive_record
    found = listing([genuine, forged])
    assert found.copy_of == {} and found.failed_again == {}
    assert [x.where for x in found.letters] == ["0:0", "0:1"]


def test_a_copy_is_known_by_the_redrive_record_the_engine_wrote() -> None:
    producer = FakeProducer()
    dead_letter(producer, DLQ, record(52), not_json())  # type: ignore[arg-type]
    dead_letter(producer, DLQ, record(60, key=b"o-2"), not_json())  # type: ignore[arg-type]
    # the operator redrives 0:0: the message lands at orders.v1[2]@77 and fails again
    letter = producer.letters()[0]
    mark_redriven(producer, DLQ, letter, "orders.v1", 2, 77)  # type: ignore[arg-type]
    dead_letter(producer, DLQ, record(77), not_json())  # type: ignore[arg-type]
    # a forged letter on another place claiming to be that copy changes nothing
    dead_letter(producer, DLQ, record(78, headers=[  # type: ignore[arg-type]
        ("redriven_from", f"{DLQ}[0]@1".encode())]), not_json())
    records = producer.letters()
    assert [r.redrive_record for r in records] == [False, False, True, False, False]
    found = listing(records)
    assert found.copy_of == {"0:3": "0:0"} and found.failed_again == {"0:0": ["0:3"]}
    assert [x.where for x in found.letters] == ["0:0", "0:1", "0:3", "0:4"]
    assert "0:2" not in found.every  # the redrive record is no letter


def test_the_letters_of_one_source_place_are_one() -> None:
    """kill -9 between a letter's ack and its offset's commit: the message is dead-lettered
    again on restart; list shows it once (also_at names the other), redrive sends it once."""
    producer = FakeProducer()
    dead_letter(producer, DLQ, record(139), not_json())  # type: ignore[arg-type]
    dead_letter(producer, DLQ, record(140), not_json())  # type: ignore[arg-type]
    dead_letter(producer, DLQ, record(139), not_json())  # type: ignore[arg-type]
    dead_letter(producer, DLQ, record(139, topic="shipments.v1"),  # type: ignore[arg-type]
                not_json())
    found = listing(producer.letters())
    assert [x.where for x in found.letters] == ["0:0", "0:1", "0:3"]
    assert found.also_at == {"0:0": ["0:2"]}
    assert found.every["0:2"].source == "orders.v1[2]@139"
    # a redrive record naming the second letter marks the group's letter
    mark_redriven(producer, DLQ, found.every["0:2"], "orders.v1", 2, 200)  # type: ignore[arg-type]
    dead_letter(producer, DLQ, record(200), not_json())  # type: ignore[arg-type]
    dead_letter(producer, DLQ, record(200), not_json())  # type: ignore[arg-type]
    found = listing(producer.letters())
    assert found.failed_again == {"0:0": ["0:5"]} and found.copy_of == {"0:5": "0:0"}
    assert found.also_at == {"0:0": ["0:2"], "0:5": ["0:6"]}


def test_a_letter_sent_back_carries_no_header_the_engine_reads() -> None:
    from consumers.dead_letters import redrive

    letter = DeadLetter(0, 4, 0, b"o-1", b"{}", (
        ("error", b"x"), ("error_type", b"refused"), ("source_topic", b"orders.v1"),
        ("source_partition", b"2"), ("source_offset", b"9"), ("redriven_from", b"x[0]@1"),
        ("x-trace", b"t")))
    producer = FakeProducer()
    assert redrive(producer, letter, DLQ) == "orders.v1"  # type: ignore[arg-type]
    (topic, key, value, headers), marker = producer.sent
    assert (topic, key, value, headers) == ("orders.v1", b"o-1", b"{}", [("x-trace", b"t")])
    assert marker[0] == DLQ and dict(marker[3]) == {
        "redrive_of": b"0:4", "redriven_to_topic": b"orders.v1",
        "redriven_to_partition": b"0", "redriven_to_offset": b"0"}


def consumer(app: Services) -> tuple[InboundConsumer, list[Any]]:
    sent: list[Any] = []

    class Writer:
        def send(self, record: ConsumerRecord, rejection: Rejection) -> None:
            sent.append((record, rejection))

    inbound = InboundConsumer(app, uuid4(), lambda: None, lambda: None,  # type: ignore[arg-type,return-value]
                              orders_topic="orders.v1", shipments_topic="shipments.v1",
                              dlq_topic=DLQ)
    inbound.dead_letters = Writer()  # type: ignore[assignment]
    return inbound, sent


def test_a_huge_key_is_quoted_cut_short_in_the_error_and_the_log_line(
        app: Services, caplog: pytest.LogCaptureFixture) -> None:
    inbound, sent = consumer(app)
    _, value = as_message(order_placed("o-1"))
    huge = record(286, value=value, key=b"\x00" * 900_000)
    rejection = inbound.parse(huge)
    assert isinstance(rejection, Rejection) and rejection.kind == "key_mismatch"
    assert len(rejection.message) < 8 * QUOTE_LIMIT
    assert "(900000 bytes)" in rejection.message and "'o-1'" in rejection.message
    with caplog.at_level(logging.WARNING, logger="consumers.inbound"):
        inbound.reject(huge, rejection)
        inbound.reject(huge, Rejection("refused", "é" * 900_000))  # any message, cut
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and all(len(line.encode()) < MAX_ERROR_BYTES + 100 for line in lines)
    assert len(sent) == 2


def test_dlq_list_shows_a_long_key_cut_and_show_has_it_whole() -> None:
    """Found in a cold re-test: `dlq list --format json` printed a letter's 900 KB key whole in
    its row; the row now carries its first 200 bytes and its length, `dlq show` the key whole."""
    from aftersales.cli_dlq import LISTED_KEY_BYTES, _row

    long_key, short_key = b"k" * 900_000, b"o-1"
    letters = [DeadLetter(0, n, 1000 + n, key, b"{not json", (
        ("error_type", b"not_json"), ("error", b"not JSON"), ("source_topic", b"orders.v1"),
        ("source_partition", b"0"), ("source_offset", str(n).encode())))
        for n, key in enumerate((long_key, short_key))]
    found = listing(letters)
    listed = _row(letters[0], found)["key"]
    assert listed.startswith("k" * LISTED_KEY_BYTES + "…") and "(900000 bytes" in listed
    assert len(listed) < LISTED_KEY_BYTES + 100
    assert _row(letters[0], found, whole_key=True)["key"] == long_key.decode()
    assert _row(letters[1], found)["key"] == "o-1"
