"""A stored policy book version changed in the store after the fact, as someone with database
access could (raw SQL on the stored event, its recorded hash left as it was), on both stores:
loading it recomputes its hash and refuses it loudly; no decision is taken on it, nothing is
stored, `show` refuses it and `history` lists it as corrupt (exit 1 on the command line)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from uuid import uuid4

import pytest
from typer.testing import CliRunner

from aftersales.bootstrap import open_app
from aftersales.cli import app as cli_app
from aftersales.settings import Settings, eventsourcing_env
from aftersales_core.application.services import Services
from aftersales_core.policybook.canonical import digest
from aftersales_core.policybook.rulebook import CorruptBookError, merchant_book
from tests.factories import ADMIN, customer, delivered_order
from tests.integration.test_audit import RawStore
from tests.integration.test_policy_books import DELIVERED, eu30, set_book, uci

#: eu30's EU withdrawal period, as the stored event spells it, and the tampered one
HONEST, FORGED = b'"EU":{"no_fault":"30 days"', b'"EU":{"no_fault":"99 days"'


def fresh(settings: Settings) -> Services:
    """Another process on the same store (this one's event cache holds what it wrote)."""
    return open_app(eventsourcing_env(settings.database_url, settings.postgres_schema))


def tamper_latest_version(app: Services) -> None:
    """Widen the EU window in the latest stored VersionSet event, its book_hash unchanged."""
    raw = RawStore(app)
    rows = raw.execute("SELECT {position}, topic, state FROM {table} ORDER BY {position}",
                       rows=True)
    position, state = [(p, bytes(s)) for p, t, s in rows if t.endswith(".VersionSet")][-1]
    assert state.count(HONEST) == 1, state[:400]
    raw.execute("UPDATE {table} SET state = ? WHERE {position} = ?",
                state.replace(HONEST, FORGED), position)


@pytest.fixture
def tampered(app: Services, store_settings: Settings) -> Iterator[tuple[Services, str, str]]:
    """uci's book at version 2 (eu30), its stored document then changed; another process on
    the store; the recorded hash and what the stored content hashes to now."""
    set_book(app, "uci", uci())
    set_book(app, "uci", eu30())
    delivered_order(app, "o-1", currency="GBP", merchant_id="uci")
    recorded = app.store.books.version("uci").book_hash
    document = app.store.books.version("uci").document
    document["returns"]["markets"]["EU"]["no_fault"] = "99 days"
    tamper_latest_version(app)
    other = fresh(store_settings)
    try:
        yield other, recorded, digest(document)
    finally:
        other.close()


def test_a_book_changed_in_the_store_decides_nothing_and_stores_nothing(
        tampered: tuple[Services, str, str]) -> None:
    app, recorded, found = tampered
    assert found != recorded
    who = customer(app)  # the principal is created before
    end = app.store.recorder.max_notification_id()
    with pytest.raises(CorruptBookError) as refused:
        app.returns.request(who, uuid4(), "o-1", [{"line_id": "1", "quantity": 1}],
                            "changed_mind", "refund", DELIVERED + timedelta(days=20))
    assert app.store.recorder.max_notification_id() == end  # the store unchanged
    message = str(refused.value)
    assert "merchant uci" in message and "version 2" in message and "corrupt" in message
    assert recorded in message and found in message
    for read in (lambda: app.store.books.rules_for("uci"),
                 lambda: app.store.books.version("uci"),
                 lambda: app.store.books.publish("uci", "en", "md"),
                 lambda: app.store.books.rulebook(merchant_book("uci"), 2)):
        with pytest.raises(CorruptBookError):
            read()
    with pytest.raises(CorruptBookError):  # a delivery's deadlines are decisions too
        delivered_order(app, "o-2", currency="GBP", merchant_id="uci")
    assert app.store.books.version("uci", 1).version == 1  # the intact versions still load


def test_history_lists_a_changed_version_as_corrupt_with_both_hashes(
        tampered: tuple[Services, str, str]) -> None:
    app, recorded, found = tampered
    rows = app.store.books.history("uci")
    assert [r["status"] for r in rows] == ["intact", "intact", "corrupt"]
    assert all(r["content_hash"] == r["book_hash"] for r in rows[:2])
    assert (rows[2]["book_hash"], rows[2]["content_hash"]) == (recorded, found)
    assert rows[2]["set_by"] == rows[1]["set_by"] and rows[2]["reason"] == "test"


def test_show_and_history_on_the_command_line_say_the_version_is_corrupt(
        tampered: tuple[Services, str, str], store_settings: Settings) -> None:
    _, recorded, found = tampered
    env = {"AFTERSALES_DATABASE_URL": store_settings.database_url, "COLUMNS": "200"}
    if store_settings.postgres_schema:
        env["AFTERSALES_POSTGRES_SCHEMA"] = store_settings.postgres_schema
    runner = CliRunner()
    shown = runner.invoke(cli_app, ["policy", "show", "--merchant", "uci", "--as", ADMIN],
                          env=env)
    assert shown.exit_code == 1 and "corrupt" in shown.stderr and found in shown.stderr
    assert "no_fault" not in shown.stdout  # the tampered settings are not shown
    listed = runner.invoke(cli_app, ["policy", "history", "--merchant", "uci", "--format",
                                     "json", "--as", ADMIN], env=env)
    assert listed.exit_code == 1 and "version 2 is corrupt" in listed.stderr
    assert recorded in listed.stderr and found in listed.stderr
    assert [r["status"] for r in json.loads(listed.stdout)] == ["intact", "intact", "corrupt"]
