"""`aftersales policy …` as a process: set, show, history, diff, simulate, publish; the exit
codes of a refused book; decisions and re-runs through the CLI."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from tests.e2e.test_cli import Cli
from tests.factories import ADMIN, T0, cli_cast, order_paid, order_placed, shipment

BOOKS = Path(__file__).parents[2] / "demo" / "books"
UCI, EU30 = str(BOOKS / "uci-online-retail.toml"), str(BOOKS / "uci-online-retail-eu30.toml")


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path)
    cli_cast(cli.run, "c-1")
    upstream = []
    for order_id, merchant in (("o-uci", "uci-online-retail"), ("o-none", None)):
        placed = order_placed(order_id, **({"merchant_id": merchant} if merchant else {}))
        upstream += [placed, order_paid(placed),
                     shipment(order_id, "Delivered", T0 + timedelta(days=3))]
    assert cli.run("ingest", cli.lines("upstream.jsonl", upstream),
                   as_="system.upstream").returncode == 0
    return cli


def admin(cli: Cli, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return cli.run(*args, stdin=stdin, as_=ADMIN)


def late_return(cli: Cli, order_id: str) -> dict[str, object]:
    command = {"command": "RequestReturn", "order_id": order_id, "reason": "changed_mind",
               "outcome": "refund", "lines": [{"line_id": "1", "quantity": 1}],
               "at": (T0 + timedelta(days=23)).isoformat()}
    done = cli.run("submit", "-", stdin=json.dumps(command))
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def test_set_show_history_and_diff(cli: Cli) -> None:
    shown = admin(cli, "policy", "show", "--format", "json")
    assert shown.returncode == 0 and json.loads(shown.stdout)["version"] == 0
    done = admin(cli, "policy", "set", UCI, "--merchant", "uci-online-retail", "--reason",
                   "first book", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["version"] == 1
    assert admin(cli, "policy", "set", EU30, "--merchant", "uci-online-retail",
                   "--reason", "EU 30 days").returncode == 0
    history = json.loads(admin(cli, "policy", "history", "--merchant", "uci-online-retail",
                                 "--format", "json").stdout)
    assert [(h["version"], h["reason"]) for h in history] == \
        [(0, "the built-in defaults"), (1, "first book"), (2, "EU 30 days")]
    assert history[2]["role"] == "admin" and history[2]["set_by"]
    diff = json.loads(admin(cli, "policy", "diff", "--merchant", "uci-online-retail",
                              "--format", "json").stdout)
    assert diff == [{"path": "returns.markets.EU.no_fault", "change": "changed",
                     "before": "14 days", "after": "30 days"}]
    toml = admin(cli, "policy", "show", "--merchant", "uci-online-retail", "--version", "1",
                   "--format", "toml")
    assert 'no_fault = "14 days"' in toml.stdout
    table = admin(cli, "policy", "show", "--merchant", "nobody")
    assert "merchant nobody has no book of its own" in table.stdout


def test_a_refused_book_exits_with_its_reason_and_stores_nothing(cli: Cli) -> None:
    bad = cli.tmp / "bad.toml"
    bad.write_text(Path(UCI).read_text().replace('fault = "30 days"', 'fault = "20 days"'))
    done = admin(cli, "policy", "set", str(bad), "--merchant", "m", "--reason", "x")
    assert done.returncode == 1
    assert "UK 30-day short-term right to reject" in done.stderr
    invalid = admin(cli, "policy", "set", "-", "--merchant", "m", "--reason", "x",
                      stdin='{"format": "aftersales.policy-book/1", "format": "x"}')
    assert invalid.returncode == 2 and "appears twice" in invalid.stderr
    missing = admin(cli, "policy", "set", str(cli.tmp / "nope.toml"), "--reason", "x")
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    unknown = admin(cli, "policy", "show", "--merchant", "m", "--version", "3")
    assert unknown.returncode == 3
    history = json.loads(admin(cli, "policy", "history", "--merchant", "m", "--format",
                                 "json").stdout)
    assert [h["version"] for h in history] == [0]
    tsv = admin(cli, "policy", "history", "--merchant", "m", "--format", "tsv")
    assert tsv.returncode == 0 and tsv.stdout.splitlines()[0].split("\t")[0] == "version"
    diff = admin(cli, "policy", "diff", "--merchant", "m", "--from", "0", "--to", "0",
                 "--format", "tsv")
    assert diff.returncode == 0 and diff.stdout.splitlines() == ["path\tchange\tbefore\tafter"]


def test_decisions_follow_the_merchants_book_and_rerun_from_the_cli(cli: Cli) -> None:
    assert admin(cli, "policy", "set", EU30, "--merchant", "uci-online-retail",
                   "--reason", "generous").returncode == 0
    accepted, refused = late_return(cli, "o-uci"), late_return(cli, "o-none")
    assert (accepted["status"], refused["status"]) == ("approved", "rejected")
    assert admin(cli, "policy", "set", UCI, "--merchant", "uci-online-retail",
                   "--reason", "back to 14 days").returncode == 0
    rerun = cli.run("case", "rerun", str(accepted["case_id"]), "--format", "json",
                    as_="auditor-1")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    rows = json.loads(rerun.stdout)
    assert all(r["same"] for r in rows)
    assert rows[0]["book"]["book_version"] == 1
    verify = cli.run("audit", "verify", "--decisions", "--format", "json", as_="auditor-1")
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_simulate_reports_the_change_in_table_json_and_html(cli: Cli) -> None:
    assert admin(cli, "policy", "set", UCI, "--merchant", "uci-online-retail",
                   "--reason", "first").returncode == 0
    case = late_return(cli, "o-uci")
    assert case["status"] == "rejected"
    done = admin(cli, "policy", "simulate", EU30, "--merchant", "uci-online-retail",
                   "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    eligibility = next(o for o in report["outcomes"] if o["policy_id"] == "return.eligibility")
    assert eligibility["pairs"] == [{"before": "reject", "after": "approve", "count": 1,
                                     "examples": [case["case_id"]]}]
    table = admin(cli, "policy", "simulate", EU30, "--merchant", "uci-online-retail")
    assert "outcomes that change" in table.stdout and "reject" in table.stdout
    page = cli.tmp / "whatif.html"
    html = admin(cli, "policy", "simulate", EU30, "--merchant", "uci-online-retail", "--format",
                   "html", "--output", str(page), "--since", "2026-01-01T00:00:00+00:00")
    assert html.returncode == 0 and "<table>" in page.read_text()
    assert page.stat().st_mode & 0o777 == 0o600  # case ids and amounts: the owner's only
    tables_to_file = admin(cli, "policy", "simulate", EU30, "--merchant", "uci-online-retail",
                           "--output", str(cli.tmp / "whatif.txt"))
    assert tables_to_file.returncode == 2 and "--format json or html" in tables_to_file.stderr
    assert not (cli.tmp / "whatif.txt").exists()
    unwritable = admin(cli, "policy", "simulate", EU30, "--merchant", "uci-online-retail",
                       "--format", "json", "--output", "/proc/no/such/whatif.json")
    assert unwritable.returncode == 2 and "cannot write --output" in unwritable.stderr
    later = admin(cli, "policy", "simulate", EU30, "--merchant", "uci-online-retail", "--format",
                    "json", "--since", "2030-01-01T00:00:00+00:00")
    assert json.loads(later.stdout)["decisions"]["seen"] == 0
    bad_time = admin(cli, "policy", "simulate", EU30, "--merchant", "m", "--since", "yesterday")
    assert bad_time.returncode == 2


def test_simulate_a_stored_version_and_what_is_refused(cli: Cli) -> None:
    for book, reason in ((UCI, "first"), (EU30, "EU 30 days")):
        assert admin(cli, "policy", "set", book, "--merchant", "uci-online-retail",
                     "--reason", reason).returncode == 0
    case = late_return(cli, "o-uci")  # decided under version 2: approved
    done = admin(cli, "policy", "simulate", "--version", "1", "--merchant", "uci-online-retail",
                 "--format", "json")
    assert done.returncode == 0, done.stderr
    eligibility = next(o for o in json.loads(done.stdout)["outcomes"]
                       if o["policy_id"] == "return.eligibility")
    assert eligibility["pairs"][0]["examples"] == [case["case_id"]]
    assert (eligibility["pairs"][0]["before"], eligibility["pairs"][0]["after"]) == \
        ("approve", "reject")
    for args in ((), (EU30, "--version", "1")):  # a book or a version: one of them
        refused = admin(cli, "policy", "simulate", *args, "--merchant", "uci-online-retail")
        assert refused.returncode == 2 and "--version" in refused.stderr, refused.stderr
    unknown = admin(cli, "policy", "simulate", "--version", "3", "--merchant",
                    "uci-online-retail")
    assert unknown.returncode == 3 and "no policy book version 3" in unknown.stderr
    empty = admin(cli, "policy", "simulate", EU30, "--merchant", "uci-online-retail",
                  "--since", "2026-03-02T09:00:00+00:00", "--until", "2026-03-02T09:00:00Z")
    assert empty.returncode == 2 and "the period is empty" in empty.stderr
    diff = admin(cli, "policy", "diff", "--merchant", "uci-online-retail", "--from", "4",
                 "--to", "5")
    assert diff.returncode == 3
    assert "version 4 to compare from nor version 5 to compare to" in diff.stderr


def test_publish_writes_the_policy_in_both_languages(cli: Cli) -> None:
    assert admin(cli, "policy", "set", UCI, "--merchant", "uci-online-retail",
                   "--reason", "first").returncode == 0
    en = admin(cli, "policy", "publish", "--merchant", "uci-online-retail", "--lang", "en")
    assert en.returncode == 0 and en.stdout.startswith("# UCI Online Retail: after-sales")
    page = cli.tmp / "policy.html"
    zh = admin(cli, "policy", "publish", "--merchant", "uci-online-retail", "--lang", "zh-CN",
                 "--format", "html", "--output", str(page))
    assert zh.returncode == 0 and "售后服务政策" in page.read_text(encoding="utf-8")
    assert admin(cli, "policy", "publish", "--lang", "fr").returncode == 2
    unwritable = admin(cli, "policy", "publish", "--output", "/proc/no/such/policy.md")
    assert unwritable.returncode == 2 and "cannot write --output" in unwritable.stderr


def test_every_policy_command_has_help(cli: Cli) -> None:
    for command in ("show", "set", "history", "diff", "simulate", "publish"):
        done = admin(cli, "policy", command, "--help")
        assert done.returncode == 0 and "Usage" in done.stdout, command


def test_who_may_do_what_with_policy_books(cli: Cli) -> None:
    denied = cli.run("policy", "set", UCI, "--merchant", "m", "--reason", "x", as_="auditor-1")
    assert denied.returncode == 6, denied.stderr
    assert cli.run("policy", "show", "--merchant", "m", as_="auditor-1").returncode == 0
    assert cli.run("policy", "show", "--merchant", "m", as_="agent-1").returncode == 6
    assert cli.run("policy", "simulate", EU30, "--merchant", "m",
                   as_="customer-c-1").returncode == 6
    published = cli.run("policy", "publish", "--merchant", "m", as_="customer-c-1")
    assert published.returncode == 0 and "after-sales policy" in published.stdout


def test_set_with_an_expected_version_refuses_a_book_that_moved_on(cli: Cli) -> None:
    """Two administrators edit version 1: the second's `set` must not store a book that drops
    the first's change unseen (as If-Match over HTTP); the CLI had no way to say it."""
    merchant = ("--merchant", "uci-online-retail")
    first = admin(cli, "policy", "set", UCI, *merchant, "--reason", "first",
                  "--expected-version", "0")
    assert first.returncode == 0, first.stderr
    assert admin(cli, "policy", "set", EU30, *merchant, "--reason", "EU 30 days",
                 "--expected-version", "1").returncode == 0
    stale = cli.tmp / "stale.toml"
    stale.write_text(Path(UCI).read_text().replace('merchant_name = "', 'merchant_name = "The '))
    late = admin(cli, "policy", "set", str(stale), *merchant, "--reason", "rename",
                 "--expected-version", "1")
    assert late.returncode == 4, late.stdout + late.stderr
    assert "is at version 2, not 1" in late.stderr
    history = json.loads(admin(cli, "policy", "history", *merchant, "--format",
                               "json").stdout)
    assert [h["version"] for h in history] == [0, 1, 2]
