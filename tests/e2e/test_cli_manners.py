"""What a person or a script sees: --version, piped tables, TSV and CSV headers, nested JSON,
one shape per report, help texts, and read models behind the store caught up without a broker."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from importlib.metadata import version
from pathlib import Path

import pytest

from aftersales.bootstrap import open_app
from aftersales.settings import eventsourcing_env
from tests.e2e.test_cli import Cli, request_return
from tests.factories import T0, cli_cast, order_paid, order_placed, shipment


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path)
    cli.env.pop("COLUMNS")  # piped output must not depend on it
    cli_cast(cli.run, "c-1")
    placed = order_placed("o-1")
    upstream = [placed, order_paid(placed), shipment("o-1", "Delivered", T0 + timedelta(days=3))]
    assert cli.run("ingest", cli.lines("up.jsonl", upstream), as_="system.upstream"
                   ).returncode == 0
    return cli


def test_version_prints_the_installed_version(tmp_path: Path) -> None:
    done = Cli(tmp_path).run("--version", as_=None)
    assert done.returncode == 0 and done.stdout == f"aftersales {version('aftersales')}\n"


def test_query_says_when_read_models_are_behind_and_catch_up_brings_them_up(cli: Cli) -> None:
    submitted = cli.run("submit", "-", stdin=json.dumps(request_return()))
    assert submitted.returncode == 0, submitted.stderr
    before = cli.run("query", "cases", "--format", "json", as_="agent-1")
    assert before.returncode == 0 and json.loads(before.stdout) == []
    [note] = before.stderr.splitlines()  # one line, never wrapped at 80 columns when piped
    assert "cases is" in note and "behind the event store" in note
    assert note.endswith("aftersales projections catch-up")

    caught = cli.run("projections", "catch-up")
    assert caught.returncode == 0, caught.stderr
    after = cli.run("query", "cases", "--format", "json", as_="agent-1")
    assert [r["status"] for r in json.loads(after.stdout)] == ["approved"]
    assert "behind" not in after.stderr
    again = cli.run("projections", "catch-up")  # nothing new: nothing applied twice
    assert again.returncode == 0
    reasons = json.loads(cli.run("query", "returns_by_reason", "--format", "json",
                                 as_="agent-1").stdout)
    assert [r["requests"] for r in reasons] == [1]

    # incremental: the next command is applied on top, and a rebuild agrees with it
    case_id = json.loads(submitted.stdout)["case_id"]
    cancel = {"command": "CancelReturn", "case_id": case_id,
              "at": (T0 + timedelta(days=6)).isoformat()}
    assert cli.run("submit", "-", stdin=json.dumps(cancel)).returncode == 0
    assert cli.run("projections", "catch-up", "cases").returncode == 0
    rows = json.loads(cli.run("query", "cases", "--format", "json", as_="agent-1").stdout)
    assert [r["status"] for r in rows] == ["cancelled"]
    behind = cli.run("query", "deadlines", as_="agent-1")  # not caught up: still behind
    assert "deadlines is" in behind.stderr
    assert cli.run("projections", "rebuild").returncode == 0
    assert json.loads(cli.run("query", "cases", "--format", "json", as_="agent-1").stdout
                      ) == rows


def test_piped_tables_keep_each_row_on_one_line(cli: Cli) -> None:
    assert cli.run("submit", "-", stdin=json.dumps(request_return())).returncode == 0
    assert cli.run("projections", "catch-up").returncode == 0
    table = cli.run("query", "cases", as_="agent-1").stdout.splitlines()
    [row] = [line for line in table if "approved" in line]
    header = next(line for line in table if "case_id" in line)
    for column in ("case_type", "order_id", "opened_at", "next_deadline", "version"):
        assert column in header
    assert "return" in row and "o-1" in row and len(row) > 200


def test_piped_tables_cut_nothing_after_a_tab_and_keep_a_note_of_many_lines_on_one(
        cli: Cli) -> None:
    note = "a\t" * 60 + "THE-END\nsecond line\tTAIL"
    done = cli.run("submit", "-", stdin=json.dumps(request_return(note=note)))
    assert done.returncode == 0, done.stderr
    shown = cli.run("case", "show", json.loads(done.stdout)["case_id"], as_="agent-1")
    assert shown.returncode == 0, shown.stderr
    [line] = [line for line in shown.stdout.splitlines() if " note " in line]
    assert "a\\t" * 60 + "THE-END\\nsecond line\\tTAIL" in line
    assert "\t" not in shown.stdout


def test_tsv_and_csv_carry_a_header_even_without_rows(cli: Cli) -> None:
    tsv = cli.run("query", "refunds", "--format", "tsv", as_="agent-1")
    assert tsv.returncode == 0
    assert tsv.stdout.splitlines() == [tsv.stdout.splitlines()[0]]
    assert tsv.stdout.split("\t")[:2] == ["refund_id", "order_id"]
    empty_csv = cli.run("query", "cases", "--format", "csv", as_="agent-1").stdout
    assert empty_csv.splitlines()[0].startswith("case_id,case_type,status")
    assert len(empty_csv.splitlines()) == 1

    assert cli.run("submit", "-", stdin=json.dumps(request_return())).returncode == 0
    assert cli.run("projections", "catch-up").returncode == 0
    tsv_rows = cli.run("query", "decisions", "--format", "tsv", as_="analyst-1").stdout
    lines = tsv_rows.splitlines()
    assert len(lines) > 2 and all(line.count("\t") == lines[0].count("\t") for line in lines)
    csv_rows = list(csv.DictReader(io.StringIO(
        cli.run("query", "decisions", "--format", "csv", as_="analyst-1").stdout)))
    assert isinstance(json.loads(csv_rows[0]["inputs"]), dict)  # JSON text in a CSV cell


def test_nested_columns_are_json_in_json_output(cli: Cli) -> None:
    assert cli.run("submit", "-", stdin=json.dumps(request_return())).returncode == 0
    assert cli.run("projections", "catch-up").returncode == 0
    decisions = json.loads(cli.run("query", "decisions", "--format", "json",
                                   as_="analyst-1").stdout)
    assert decisions and all(isinstance(d["inputs"], dict) for d in decisions)
    assert all(isinstance(d["details"], dict) for d in decisions)
    [case] = json.loads(cli.run("query", "cases", "--format", "json", as_="agent-1").stdout)
    assert isinstance(case["open_deadlines"], dict)


def test_report_json_is_one_object(cli: Cli) -> None:
    done = cli.run("report", "--format", "json", "--output", str(cli.tmp / "r.html"),
                   as_="analyst-1")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert isinstance(report, dict) and {"headline", "sections"} <= report.keys()


def test_help_texts_are_reflowed_paragraphs(tmp_path: Path) -> None:
    done = Cli(tmp_path).run("submit", "--help", as_=None)
    text = " ".join(done.stdout.split())
    # the docstring breaks a line after "denied or": reflowed, the sentence reads on
    assert "A refused, denied or invalid command changes nothing" in text
    lines = [line.strip() for line in done.stdout.splitlines()]
    assert "denied or" not in lines and "6 denied)." not in lines


def test_status_says_when_the_read_models_are_beyond_the_store(cli: Cli, tmp_path: Path
                                                               ) -> None:
    """A mistyped store URL (a new, empty store) or a store restored from an older copy: the
    read models are ahead of it. `status` said lag 0 and exited 0."""
    assert cli.run("projections", "catch-up").returncode == 0
    good = cli.run("status", "--format", "json", as_=None)
    assert good.returncode == 0, good.stderr
    mistyped = tmp_path / "evnets.sqlite"
    cli.env["AFTERSALES_DATABASE_URL"] = f"sqlite:///{mistyped}"
    missing = cli.run("status", "--format", "json", as_=None)
    assert missing.returncode == 5 and f"no event store at {mistyped}" in missing.stderr
    assert not mistyped.exists()  # a command that only reads made no empty store there
    open_app(eventsourcing_env(f"sqlite:///{mistyped}")).close()  # an empty (older) store
    wrong = cli.run("status", "--format", "json", as_=None)
    assert wrong.returncode == 7, wrong.stderr
    shown = json.loads(wrong.stdout)
    assert shown["relay"]["store_position"] == 0
    assert {p["position"] for p in shown["projections"]} != {0}
    [error] = wrong.stderr.splitlines()
    assert "beyond the event store's last position 0" in error
    assert "AFTERSALES_DATABASE_URL" in error and "projections rebuild" in error


def test_query_says_when_more_rows_match_than_it_shows(cli: Cli) -> None:
    """A script reading --format csv|json must not take the first rows for all of them: the
    title and a note on stderr say more match (and how to get them)."""
    for line in ("1", "2"):
        one = cli.run("submit", "-", stdin=json.dumps(request_return(
            lines=[{"line_id": line, "quantity": 1}])))
        assert one.returncode == 0, one.stderr
    assert cli.run("projections", "catch-up").returncode == 0
    rows = json.loads(cli.run("query", "deadlines", "--format", "json", as_="agent-1").stdout)
    assert len(rows) >= 2
    cut = cli.run("query", "deadlines", "--format", "csv", "--limit", "1", as_="agent-1")
    assert cut.returncode == 0
    assert len(list(csv.reader(io.StringIO(cut.stdout)))) == 2  # the header and one row
    assert "note: more than 1 rows match; only the first 1 are shown (--limit N" in cut.stderr
    table = cli.run("query", "deadlines", "--limit", "1", as_="agent-1")
    assert "the first 1 rows; more match" in table.stdout
    whole = cli.run("query", "deadlines", "--format", "json", "--limit", str(len(rows)),
                    as_="agent-1")
    assert len(json.loads(whole.stdout)) == len(rows) and "more" not in whole.stderr


def test_report_and_insights_say_when_their_read_models_are_behind(cli: Cli) -> None:
    """As query does: figures from read models behind the store are not presented as current
    without a word (on stderr: the JSON on stdout stays one document)."""
    assert cli.run("submit", "-", stdin=json.dumps(request_return())).returncode == 0
    for args in (["report", "--format", "json"], ["insights", "refunds", "--format", "json"]):
        before = cli.run(*args, as_="agent-1")
        assert before.returncode == 0, before.stderr
        json.loads(before.stdout)
        [note] = before.stderr.splitlines()
        assert note.startswith("note: the read models are behind the event store (")
        assert note.endswith("aftersales projections catch-up")
    assert cli.run("projections", "catch-up").returncode == 0
    for args in (["report", "--format", "json"], ["insights", "refunds", "--format", "json"]):
        after = cli.run(*args, as_="agent-1")
        assert after.returncode == 0 and "behind" not in after.stderr, after.stderr
