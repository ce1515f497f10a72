"""`aftersales dlq list | show | redrive` against a real broker: dead letters are listed and
shown with why and where from; once the cause is fixed, redrive sends the original bytes back
and the engine applies them; redriving twice changes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from aftersales.settings import Settings
from aftersales_core.application.services import Services
from consumers import kafka_clients
from tests.factories import T0, admin, caller, order_placed
from tests.kafka_fixtures import TestBroker
from tests.pipeline import (
    as_message,
    eventually,
    pipeline_settings,
    publish,
    read_all,
    workers,
)

pytestmark = pytest.mark.kafka


def dlq(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AFTERSALES_KAFKA_BOOTSTRAP_SERVERS": settings.kafka().servers,
           "AFTERSALES_DLQ_TOPIC": settings.dlq_topic}
    return subprocess.run([sys.executable, "-m", "aftersales", "dlq", *args],
                          capture_output=True, text=True, env=env, timeout=120, check=False)


def test_dead_letters_are_listed_shown_and_redriven_once_fixed(
        app: Services, sqlite_url: str, kafka_broker: TestBroker, topic_prefix: str,
        tmp_path: Path) -> None:
    settings = pipeline_settings(Settings(database_url=sqlite_url),
                                 kafka_broker.bootstrap_servers, topic_prefix)
    caller(app, "system.upstream")
    app.principals.disable(admin(app), "system.upstream", "key rotation", T0)
    placed = order_placed("o-1")
    publish(settings, settings.orders_topic, [as_message(placed), (b"o-2", b"{not json")])
    with workers(app, settings, "inbound") as running:
        inbound = running["inbound"]
        eventually(lambda: inbound.stats.dead_lettered == 2, 60, "dead-lettered",
                   running["failures"])

        listed = dlq(settings, "list", "--format", "json")
        assert listed.returncode == 0, listed.stderr
        rows = json.loads(listed.stdout)
        assert sorted(r["error_type"] for r in rows) == ["not_json", "refused"]
        assert all(r["source"].startswith(f"{settings.orders_topic}[") for r in rows)
        [refused] = json.loads(dlq(settings, "list", "--error-type", "refused",
                                   "--format", "json").stdout)
        assert refused["key"] == "o-1" and "disabled" in refused["error"]
        assert json.loads(dlq(settings, "list", "--since", "2199-01-01T00:00:00+00:00",
                              "--format", "json").stdout) == []
        shown = json.loads(dlq(settings, "show", refused["where"], "--format", "json").stdout)
        assert orjson.loads(shown["value"]) == placed  # the original, unchanged
        assert shown["headers"]["error_type"] == "refused"
        assert dlq(settings, "show", "0:999999").returncode == 3

        # the fix: the administrator enables the principal again; then redrive
        app.principals.enable(admin(app), "system.upstream", T0)
        dry = dlq(settings, "redrive", "--error-type", "refused", "--dry-run")
        assert dry.returncode == 0 and "would_send" in dry.stdout
        assert inbound.stats.applied == 0
        sent = dlq(settings, "redrive", "--error-type", "refused")
        assert sent.returncode == 0, sent.stderr
        assert [json.loads(line)["to"] for line in sent.stdout.splitlines()] == [
            settings.orders_topic]
        eventually(lambda: inbound.stats.applied == 1, 60, "the redriven order applied",
                   running["failures"])
        stored = app.store.recorder.max_notification_id()

        again = dlq(settings, "redrive", "--error-type", "refused")  # twice: nothing changes
        assert again.returncode == 0
        eventually(lambda: inbound.stats.duplicates == 1, 60, "seen before",
                   running["failures"])
        assert inbound.stats.applied == 1 and inbound.stats.dead_lettered == 2
        assert app.store.recorder.max_notification_id() == stored


def test_dead_letters_cannot_drive_the_terminal_in_any_format(
        sqlite_url: str, kafka_broker: TestBroker, topic_prefix: str) -> None:
    """A dead letter is anyone's bytes: its key, value and headers reach the screen only as
    escapes (SECURITY.md: output injection), in every format of list and show."""
    settings = pipeline_settings(Settings(database_url=sqlite_url),
                                 kafka_broker.bootstrap_servers, topic_prefix)
    key = b"\x1b]0;pwned\x07\xc2\x9b2J-\t=2+3"
    value = b'{"note": "\x1b[31mred\x1b[0m \xc2\x9b31m", "x": "\x07"}'
    producer = kafka_clients.producer(settings.kafka())
    producer.send(settings.dlq_topic, key=key, value=value, headers=[
        ("error", b"bad \x1b[2J"), ("error_type", b"not_json"),
        ("source_topic", b"orders\x1b[5m"), ("source_partition", b"0"),
        ("source_offset", b"7"), ("x-trace", b"\x1b]8;;http://evil\x07")]).get(timeout=30)
    producer.close(timeout=5)
    raw = ("\x1b", "\x07", "\x9b")
    outputs = {fmt: dlq(settings, "list", "--format", fmt) for fmt in
               ("table", "csv", "tsv", "json")}
    outputs["show"] = dlq(settings, "show", "0:0")
    outputs["show json"] = dlq(settings, "show", "0:0", "--format", "json")
    for name, done in outputs.items():
        assert done.returncode == 0, (name, done.stderr)
        assert not any(c in done.stdout or c in done.stderr for c in raw), (name, done.stdout)
    assert "\\x1b]0;pwned\\x07" in outputs["csv"].stdout
    [row_line] = [line for line in outputs["table"].stdout.splitlines() if "pwned" in line]
    assert "-\\t=2+3" in row_line  # piped, a tab cuts nothing
    assert "\\x1b[31mred" in outputs["show"].stdout and "\\x9b" in outputs["show"].stdout
    [row] = json.loads(outputs["json"].stdout)
    assert row["key"] == key.decode()  # JSON escapes it: a program reads the same text
    shown = json.loads(outputs["show json"].stdout)
    assert shown["value"] == value.decode() and shown["key"] == key.decode()


def test_a_record_that_names_no_source_topic_is_skipped_by_redrive_not_a_crash(
        sqlite_url: str, kafka_broker: TestBroker, topic_prefix: str) -> None:
    """Anyone with write access may put a record on the dead-letter topic: one without the
    headers this engine writes names nowhere to send it back (it was a bare ValueError, exit
    70); it is skipped with its reason, the others are sent, and the command exits 1."""
    settings = pipeline_settings(Settings(database_url=sqlite_url),
                                 kafka_broker.bootstrap_servers, topic_prefix)
    producer = kafka_clients.producer(settings.kafka())
    producer.send(settings.dlq_topic, key=b"k", value=b"{}",
                  headers=[("error_type", b"not_json")]).get(timeout=30)
    producer.close(timeout=5)
    for args in (("--dry-run",), ()):
        done = dlq(settings, "redrive", *args)
        assert done.returncode == 1, (args, done.stderr)
        [line] = [json.loads(x) for x in done.stdout.splitlines()]
        assert line[("would_skip" if args else "skipped")] == "0:0"
        assert "names no source topic" in line["reason"] and "Traceback" not in done.stderr
        assert "name no source topic (0:0)" in done.stderr


def test_redriving_poison_twice_sends_nothing_new_and_the_topic_does_not_grow(
        app: Services, sqlite_url: str, kafka_broker: TestBroker, topic_prefix: str) -> None:
    """A redriven message that fails again is dead-lettered again as a copy naming its letter
    (it lost that header, so every redrive sent the originals and their copies: 2, then 4, the
    topic 2, 4, 8); redrive sends neither again, `--again` the newest copy of each."""
    settings = pipeline_settings(Settings(database_url=sqlite_url),
                                 kafka_broker.bootstrap_servers, topic_prefix)
    publish(settings, settings.orders_topic, [(b"o-8", b"{not json")])
    publish(settings, settings.shipments_topic, [(b"o-9", b"\x1b[31mred\x1b[0m")])

    def listed() -> list[dict[str, str]]:
        done = dlq(settings, "list", "--format", "json")
        assert done.returncode == 0, done.stderr
        rows: list[dict[str, str]] = json.loads(done.stdout)
        return rows

    def sent(*args: str) -> list[dict[str, str]]:
        done = dlq(settings, "redrive", "--error-type", "not_json", *args)
        assert done.returncode == 0, done.stderr
        return [line for line in map(json.loads, done.stdout.splitlines()) if "sent" in line]

    with workers(app, settings, "inbound") as running:
        inbound = running["inbound"]
        eventually(lambda: inbound.stats.dead_lettered == 2, 60, "dead-lettered",
                   running["failures"])
        first = listed()
        assert len(sent()) == 2
        eventually(lambda: inbound.stats.dead_lettered == 4, 60, "dead-lettered again",
                   running["failures"])
        rows = listed()
        copies = {row["copy_of"]: row["where"] for row in rows if row["copy_of"]}
        assert sorted(copies) == sorted(row["where"] for row in first)
        assert {row["where"]: row["failed_again"] for row in rows
                if row["failed_again"]} == copies, rows

        done = dlq(settings, "redrive", "--error-type", "not_json")
        assert done.returncode == 0 and "sent 0 dead letter(s)" in done.stderr, done.stderr
        skipped = [json.loads(line) for line in done.stdout.splitlines()]
        assert sorted(line["skipped"] for line in skipped) == sorted(r["where"] for r in rows)
        assert len(listed()) == 4

        assert sorted(r["sent"] for r in sent("--again")) == sorted(copies.values())
        eventually(lambda: inbound.stats.dead_lettered == 6, 60, "the copies again",
                   running["failures"])
        assert sent() == []
        assert len(listed()) == 6 and inbound.stats.dead_lettered == 6


def test_a_case_event_a_projection_left_out_is_never_redriven_to_the_public_topic(
        sqlite_url: str, kafka_broker: TestBroker, topic_prefix: str) -> None:
    """Sent back, an old case event reached downstream consumers again after newer events of
    its case, and the runner skipped it anyway (its position was passed): redrive said `sent`
    and exited 0. It is skipped, named, and `projections rebuild` is the way."""
    settings = pipeline_settings(Settings(database_url=sqlite_url),
                                 kafka_broker.bootstrap_servers, topic_prefix)
    producer = kafka_clients.producer(settings.kafka())
    for offset, kind in ((b"3", "unprojectable"), (b"4", "not_a_case_event")):
        producer.send(settings.dlq_topic, key=b"c-1", value=b'{"type": "x"}', headers=[
            ("error", b"returns: boom"), ("error_type", kind.encode()),
            ("source_topic", settings.case_events_topic.encode()), ("source_partition", b"0"),
            ("source_offset", offset)]).get(timeout=30)
    producer.close(timeout=5)
    for args in (("--dry-run",), ()):
        done = dlq(settings, "redrive", *args)
        assert done.returncode == 1, (args, done.stderr)
        lines = [json.loads(x) for x in done.stdout.splitlines()]
        assert [line["would_skip" if args else "skipped"] for line in lines] == ["0:0", "0:1"]
        assert all("projections rebuild" in line["reason"] for line in lines)
        assert "2 case event(s) a projection left out (0:0, 0:1)" in done.stderr
        assert "send 0 dead letter(s)" in done.stderr or "sent 0 dead letter(s)" in done.stderr
    assert read_all(settings, settings.case_events_topic, 1, timeout=3) == []


def test_an_upstream_redriven_from_header_hides_no_genuine_letter(
        app: Services, sqlite_url: str, kafka_broker: TestBroker, topic_prefix: str) -> None:
    """A cold test's attack: a poison message carrying `redriven_from` naming a genuine letter
    made that letter "failed again" (redrive skipped it; --again sent the attacker's message
    instead). Only the redrive record `dlq redrive` writes makes a letter a copy."""
    settings = pipeline_settings(Settings(database_url=sqlite_url),
                                 kafka_broker.bootstrap_servers, topic_prefix)

    def listed() -> dict[str, dict[str, str]]:
        done = dlq(settings, "list", "--format", "json")
        assert done.returncode == 0, done.stderr
        return {row["where"]: row for row in json.loads(done.stdout)}

    publish(settings, settings.orders_topic, [(b"o-8", b"{not json")])
    with workers(app, settings, "inbound") as running:
        inbound = running["inbound"]
        eventually(lambda: inbound.stats.dead_lettered == 1, 60, "dead-lettered",
                   running["failures"])
        [genuine] = listed()
        partition, offset = genuine.split(":")
        producer = kafka_clients.producer(settings.kafka())
        producer.send(settings.orders_topic, key=b"o-9", value=b"{also not json", headers=[
            ("redriven_from", f"{settings.dlq_topic}[{partition}]@{offset}".encode()),
            ("redrive_of", genuine.encode())]).get(timeout=30)
        producer.close(timeout=5)
        eventually(lambda: inbound.stats.dead_lettered == 2, 60, "the forged one",
                   running["failures"])
        rows = listed()
        assert len(rows) == 2 and not any(r["copy_of"] or r["failed_again"]
                                          for r in rows.values()), rows
        [forged] = [where for where in rows if where != genuine]
        headers = json.loads(dlq(settings, "show", forged, "--format", "json").stdout)["headers"]
        assert "redriven_from" not in headers and "redrive_of" not in headers
        dry = [json.loads(x) for x in dlq(settings, "redrive", "--dry-run").stdout.splitlines()]
        assert sorted(x["would_send"] for x in dry) == sorted(rows), dry

        done = dlq(settings, "redrive")
        assert done.returncode == 0, done.stderr
        assert sorted(json.loads(x)["sent"] for x in done.stdout.splitlines()) == sorted(rows)
        eventually(lambda: inbound.stats.dead_lettered == 4, 60, "failed again",
                   running["failures"])
        after = listed()
        assert len(after) == 4  # the redrive records are no letters
        copies = {row["copy_of"]: row for row in after.values() if row["copy_of"]}
        assert sorted(copies) == sorted(rows)
        assert {w: copies[w]["key"] for w in copies} == {w: rows[w]["key"] for w in rows}
        assert {w: after[w]["failed_again"] for w in rows} == {
            w: copies[w]["where"] for w in rows}


def test_letters_of_one_source_place_are_listed_and_redriven_once(
        sqlite_url: str, kafka_broker: TestBroker, topic_prefix: str) -> None:
    """kill -9 of a worker between a letter's ack and its offset's commit dead-letters the
    message again on restart: the cold test saw 63 sources with two letters each, listed
    twice and redriven twice."""
    settings = pipeline_settings(Settings(database_url=sqlite_url),
                                 kafka_broker.bootstrap_servers, topic_prefix)
    producer = kafka_clients.producer(settings.kafka())
    for key, offset in ((b"o-1", b"5"), (b"o-2", b"6"), (b"o-1", b"5")):
        producer.send(settings.dlq_topic, key=key, value=b"{not json", headers=[
            ("error", b"not JSON"), ("error_type", b"not_json"),
            ("source_topic", settings.orders_topic.encode()), ("source_partition", b"0"),
            ("source_offset", offset)]).get(timeout=30)
    producer.close(timeout=5)
    done = dlq(settings, "list", "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [(r["where"], r["also_at"]) for r in rows] == [("0:0", "0:2"), ("0:1", "")]
    sent = dlq(settings, "redrive")
    assert sent.returncode == 0, sent.stderr
    lines = [json.loads(x) for x in sent.stdout.splitlines()]
    assert [(x["sent"], x.get("also_at")) for x in lines] == [("0:0", "0:2"), ("0:1", None)]
    assert len(read_all(settings, settings.orders_topic, 3, timeout=5)) == 2
