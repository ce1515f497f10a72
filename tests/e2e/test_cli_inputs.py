"""What a sender can give the CLI (issue 9), run as processes: the inputs that stopped workers
or printed tracebacks are refused with exit 2 and a line naming what is wrong; `submit -` and
`ingest` stream their input in bounded memory; output cannot be turned against its reader;
the databases the project creates are readable by their owner only."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import threading
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from aftersales import children
from aftersales.bootstrap import open_app
from aftersales.settings import eventsourcing_env
from tests.e2e.test_cli import AFTERSALES, Cli, request_return
from tests.factories import ADMIN, T0, caller, cli_cast, order_paid, order_placed, shipment


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path)
    cli_cast(cli.run, "c-1")
    return cli


UPSTREAM = "system.upstream"


def test_the_inputs_that_stopped_workers_are_refused_with_exit_2(cli: Cli) -> None:
    edge = order_placed("o-2") | {"occurred_at": "9999-12-31T23:00:00-14:00"}
    overflow = order_placed("o-3")
    overflow["lines"][0]["unit_price"] = "9e999999"
    nul = order_placed("o-4")
    nul["lines"][0]["sku"] = "MUG\u0000"
    deep: Any = "x"
    for _ in range(300):
        deep = [deep]
    lines = [json.dumps(m) for m in (edge, overflow, nul, order_placed("o-5", meta=deep))]
    lines += ['{"event_type": "OrderPaid", "currency": "EUR", "currency": "USD"}',
              json.dumps(order_placed("o-6", shipping_fee="2_0.00"))]
    done = cli.run("ingest", "-", stdin="\n".join(lines) + "\n", as_=UPSTREAM)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    for number, words in enumerate(["outside the supported range", "not an amount",
                                    "U+0000", "nested deeper than", "appears twice",
                                    "not an amount"], start=1):
        assert f"line {number}: " in done.stderr and words in done.stderr, (number, words)
    assert "ingested: 0 applied, 0 already seen, 6 failed" in done.stderr


def test_a_command_at_the_edge_of_the_calendar_or_before_its_order_is_refused(cli: Cli
                                                                             ) -> None:
    placed = order_placed("o-1")
    assert cli.run("ingest", cli.lines("up.jsonl", [placed, order_paid(placed), shipment(
        "o-1", "Delivered", T0 + timedelta(days=3))]), as_=UPSTREAM).returncode == 0
    late = cli.run("submit", "-", stdin=json.dumps(request_return(
        at="9999-12-31T00:00:00+00:00")))
    assert late.returncode == 2 and "outside the supported range" in late.stderr
    early = cli.run("submit", "-", stdin=json.dumps(request_return(
        at=(T0 - timedelta(days=400)).isoformat())))
    assert early.returncode == 2 and "before order 'o-1' was placed" in early.stderr
    for args in (["deadlines", "fire", "--now", "0001-01-01T00:00:00+14:00"],
                 ["deadlines", "list", "--due-before", "9999-12-31T23:59:59-14:00"]):
        done = cli.run(*args, as_="agent-1")
        assert done.returncode == 2 and "outside the supported range" in done.stderr, args


def test_a_pretty_printed_document_over_the_limit_is_refused_not_read_whole(cli: Cli) -> None:
    big = json.dumps(order_placed("o-1") | {"pad": ["x" * 1000] * 10_000}, indent=2)
    assert len(big) > 10_000_000
    done = cli.run("ingest", "-", stdin=big, as_=UPSTREAM)
    assert done.returncode == 2 and "over the limit of 262144" in done.stderr


def peak_rss_mb(args: list[str], env: dict[str, str], chunks: Any) -> tuple[int, float]:
    """Run a command feeding stdin from ``chunks``; its exit code and peak RSS (MB)."""
    process = children.popen([*AFTERSALES, *args], env=env, stdin=subprocess.PIPE,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def feed() -> None:
        assert process.stdin is not None
        with process.stdin:
            for chunk in chunks:
                process.stdin.write(chunk)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    _, status, usage = os.wait4(process.pid, 0)
    writer.join(timeout=60)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_maxrss / 1024


def test_submit_streams_its_input_in_bounded_memory(cli: Cli) -> None:
    small = json.dumps(request_return()).encode() + b"\n"
    env = {**cli.env, "AFTERSALES_PRINCIPAL": "customer-c-1"}
    _, baseline = peak_rss_mb(["submit", "-"], env, [small])

    def huge() -> Any:  # 96 MB: one giant document, then many small ones
        yield b'{"command": "RequestReturn", "note": "'
        for _ in range(64):
            yield b"x" * (1 << 20)
        yield b'"}\n'
        for _ in range(40_000):
            yield b'{"command": "Nope"}\n'

    code, peak = peak_rss_mb(["submit", "-"], env, huge())
    assert code == 2
    assert peak < baseline + 40, f"peak {peak:.0f} MB against {baseline:.0f} MB for one command"


def test_output_neutralises_terminal_escapes_and_spreadsheet_formulas(cli: Cli) -> None:
    formula = '=HYPERLINK("http://evil.example","click")'
    placed = order_placed("o-1", customer_id=formula)
    assert cli.run("ingest", cli.lines("up.jsonl", [
        placed, order_paid(placed), shipment("o-1", "Lost", T0 + timedelta(days=2))
    ]), as_=UPSTREAM).returncode == 0
    app = open_app(eventsourcing_env(f"sqlite:///{cli.db}"))
    try:  # written before the boundary refused control characters, or by another tool
        raw = order_placed("o-2", customer_id="\x1b[2J\x1b]0;owned\x07\u202e")
        upstream = caller(app, UPSTREAM)
        app.upstream.order_placed(upstream, **typed(raw))
        app.upstream.shipment_scanned(upstream,
                                      **typed(shipment("o-2", "Lost", T0 + timedelta(days=2))))
    finally:
        app.close()
    assert cli.run("projections", "rebuild").returncode == 0
    csv_out = cli.run("query", "cases", "--format", "csv", as_="agent-1").stdout
    assert "'" + formula.replace('"', '""') in csv_out
    assert "\n=" not in csv_out and ",=" not in csv_out
    assert "\x1b" not in csv_out and "\x07" not in csv_out and "\\x1b[2J" in csv_out
    table = cli.run("query", "cases", as_="agent-1").stdout
    assert "\x1b" not in table and "\u202e" not in table and "\\x1b[2J" in table
    rows = json.loads(cli.run("query", "cases", "--format", "json", as_="agent-1").stdout)
    for row in rows:
        shown = cli.run("case", "show", row["case_id"], as_="agent-1")
        assert shown.returncode == 0 and "\x1b" not in shown.stdout, shown.stderr


def typed(message: dict[str, Any]) -> dict[str, Any]:
    """An upstream message as application arguments, without the boundary."""
    out = {k: v for k, v in message.items() if k != "event_type"}
    out["occurred_at"] = datetime.fromisoformat(message["occurred_at"])
    for field in ("shipping_fee", "duties", "taxes", "total"):
        if field in out:
            out[field] = Decimal(out[field])
    if "event_type" in message and "shipment_id" in message:
        out["event_type"] = message["event_type"]
    return out


def test_the_databases_the_project_creates_are_private(cli: Cli) -> None:
    placed = order_placed("o-1")
    assert cli.run("ingest", cli.lines("up.jsonl", [placed]), as_=UPSTREAM).returncode == 0
    assert cli.run("projections", "rebuild").returncode == 0
    (cli.tmp / "out").mkdir()
    assert cli.run("report", "--output", str(cli.tmp / "out" / "report.html"),
                   as_="analyst-1").returncode == 0
    for path in (cli.db, cli.tmp / "read.sqlite", cli.tmp / "out" / "report.html",
                 *cli.tmp.glob("*.sqlite-wal")):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == 0o600, f"{path.name}: {oct(mode)}"


def test_a_file_to_write_in_a_missing_folder_is_refused_naming_it_and_nothing_is_made(
        cli: Cli) -> None:
    """Every option naming a file to write, as `cp` would: exit 2, the path in the message,
    no folder created, nothing stored; an existing folder is not a file either."""
    missing = cli.tmp / "no" / "such"
    admin = {"as_": "test-admin"}
    commands: list[tuple[list[str], dict[str, str | None]]] = [
        (["report", "--output", str(missing / "report.html")], {"as_": "analyst-1"}),
        (["customer", "export", "c-1", "--output", str(missing / "c-1.json")], admin),
        (["policy", "publish", "--output", str(missing / "policy.md")], admin),
        (["policy", "simulate", "--merchant", "m", "--version", "0", "--format", "json",
          "--output", str(missing / "what-if.json")], admin),
        (["keys", "new-kek", str(missing / "kek")], {"as_": None}),
    ]
    before = cli.stored_events()
    for args, principal in commands:
        done = cli.run(*args, **principal)
        assert done.returncode == 2, (args, done.stderr)
        assert f"no such directory {missing}" in done.stderr, (args, done.stderr)
        assert "(see" not in done.stderr  # not a usage error: the path is named instead
        assert not (cli.tmp / "no").exists()
    assert cli.stored_events() == before
    folder = cli.run("customer", "export", "c-1", "--output", str(cli.tmp), as_="test-admin")
    assert folder.returncode == 2 and f"--output {cli.tmp}: it is a directory" in folder.stderr


def test_the_default_report_goes_into_the_projects_var_folder(cli: Cli) -> None:
    assert cli.run("projections", "rebuild").returncode == 0
    done = children.run([*AFTERSALES, "report", "--as", "analyst-1"], cwd=cli.tmp,
                        env=cli.env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    report = cli.tmp / "var" / "report.html"
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    assert stat.S_IMODE(report.parent.stat().st_mode) == 0o700


def test_report_as_json_prints_it_and_writes_a_file_only_when_output_names_one(cli: Cli
                                                                               ) -> None:
    """`report --format json` wrote var/report.html besides, which its help does not say."""
    assert cli.run("projections", "rebuild").returncode == 0
    done = children.run([*AFTERSALES, "report", "--format", "json", "--as", "analyst-1"],
                        cwd=cli.tmp, env=cli.env, capture_output=True, text=True, timeout=120,
                        check=False)
    assert done.returncode == 0, done.stderr
    assert {"headline", "sections"} <= json.loads(done.stdout).keys()
    assert not (cli.tmp / "var").exists() and "written" not in done.stderr
    named = cli.tmp / "r.png"
    done = cli.run("report", "--format", "json", "--output", str(named), as_="analyst-1")
    assert done.returncode == 0 and json.loads(done.stdout)["headline"], done.stderr
    assert named.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _through_fifo(cli: Cli, fifo: Path, data: str, *args: str, as_: str
                  ) -> subprocess.CompletedProcess[str]:
    """Run `aftersales ARGS FIFO` while another thread writes ``data`` into the named pipe and
    closes it (as `cmd > fifo` would)."""
    def write() -> None:
        with fifo.open("w") as pipe:
            pipe.write(data)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    done = children.run([*AFTERSALES, *args, str(fifo)], capture_output=True, text=True,
                        env={**cli.env, "AFTERSALES_PRINCIPAL": as_}, timeout=60, check=False)
    writer.join(timeout=10)
    return done


def test_a_pipe_given_as_a_path_is_read_once_by_every_command_that_takes_a_file(
        cli: Cli, tmp_path: Path) -> None:
    placed = order_placed("o-1")
    upstream = [placed, order_paid(placed)]
    # /dev/stdin is the pipe the process was started with (as `cat f | aftersales ingest
    # /dev/stdin` or `<(cat f)`): read once, not counted first and then found empty
    done = cli.run("ingest", "/dev/stdin", stdin="".join(json.dumps(m) + "\n" for m in upstream),
                   as_=UPSTREAM)
    assert done.returncode == 0, done.stderr
    assert "ingested: 2 applied, 0 already seen, 0 failed" in done.stderr
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    delivered = shipment("o-1", "Delivered", T0 + timedelta(days=3))
    done = _through_fifo(cli, fifo, json.dumps(delivered) + "\n", "ingest", as_=UPSTREAM)
    assert done.returncode == 0, done.stderr
    assert "ingested: 1 applied, 0 already seen, 0 failed" in done.stderr
    done = _through_fifo(cli, fifo, json.dumps(request_return()) + "\n", "submit",
                         as_="customer-c-1")
    assert done.returncode == 0 and '"command":"RequestReturn"' in done.stdout, done.stderr
    principal = {"name": "agent-fifo", "roles": ["agent"]}
    done = _through_fifo(cli, fifo, json.dumps(principal) + "\n", "principals", "import",
                         as_=ADMIN)
    assert done.returncode == 0 and "principals: 1 added" in done.stderr, done.stderr


def test_an_array_cut_off_in_its_second_element_is_one_failure_on_its_line(cli: Cli) -> None:
    placed = json.dumps(order_placed("o-1"))
    done = cli.run("ingest", "-", stdin=f"[{placed},{placed[:40]}", as_=UPSTREAM)
    assert done.returncode == 2
    assert done.stderr.count("line 1: ") == 1 and "at at" not in done.stderr, done.stderr
    assert "the array is not closed (the input ends inside this element)" in done.stderr
    assert "ingested: 1 applied, 0 already seen, 1 failed" in done.stderr


def test_an_id_with_a_space_at_either_end_is_refused_on_every_path_naming_the_field(
        cli: Cli) -> None:
    placed = order_placed("o-1")
    assert cli.run("ingest", cli.lines("up.jsonl", [placed, order_paid(placed), shipment(
        "o-1", "Delivered", T0 + timedelta(days=3))]), as_=UPSTREAM).returncode == 0
    done = cli.run("ingest", "-", stdin=json.dumps(order_placed("o-1 ")), as_=UPSTREAM)
    assert done.returncode == 2, done.stderr
    assert "order_id: must not begin or end with a space" in done.stderr
    before = cli.stored_events()
    # once stripped by commands only: then it named the other order, o-1
    done = cli.run("submit", "-", stdin=json.dumps(request_return(order_id="o-1 ")))
    assert done.returncode == 2, done.stderr
    assert "order_id: must not begin or end with a space" in done.stderr
    done = cli.run("submit", "-", stdin=json.dumps(request_return(
        lines=[{"line_id": "\u00a0", "quantity": 1}])))
    assert done.returncode == 2 and "U+00A0 NO-BREAK SPACE" in done.stderr, done.stderr
    assert cli.stored_events() == before


def test_a_database_in_a_missing_folder_is_refused_naming_it_but_var_is_made(
        tmp_path: Path) -> None:
    """A mistyped SQLite URL is exit 2 naming the folder, and creates nothing (no folder, no
    store, no kek.key); only the default var/ under the working directory is made."""
    work = tmp_path / "work"
    work.mkdir()
    missing = tmp_path / "no" / "such"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}

    def run(*args: str, **urls: str) -> subprocess.CompletedProcess[str]:
        return children.run([*AFTERSALES, *args], cwd=work, env={**env, **urls},
                            capture_output=True, text=True, timeout=120, check=False)

    for variable, args in (("AFTERSALES_DATABASE_URL", ["case", "show", str(uuid4()), "--as", "x"]),
                           ("AFTERSALES_DATABASE_URL", ["principals", "bootstrap", "root"]),
                           ("AFTERSALES_READ_DATABASE_URL", ["query", "cases", "--as", "x"])):
        done = run(*args, **{variable: f"sqlite:///{missing / 'x.sqlite'}"})
        assert done.returncode == 2, (args, done.stderr)
        assert f"{variable}: the folder {missing} does not exist" in done.stderr, done.stderr
        assert not (tmp_path / "no").exists()
    assert list(work.iterdir()) == []
    done = run("principals", "bootstrap", "root")  # a first run: the default stores
    assert done.returncode == 0, done.stderr
    assert {p.name for p in (work / "var").iterdir()} >= {"events.sqlite", "kek.key"}
    assert stat.S_IMODE((work / "var").stat().st_mode) == 0o700
