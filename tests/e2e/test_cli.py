"""The documented CLI, run as a separate process against a real SQLite file."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from aftersales import children
from tests.factories import T0, cli_cast, order_paid, order_placed, shipment

AFTERSALES = [sys.executable, "-m", "aftersales"]


class Cli:
    def __init__(self, tmp_path: Path) -> None:
        self.db = tmp_path / "events.sqlite"
        self.env = {
            **os.environ,
            "AFTERSALES_DATABASE_URL": f"sqlite:///{self.db}",
            "AFTERSALES_READ_DATABASE_URL": f"sqlite:///{tmp_path / 'read.sqlite'}",
            "COLUMNS": "200",
        }
        self.tmp = tmp_path

    def run(
        self, *args: str, stdin: str | None = None, as_: str | None = "customer-c-1"
    ) -> subprocess.CompletedProcess[str]:
        """Run `aftersales ARGS` acting as principal ``as_`` (AFTERSALES_PRINCIPAL)."""
        env = {k: v for k, v in self.env.items() if k != "AFTERSALES_PRINCIPAL"}
        if as_ is not None:
            env["AFTERSALES_PRINCIPAL"] = as_
        return children.run(
            [*AFTERSALES, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

    def lines(self, name: str, items: list[dict[str, Any]]) -> str:
        path = self.tmp / name
        path.write_text("".join(json.dumps(i) + "\n" for i in items))
        return str(path)

    def stored_events(self) -> int:
        with sqlite3.connect(self.db) as conn:
            return int(conn.execute("SELECT count(*) FROM stored_events").fetchone()[0])


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path)
    cli_cast(cli.run, "c-1", "c-2")
    placed = order_placed("o-1")
    upstream = [placed, order_paid(placed), shipment("o-1", "Delivered", T0 + timedelta(days=3))]
    done = cli.run("ingest", cli.lines("upstream.jsonl", upstream), as_="system.upstream")
    assert done.returncode == 0, done.stderr
    return cli


def request_return(**overrides: Any) -> dict[str, Any]:
    return {
        "command": "RequestReturn",
        "order_id": "o-1",
        "reason": "defective",
        "lines": [{"line_id": "2", "quantity": 1}],
        "at": (T0 + timedelta(days=5)).isoformat(),
        **overrides,
    }


def test_submit_prints_the_case_and_its_decisions_and_case_show_lists_them(cli: Cli) -> None:
    done = cli.run("submit", "-", stdin=json.dumps(request_return()))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "approved" and result["case_type"] == "return"
    shown = cli.run("case", "show", result["case_id"], "--format", "json")
    case = json.loads(shown.stdout)
    decision = case["decisions"][0]
    assert decision["policy_id"] == "return.eligibility" and decision["policy_version"] == 6
    assert decision["book"]["book"] == "platform" and decision["book"]["book_version"] == 0
    assert decision["inputs"]["reason"] == "defective" and decision["reasons"]
    table = cli.run("case", "show", result["case_id"])
    assert "return.eligibility" in table.stdout and "approved" in table.stdout
    rerun = cli.run("case", "rerun", result["case_id"], as_="auditor-1")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr


def test_invalid_command_exits_2_names_the_field_and_stores_nothing(cli: Cli) -> None:
    before = cli.stored_events()
    done = cli.run(
        "submit",
        "-",
        stdin=json.dumps(request_return(lines=[{"line_id": "2", "quantity": 0}], colour="red")),
    )
    assert done.returncode == 2
    assert "lines.0.quantity" in done.stderr and "colour" in done.stderr
    assert cli.stored_events() == before


def test_refused_command_exits_1_with_the_reason(cli: Cli) -> None:
    first = json.loads(cli.run("submit", "-", stdin=json.dumps(request_return())).stdout)
    before = cli.stored_events()
    done = cli.run(
        "submit",
        "-",
        stdin=json.dumps(
            {
                "command": "InspectReturn",
                "case_id": first["case_id"],
                "grade": "A",
                "at": (T0 + timedelta(days=6)).isoformat(),
            }
        ),
        as_="warehouse-1",
    )
    assert done.returncode == 1
    assert "cannot inspect while approved" in done.stderr
    assert cli.stored_events() == before


def test_json_lines_run_in_order_and_the_exit_code_reports_the_failure(cli: Cli) -> None:
    key = "web-order-o-1-return-1"
    good = request_return(idempotency_key=key)
    path = cli.lines("commands.jsonl", [good, {"command": "Nope"}, good])
    done = cli.run("submit", path)
    assert done.returncode == 2
    assert "line 2" in done.stderr
    assert "line 3" in done.stderr and "exists already" in done.stderr  # same key, same case
    assert len(done.stdout.strip().splitlines()) == 1


def test_ingest_reports_bad_lines_and_applies_the_good_ones(cli: Cli) -> None:
    placed = order_placed("o-2")
    wrong_total = {**order_placed("o-3"), "total": "1.00"}
    path = cli.tmp / "mixed.jsonl"
    path.write_text(
        "\n".join([json.dumps(placed), "{not json", json.dumps(wrong_total), json.dumps(placed)])
        + "\n"
    )
    done = cli.run("ingest", str(path), as_="system.upstream")
    assert done.returncode == 2
    assert "line 2: not JSON" in done.stderr
    assert "line 3" in done.stderr and "total 1.00 is not the sum" in done.stderr
    results = [json.loads(x) for x in done.stdout.splitlines()]
    assert [r["applied"] for r in results] == [True, False]


def test_case_show_as_of_a_past_moment(cli: Cli) -> None:
    result = json.loads(cli.run("submit", "-", stdin=json.dumps(request_return())).stdout)
    cli.run(
        "submit",
        "-",
        stdin=json.dumps(
            {
                "command": "IssueReturnLabel",
                "case_id": result["case_id"],
                "carrier": "DHL",
                "tracking_number": "T1",
                "at": (T0 + timedelta(days=7)).isoformat(),
            }
        ),
        as_="agent-1",
    )
    then = cli.run(
        "case",
        "show",
        result["case_id"],
        "--as-of",
        (T0 + timedelta(days=6)).isoformat(),
        "--format",
        "json",
    )
    assert json.loads(then.stdout)["status"] == "approved"
    bad = cli.run("case", "show", result["case_id"], "--as-of", "yesterday")
    assert bad.returncode == 2


def test_unknown_case_exits_3(cli: Cli) -> None:
    done = cli.run("case", "show", "00000000-0000-0000-0000-000000000000", as_="agent-1")
    assert done.returncode == 3 and "no case" in done.stderr


def test_rebuild_then_query_status_and_report(cli: Cli) -> None:
    result = json.loads(cli.run("submit", "-", stdin=json.dumps(request_return())).stdout)
    rebuilt = cli.run("projections", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    rows = json.loads(
        cli.run(
            "query", "cases", "--where", "case_type=return", "--format", "json", as_="agent-1"
        ).stdout
    )
    assert [(r["case_id"], r["status"], r["market"]) for r in rows] == [
        (result["case_id"], "approved", "DE")
    ]
    csv_out = cli.run(
        "query", "decisions", "--format", "csv", "--order-by", "position", as_="analyst-1"
    ).stdout
    assert csv_out.splitlines()[0].startswith("position,case_id,case_type,policy_id")
    policies = [row["policy_id"] for row in csv.DictReader(io.StringIO(csv_out))]
    assert policies[:3] == ["return.eligibility", "buyer.abuse_signal", "return.shipping"]
    bad = cli.run("query", "cases", "--where", "colour=red", as_="agent-1")
    assert bad.returncode == 2 and "colour" in bad.stderr
    newest = cli.run("query", "cases", "--order-by", "-opened_at", as_="agent-1")
    assert newest.returncode == 0, newest.stderr
    for twice in ("--opened_at", "-\u2013opened_at"):  # one - at most, as the service API
        bad = cli.run("query", "cases", "--order-by", twice, as_="agent-1")
        assert bad.returncode == 2 and f"--order-by {twice!r}: not a column of cases" in \
            bad.stderr, bad.stderr
    assert cli.run("query", "stored_events").returncode == 2
    status = json.loads(cli.run("status", "--format", "json").stdout)
    assert {s["projection"]: s["lag_events"] for s in status["projections"]}["cases"] == 0
    assert status["relay"]["refused_at"] is None
    html = cli.tmp / "report.html"
    done = cli.run("report", "--output", str(html), as_="analyst-1")
    assert done.returncode == 0, done.stderr
    assert "Return rate by market" in done.stdout and "<img" in html.read_text()
    png = cli.tmp / "report.png"
    assert cli.run("report", "--output", str(png), as_="analyst-1").returncode == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_insights_in_every_format_with_filters(cli: Cli) -> None:
    cli.run("submit", "-", stdin=json.dumps(request_return()))
    assert cli.run("projections", "rebuild").returncode == 0
    done = cli.run("insights", "products", "--format", "json", as_="analyst-1")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)  # the document itself, as the service API answers it
    assert isinstance(document, dict) and document["insight"] == "products"
    assert set(document["views"]) == {"alerts", "skus", "categories", "markets", "weekly"}
    de = document["views"]["markets"]["rows"][0]
    assert (de["market"], de["return_rate"]["k"], de["return_rate"]["n"]) == ("DE", 1, 1)
    assert de["return_rate"]["rate"] == 100.0 and de["return_rate"]["low"] < 100.0
    table = cli.run("insights", "products", "--view", "markets", as_="analyst-1").stdout
    assert "1/1 = 100.0 % (95 % CI 20.7-100.0)" in table
    rows = list(csv.DictReader(io.StringIO(cli.run(
        "insights", "products", "--format", "csv", "--view", "markets", as_="analyst-1").stdout)))
    assert rows[0]["return_rate_k"] == "1" and rows[0]["return_rate_n"] == "1"
    tsv = cli.run("insights", "products", "--format", "tsv", "--view", "markets",
                  as_="analyst-1").stdout.splitlines()
    assert tsv[0].split("\t")[:2] == ["market", "currency"] and "\t" in tsv[1], tsv
    later = json.loads(cli.run("insights", "products", "--format", "json", "--since",
                               "2030-01-01", as_="analyst-1").stdout)
    assert later["views"]["markets"]["rows"] == []
    for name, fmt in (("carriers", "csv"), ("complaints", "table"), ("refunds", "csv")):
        done = cli.run("insights", name, "--format", fmt, "--market", "DE", as_="analyst-1")
        assert done.returncode == 0, (name, fmt, done.stderr)  # every format: products
    scorecard = json.loads(cli.run("insights", "carriers", "--format", "json",
                                   as_="analyst-1").stdout)
    card = scorecard["views"]["scorecards"]["rows"][0]
    assert (card["carrier"], card["market"], card["parcels"]) == ("DHL", "DE", 1)
    denied = cli.run("insights", "products")  # a customer: the report's audience only
    assert denied.returncode == 6, denied.stderr


def test_an_insight_view_without_rows_still_prints_its_csv_and_tsv_header(cli: Cli) -> None:
    """No complaint was filed: the view is empty, its header is still there (it printed
    nothing); the header is the one the view has with rows."""
    assert cli.run("projections", "rebuild").returncode == 0
    done = cli.run("insights", "complaints", "--format", "csv", "--view", "paths",
                   as_="analyst-1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "resolution_path,complaints,rated,satisfaction_mean,satisfied_4_or_5_k,"
        "satisfied_4_or_5_n,satisfied_4_or_5_rate,satisfied_4_or_5_low,satisfied_4_or_5_high,"
        "reopened_k,reopened_n,reopened_rate,reopened_low,reopened_high"]
    tsv = cli.run("insights", "products", "--format", "tsv", "--view", "markets", "--since",
                  "2030-01-01", as_="analyst-1").stdout.splitlines()
    assert len(tsv) == 1 and tsv[0].split("\t")[:4] == [
        "market", "currency", "delivered_orders", "return_rate_k"]


@pytest.mark.parametrize(("args", "complaint"), [
    (["--market", "de"], "--market 'de'"), (["--market", "DEU"], "--market"),
    (["--market", "XX"], "'XX' is not a market"), (["--market", "ZZ"], "'ZZ' is not a market"),
    (["--market", "EU"], "'EU' is not a market"),
    (["--since", "yesterday"], "--since 'yesterday'"),
    (["--since", "2026-03-01T10:00:00"], "with an offset"),
    (["--view", "nope"], "no view 'nope'"), (["--format", "xml"], "xml")])
def test_insights_refuse_bad_options_with_exit_2(cli: Cli, args: list[str], complaint: str
                                                 ) -> None:
    done = cli.run("insights", "products", *args, as_="analyst-1")
    assert done.returncode == 2 and complaint in done.stderr


def test_the_report_draws_names_from_the_data_as_plain_text(cli: Cli) -> None:
    """'$' in a carrier or category name would start matplotlib's mathtext."""
    placed = order_placed("o-2", lines=[{"line_id": "1", "sku": "$\\frac{1}{0}$",
                                         "category": "$x^{$", "quantity": 1,
                                         "unit_price": "5.00"}],
                          estimated_delivery_at=(T0 + timedelta(days=9)).isoformat())
    upstream = [placed, order_paid(placed),
                shipment("o-2", "Delivered", T0 + timedelta(days=3), carrier="$x_{$")]
    assert cli.run("ingest", cli.lines("more.jsonl", upstream),
                   as_="system.upstream").returncode == 0
    back = request_return(order_id="o-2", lines=[{"line_id": "1", "quantity": 1}])
    assert cli.run("submit", "-", stdin=json.dumps(back)).returncode == 0
    assert cli.run("projections", "rebuild").returncode == 0
    for name in ("report.html", "report.png"):
        done = cli.run("report", "--output", str(cli.tmp / name), as_="analyst-1")
        assert done.returncode == 0, done.stderr


