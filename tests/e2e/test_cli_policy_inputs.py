"""`aftersales policy …` refusing what it must, as a process: a reason with control characters
or too long, a merchant id the service API could not reach (for `set`, and for an order
ingested), `diff PROPOSED --to`, a first version equal to the built-in defaults; and a book
stored before these rules (an id with a space, a reason holding terminal escapes) still read,
its text never reaching the terminal raw."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aftersales.bootstrap import open_app
from aftersales.settings import eventsourcing_env
from aftersales_core.application.principals import principal_id_of
from aftersales_core.domain.policy_book import PolicyBook
from aftersales_core.policybook.canonical import digest
from aftersales_core.policybook.documents import canonical_document, parse, validate
from tests.e2e.test_cli import Cli
from tests.factories import ADMIN, cli_cast, order_placed

BOOKS = Path(__file__).parents[2] / "demo" / "books"
UCI, EU30 = str(BOOKS / "uci-online-retail.toml"), str(BOOKS / "uci-online-retail-eu30.toml")
ESCAPES = "\x1b[2J\x1b]0;owned\x07\u009b31m[bold]loud[/bold]\u202e"


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path)
    cli_cast(cli.run, "c-1")
    return cli


def versions(cli: Cli, merchant: str) -> list[int]:
    done = cli.run("policy", "history", "--merchant", merchant, "--format", "json", as_=ADMIN)
    assert done.returncode == 0, done.stderr
    return [row["version"] for row in json.loads(done.stdout)]


@pytest.mark.parametrize(("reason", "words"), [
    ("EU \u009b2J", "reason: must not contain NUL or control characters other than tab and "
                    "line breaks (U+009B at position 3)"),
    ("\x1b[31mred", "(U+001B at position 0)"),
    ("del\x7f", "(U+007F at position 3)"),
    ("x" * 1001, "reason: at most 1000 characters, not 1001"),
    ("", "reason: say why the book changes"),
])
def test_set_refuses_a_bad_reason_with_exit_2_and_stores_nothing(
        cli: Cli, reason: str, words: str) -> None:
    done = cli.run("policy", "set", UCI, "--merchant", "m1", "--reason", reason, as_=ADMIN)
    assert done.returncode == 2 and words in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "\x1b" not in done.stderr
    assert versions(cli, "m1") == [0]


def test_set_refuses_a_merchant_id_no_url_could_name(cli: Cli) -> None:
    for merchant in ("a b", "shop/eu#1", "-m1", "m" * 201):
        done = cli.run("policy", "set", UCI, "--merchant", merchant, "--reason", "first",
                       as_=ADMIN)
        assert done.returncode == 2, done.stderr
        assert "--merchant: " in done.stderr and "is not a merchant id" in done.stderr
    assert cli.run("policy", "set", UCI, "--merchant", "shop.eu:1_a-b", "--reason", "first",
                   as_=ADMIN).returncode == 0


def test_ingest_refuses_an_order_whose_merchant_id_no_url_could_name(cli: Cli) -> None:
    before = cli.stored_events()
    bad = cli.lines("bad.jsonl", [order_placed("o-1", merchant_id="a b"),
                                  order_placed("o-2", merchant_id="shop/eu#1")])
    done = cli.run("ingest", bad, as_="system.upstream")
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("merchant_id") >= 2 and "is not a merchant id" in done.stderr
    assert cli.stored_events() == before  # nothing of either order
    good = cli.lines("good.jsonl", [order_placed("o-3", merchant_id="uci-online-retail")])
    assert cli.run("ingest", good, as_="system.upstream").returncode == 0


def stored_before_the_rules(cli: Cli, merchant: str) -> None:
    """A version of ``merchant``'s book as an older release stored it: its id and reason were
    not checked then (the event itself, as the store holds it)."""
    app = open_app(eventsourcing_env(f"sqlite:///{cli.db}"))
    try:
        at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        book = PolicyBook(owner="merchant", merchant_id=merchant, timestamp=at)
        canonical = canonical_document(validate(parse(Path(EU30).read_bytes())))
        book._version_set(version=1, document=canonical, book_hash=digest(canonical),
                          by=str(principal_id_of(ADMIN)), role="admin", reason=ESCAPES,
                          set_at=at, timestamp=at)
        app.store.save_atomically(book)
    finally:
        app.close()


def test_a_book_stored_before_the_rules_is_read_and_its_text_never_printed_raw(
        cli: Cli) -> None:
    stored_before_the_rules(cli, "shop eu")
    shown = cli.run("policy", "show", "--merchant", "shop eu", as_=ADMIN)
    history = cli.run("policy", "history", "--merchant", "shop eu", as_=ADMIN)
    for done in (shown, history):
        assert done.returncode == 0, done.stderr
        for raw in ("\x1b", "\x07", "\u009b", "\u202e"):
            assert raw not in done.stdout, (raw, done.stdout)
        assert "\\x1b[2J" in done.stdout and "\\x9b31m" in done.stdout
        assert "[bold]loud[/bold]" in done.stdout  # data is never read as markup
    assert "merchant shop eu, version 1" in shown.stdout
    as_json = json.loads(cli.run("policy", "history", "--merchant", "shop eu", "--format",
                                 "json", as_=ADMIN).stdout)
    assert as_json[1]["reason"] == ESCAPES  # machines get the stored text exactly
    for args in (("diff", "--from", "0", "--to", "1"), ("publish",),
                 ("simulate", "--version", "1")):
        done = cli.run("policy", *args, "--merchant", "shop eu", as_=ADMIN)
        assert done.returncode == 0, (args, done.stderr)
    refused = cli.run("policy", "set", UCI, "--merchant", "shop eu", "--reason", "next",
                      as_=ADMIN)
    assert refused.returncode == 2 and "is not a merchant id" in refused.stderr


def test_diff_of_a_proposed_book_takes_from_but_not_to(cli: Cli) -> None:
    assert cli.run("policy", "set", UCI, "--merchant", "m1", "--reason", "first",
                   as_=ADMIN).returncode == 0
    assert cli.run("policy", "set", EU30, "--merchant", "m1", "--reason", "eu30",
                   as_=ADMIN).returncode == 0
    both = cli.run("policy", "diff", "--merchant", "m1", UCI, "--to", "2", as_=ADMIN)
    assert both.returncode == 2, both.stderr
    assert "--to names a stored version" in both.stderr and "--from N" in both.stderr
    assert both.stdout == ""
    since_one = cli.run("policy", "diff", "--merchant", "m1", EU30, "--from", "1",
                        "--format", "json", as_=ADMIN)
    assert [c["path"] for c in json.loads(since_one.stdout)] == ["returns.markets.EU.no_fault"]
    shown = cli.run("policy", "diff", "--help", as_=None)
    text = " ".join(shown.stdout.split())
    assert "the stored version to compare from" in text
    assert "the stored version to compare to" in text and "not with PROPOSED" in text


def test_a_first_version_equal_to_the_built_in_defaults_is_refused_as_unchanged(
        cli: Cli) -> None:
    defaults = cli.run("policy", "show", "--format", "toml", as_=ADMIN).stdout
    path = cli.tmp / "defaults.toml"
    path.write_text(defaults)
    for merchant in ((), ("--merchant", "m1")):
        done = cli.run("policy", "set", str(path), *merchant, "--reason", "the same",
                       as_=ADMIN)
        assert done.returncode == 1, done.stderr
        assert "the same as its version 0, the built-in defaults" in done.stderr


def test_unknown_versions_and_empty_periods(cli: Cli) -> None:
    unknown = cli.run("policy", "show", "--merchant", "m1", "--version", "9", as_=ADMIN)
    assert unknown.returncode == 3 and "no policy book version 9" in unknown.stderr
    empty = cli.run("policy", "simulate", "--merchant", "m1", "--version", "0", "--since",
                    "2026-03-02T09:00:00+00:00", "--until", "2026-03-02T09:00:00+00:00",
                    as_=ADMIN)
    assert empty.returncode == 2 and "since, until: the period is empty" in empty.stderr


def test_a_denied_look_at_a_book_is_logged_with_its_merchant(cli: Cli) -> None:
    assert cli.run("policy", "show", "--merchant", "m-secret", as_="agent-1").returncode == 6
    table = cli.run("audit", "denials", "--operation", "ReadPolicyBook", as_="auditor-1")
    assert table.returncode == 0 and "merchant_id" in table.stdout
    assert "m-secret" in table.stdout
    rows = list(csv.DictReader(io.StringIO(cli.run(
        "audit", "denials", "--format", "csv", as_="auditor-1").stdout)))
    assert [r["merchant_id"] for r in rows if r["operation"] == "ReadPolicyBook"] == \
        ["m-secret"]


@pytest.mark.parametrize(("written", "as_text", "named"), [
    ("pause_while_waiting_on_customer = true", 'pause_while_waiting_on_customer = "yes"',
     "complaints.pause_while_waiting_on_customer"),
    ("window_orders = 20", 'window_orders = "20"', "abuse.window_orders"),
])
def test_set_refuses_an_integer_or_boolean_written_as_text(
        cli: Cli, tmp_path: Path, written: str, as_text: str, named: str) -> None:
    text = Path(UCI).read_text(encoding="utf-8")
    assert written in text
    book = tmp_path / "book.toml"
    book.write_text(text.replace(written, as_text), encoding="utf-8")
    done = cli.run("policy", "set", str(book), "--merchant", "m1", "--reason", "typed",
                   as_=ADMIN)
    assert done.returncode == 2 and named in done.stderr, done.stderr
    assert versions(cli, "m1") == [0]


def test_a_diff_without_changes_says_so_in_every_format(cli: Cli) -> None:
    table = cli.run("policy", "diff", "--merchant", "no-book", as_=ADMIN)
    assert table.returncode == 0, table.stderr
    assert "no changes" in table.stdout and "path" in table.stdout
    csv = cli.run("policy", "diff", "--merchant", "no-book", "--format", "csv", as_=ADMIN)
    assert csv.stdout == "path,change,before,after\n"
    as_json = cli.run("policy", "diff", "--merchant", "no-book", "--format", "json", as_=ADMIN)
    assert json.loads(as_json.stdout) == []


def test_a_bad_time_option_gives_its_example_once(cli: Cli) -> None:
    done = cli.run("policy", "simulate", "--merchant", "m1", "--since", "2026-03-20", UCI,
                   as_=ADMIN)
    assert done.returncode == 2
    assert done.stderr.count("such as") == 1, done.stderr


def test_set_refuses_chinas_customs_clock_past_the_law_through_the_default(
        cli: Cli, tmp_path: Path) -> None:
    """Without a CN entry the default's clocks are China's: 40 and 60 days are refused there
    as they are under returns.markets.CN."""
    text = Path(UCI).read_text(encoding="utf-8")
    written = '[returns.default]\nno_fault = "30 days"\nfault = "60 days"\n'
    assert written in text and "[returns.markets.CN]" not in text
    book = tmp_path / "book.toml"
    book.write_text(text.replace(written, written + 'cross_border = "40 days"\n'
                                 'bonded_return = "60 days"\n'), encoding="utf-8")
    done = cli.run("policy", "set", str(book), "--merchant", "m10", "--reason", "longer",
                   as_=ADMIN)
    assert done.returncode == 1, done.stderr
    assert "returns.default.cross_border (applies to CN): 40 days is longer than the CN " \
           "cross-border customs clock" in done.stderr and "at most 30 days" in done.stderr
    assert "returns.default.bonded_return (applies to CN): 60 days" in done.stderr
    assert "at most 45 days" in done.stderr
    assert versions(cli, "m10") == [0]


def test_a_book_stored_with_a_market_key_no_order_can_have_is_still_read(cli: Cli) -> None:
    """Before keys had to be assigned codes a book could hold ``UK``: that version loads as it
    was set (its decisions re-run with its settings), is not published as a row, and a new
    version with the key is refused."""
    document = parse(Path(UCI).read_bytes())
    document["returns"]["markets"]["UK"] = {"no_fault": "99 days", "fault": "99 days"}
    app = open_app(eventsourcing_env(f"sqlite:///{cli.db}"))
    try:
        at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        book = PolicyBook(owner="merchant", merchant_id="uk-key", timestamp=at)
        canonical = canonical_document(validate(document, stored=True))
        book._version_set(version=1, document=canonical, book_hash=digest(canonical),
                          by=str(principal_id_of(ADMIN)), role="admin", reason="old",
                          set_at=at, timestamp=at)
        app.store.save_atomically(book)
    finally:
        app.close()
    shown = cli.run("policy", "show", "--merchant", "uk-key", "--format", "json", as_=ADMIN)
    assert shown.returncode == 0, shown.stderr
    assert "UK" in json.loads(shown.stdout)["document"]["returns"]["markets"]
    for args in (("diff", "--from", "0", "--to", "1"), ("simulate", "--version", "1")):
        done = cli.run("policy", *args, "--merchant", "uk-key", as_=ADMIN)
        assert done.returncode == 0, (args, done.stderr)
    published = cli.run("policy", "publish", "--merchant", "uk-key", as_=ADMIN)
    assert published.returncode == 0 and "99 days" not in published.stdout
    refused = cli.run("policy", "set", "-", "--merchant", "uk-key", "--reason", "again",
                      stdin=json.dumps(document), as_=ADMIN)
    assert refused.returncode == 2
    assert "returns.markets.UK: 'UK' is not a market" in refused.stderr
    assert versions(cli, "uk-key") == [0, 1]