def test_a_read_model_from_an_older_version_asks_for_a_rebuild(cli: Cli) -> None:
    assert cli.run("projections", "rebuild").returncode == 0
    with sqlite3.connect(cli.tmp / "read.sqlite") as conn:
        conn.execute("ALTER TABLE product_alerts DROP COLUMN baseline_scope")
    done = cli.run("insights", "products", as_="analyst-1")
    assert done.returncode == 5
    assert "aftersales projections rebuild product_signals" in done.stderr
    assert cli.run("projections", "rebuild", "product_signals").returncode == 0
    assert cli.run("insights", "products", as_="analyst-1").returncode == 0


HELP = [[], ["submit"], ["ingest"], ["case"], ["case", "show"], ["case", "rerun"], ["run"],
        ["broker"], ["query"], ["status"], ["report"], ["projections"],
        ["projections", "rebuild"], ["projections", "catch-up"], ["deadlines"],
        ["deadlines", "fire"], ["deadlines", "list"],
        ["audit"], ["audit", "seal"], ["audit", "verify"], ["audit", "denials"],
        ["principals"], ["principals", "bootstrap"], ["principals", "add"],
        ["principals", "import"], ["principals", "grant"], ["principals", "revoke"],
        ["principals", "disable"], ["principals", "enable"], ["principals", "list"],
        ["principals", "show"], ["insights"], ["insights", "products"],
        ["insights", "carriers"], ["insights", "complaints"], ["insights", "refunds"],
        ["dlq"], ["dlq", "list"], ["dlq", "show"], ["dlq", "redrive"]]


def test_the_log_format_help_says_when_a_line_has_the_fields(tmp_path: Path) -> None:
    """It stopped mid-sentence: "...as fields where a line is about one"."""
    done = Cli(tmp_path).run("--help")
    said = " ".join(part.strip(" │") for part in done.stdout.split("--log-format", 1)[1]
                    .split("[default: text]", 1)[0].splitlines())
    assert "json: one JSON object per line" in " ".join(said.split())
    assert "when the line is about a Kafka message or a case" in " ".join(said.split())


@pytest.mark.parametrize("args", HELP)
def test_every_command_has_help(args: list[str], tmp_path: Path) -> None:
    done = Cli(tmp_path).run(*args, "--help")
    assert done.returncode == 0 and "Usage" in done.stdout
