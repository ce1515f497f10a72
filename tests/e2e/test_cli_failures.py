"""Every CLI command fails the documented way (issue 9), run as a process:

* a store, read database or broker that cannot be reached is exit 5; a missing file, a bad
  argument or a bad configuration is exit 2; each with one `error:` line and no traceback;
* no output ever shows a secret: every command runs with database URLs carrying a marker
  password (unreachable, unsupported, malformed, refused by a real PostgreSQL server, and as a
  query parameter) and the marker appears in neither stdout nor stderr.

The runs are independent processes, started in parallel (most wait on a timeout)."""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from aftersales import children
from aftersales.bootstrap import open_app
from aftersales.settings import eventsourcing_env

MARKER = "Mk7-S3cret-pw-x9"
UUID0 = "00000000-0000-4000-8000-000000000000"
AT = "2026-03-02T09:00:00+00:00"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when this returns: nothing listens


DOWN = closed_port()
STORE_DOWN = f"postgresql://admin:{MARKER}@127.0.0.1:{DOWN}/db?password={MARKER}"
READ_DOWN = f"postgresql://admin:{MARKER}@127.0.0.1:{DOWN}/read"
BROKER_DOWN = f"127.0.0.1:{DOWN}"
SWEEPER = "sweeper"  # a principal that may read and act wherever a command here needs it
BOOK = str(Path(__file__).parents[2] / "demo" / "books" / "olist.toml")

# command -> (arguments, what it uses)
COMMANDS: dict[str, tuple[list[str], set[str]]] = {
    "submit": (["submit", "{dir}/commands.jsonl"], {"store"}),
    "submit -": (["submit", "-"], {"store"}),
    "ingest": (["ingest", "{dir}/upstream.jsonl"], {"store"}),
    "case show": (["case", "show", UUID0], {"store"}),
    "case rerun": (["case", "rerun", UUID0], {"store"}),
    "query": (["query", "cases"], {"read"}),
    "status": (["status"], {"store", "read"}),
    "report": (["report", "--output", "{dir}/report.html"], {"read"}),
    "projections rebuild": (["projections", "rebuild"], {"store", "read"}),
    "deadlines fire": (["deadlines", "fire", "--now", AT], {"store"}),
    "deadlines list": (["deadlines", "list"], {"store"}),
    "audit seal": (["audit", "seal"], {"store"}),
    "audit verify": (["audit", "verify"], {"store"}),
    "run": (["run", "--role", "scheduler", "--role", "auditor", "--seconds", "1"], {"store"}),
    "run relay": (["run", "--role", "relay", "--seconds", "1"], {"store", "broker"}),
    # (history and diff open the store the way show does: swept for their arguments only)
    "policy show": (["policy", "show", "--merchant", "m"], {"store"}),
    "policy set": (["policy", "set", BOOK, "--merchant", "m", "--reason", "x"], {"store"}),
    "policy simulate": (["policy", "simulate", BOOK, "--merchant", "m"], {"store"}),
    "policy publish": (["policy", "publish", "--merchant", "m"], {"store"}),
    "principals list": (["principals", "list"], {"store"}),
    "principals show": (["principals", "show", SWEEPER], {"store"}),
    "insights products": (["insights", "products"], {"read"}),
    "insights refunds": (["insights", "refunds", "--format", "json"], {"read"}),
    "customer export": (["customer", "export", "c-1"], {"store"}),
}
# commands that only read: a store file that does not exist is exit 5, and none is created
READ_ONLY = ("case show", "case rerun", "query", "status", "projections rebuild",
             "deadlines list", "audit verify")
MISSING_STORE = "no-such-store.sqlite"
BROKER_USERS = {"status": ["status"], "run relay": COMMANDS["run relay"][0],
                "dlq list": ["dlq", "list"], "dlq show": ["dlq", "show", "0:0"],
                "dlq redrive": ["dlq", "redrive"],
                "dlq redrive --dry-run": ["dlq", "redrive", "--dry-run"]}

# command -> arguments that are wrong
BAD_ARGUMENTS: dict[str, list[list[str]]] = {
    "submit": [["submit", "{dir}/missing.jsonl"], ["submit", "{dir}"], ["submit"]],
    "ingest": [["ingest", "{dir}/missing.jsonl"], ["ingest", "{dir}"]],
    "case show": [["case", "show", "not-a-uuid"],
                  ["case", "show", UUID0, "--as-of", "9999-12-31T23:00:00-14:00"],
                  ["case", "show", UUID0, "--as-of", "yesterday"]],
    "case rerun": [["case", "rerun", "42"]],
    "query": [["query", "nope"], ["query", "cases", "--where", "colour=red"],
              ["query", "cases", "--limit", "0"]],
    "status": [["status", "--format", "xml"]],
    "dlq": [["dlq", "list", "--error-type", "not-json"],  # misspelt: would match nothing
            ["dlq", "redrive", "--error-type", "refused", "--error-type", "bogus"]],
    "report": [["report", "--output", "{dir}/report.txt"],
               ["report", "--output", "/proc/no/such/report.html"],
               ["report", "--output", "{dir}/no/such/report.html"]],
    "customer export": [["customer", "export", "c-1", "--output", "{dir}/no/such/c-1.json"],
                        ["customer", "export", "c-1", "--output", "{dir}"]],
    "keys new-kek": [["keys", "new-kek", "{dir}/no/such/kek"]],
    "projections rebuild": [["projections", "rebuild", "nope"]],
    "deadlines fire": [["deadlines", "fire", "--now", "0001-01-01T00:00:00+14:00"],
                       ["deadlines", "fire", "--now", "tomorrow"]],
    "deadlines list": [["deadlines", "list", "--due-before", "9999-12-31T23:59:59-14:00"],
                       ["deadlines", "list", "--case", "x"]],
    "audit seal": [["audit", "seal", "--batch-size", "0"]],
    "audit verify": [["audit", "verify", "--anchor", "12:nothex"]],
    "run": [["run", "--role", "nope"]],
    "broker": [["broker", "--kind", "nope"], ["broker", "--port", "-1"]],
    "policy show": [["policy", "show", "--version", "-1"]],
    "policy set": [["policy", "set", "{dir}/missing.toml", "--reason", "x"],
                   ["policy", "set", "{dir}/commands.jsonl", "--reason", "x"]],
    "policy history": [["policy", "history", "--format", "xml"]],
    "policy diff": [["policy", "diff", "--from", "x"]],
    "policy simulate": [["policy", "simulate", BOOK, "--merchant", "m", "--since", "yesterday"],
                        ["policy", "simulate", BOOK, "--merchant", "m", "--output",
                         "{dir}/what-if.txt"],
                        ["policy", "simulate", BOOK, "--merchant", "m", "--format", "json",
                         "--output", "{dir}/no/such/what-if.json"]],
    "insights": [["insights", "carriers", "--since", "yesterday"],
                 ["insights", "complaints", "--market", "Germany"],
                 ["insights", "products", "--limit", "0"]],
    "principals": [["principals", "add", "x\u202ey", "--role", "agent", "--as", "sweep-admin"],
                   ["principals", "grant", SWEEPER, "--role", "nope", "--as", "sweep-admin"]],
    "policy publish": [["policy", "publish", "--lang", "fr"],
                       ["policy", "publish", "--output", "/proc/no/such/policy.md"]],
}


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    expected: int


@dataclass(frozen=True)
class Outcome:
    case: Case
    returncode: int
    stdout: str
    stderr: str


def cases(tmp: Path) -> list[Case]:
    fine = {"AFTERSALES_DATABASE_URL": f"sqlite:///{tmp / 'events.sqlite'}",
            "AFTERSALES_READ_DATABASE_URL": f"sqlite:///{tmp / 'read.sqlite'}",
            "AFTERSALES_PRINCIPAL": SWEEPER}
    out = []

    def add(name: str, args: list[str], expected: int, **env: str) -> None:
        merged = {**fine, **env}
        out.append(Case(name, tuple(a.format(dir=tmp) for a in args),
                        tuple(sorted(merged.items())), expected))

    for name, (args, uses) in COMMANDS.items():
        if "store" in uses:
            add(f"{name}: store down", args, 5, AFTERSALES_DATABASE_URL=STORE_DOWN)
        if "read" in uses:
            add(f"{name}: read database down", args, 5, AFTERSALES_READ_DATABASE_URL=READ_DOWN)
        add(f"{name}: unsupported and malformed URLs", args, 2,
            AFTERSALES_DATABASE_URL=f"mysql://admin:{MARKER}@db/x",
            AFTERSALES_READ_DATABASE_URL=f"postgresql://admin:{MARKER}%zz@db:5432/x")
        add(f"{name}: a port that is not a number", args, 2,
            AFTERSALES_DATABASE_URL=f"postgresql://admin:{MARKER}@db:port/x")
        pg = os.environ.get("AFTERSALES_TEST_POSTGRES_URL")
        if pg:
            wrong = pg.replace(pg.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1], MARKER)
            add(f"{name}: wrong password", args, 5, AFTERSALES_DATABASE_URL=wrong,
                AFTERSALES_READ_DATABASE_URL=wrong)
    for name in READ_ONLY:
        add(f"{name}: store file missing", COMMANDS[name][0], 5,
            AFTERSALES_DATABASE_URL=f"sqlite:///{tmp / MISSING_STORE}")
    for name, args in BROKER_USERS.items():
        add(f"{name}: broker down", args, 5, KAFKA_BOOTSTRAP_SERVERS=BROKER_DOWN)
    for name, variants in BAD_ARGUMENTS.items():
        for args in variants:
            add(f"{name}: {' '.join(args[1:])}", args, 2)
    return out


def run(case: Case) -> Outcome:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AFTERSALES_", "KAFKA_"))}
    env.update({"COLUMNS": "200", **dict(case.env)})
    done = children.run([sys.executable, "-m", "aftersales", *case.args], env=env,
                          input="", capture_output=True, text=True, timeout=180, check=False)
    return Outcome(case, done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    tmp = tmp_path_factory.mktemp("cli-failures")
    (tmp / "commands.jsonl").write_text(json.dumps(
        {"command": "CloseReturn", "case_id": UUID0, "by": "a"}) + "\n")
    (tmp / "upstream.jsonl").write_text('{"event_type": "OrderPaid"}\n')
    principals(tmp)
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = list(pool.map(run, cases(tmp)))
    return {o.case.name: o for o in found}


def principals(tmp: Path) -> None:
    """The fine store's administrator and the sweeping principal (so that the failures swept
    are the ones under test, not a missing principal: that one is exit 6, tested elsewhere)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AFTERSALES_", "KAFKA_"))}
    env["AFTERSALES_DATABASE_URL"] = f"sqlite:///{tmp / 'events.sqlite'}"
    for args in (["principals", "bootstrap", "sweep-admin"],
                 ["principals", "add", SWEEPER, "--role", "agent", "--role", "auditor",
                  "--role", "upstream", "--as", "sweep-admin"]):
        done = children.run([sys.executable, "-m", "aftersales", *args], env=env,
                              capture_output=True, text=True, timeout=180, check=False)
        assert done.returncode == 0, done.stderr


def _check(outcome: Outcome) -> None:
    shown = f"{outcome.case.name}: exit {outcome.returncode}\n{outcome.stderr[-2000:]}"
    assert MARKER not in outcome.stdout and MARKER not in outcome.stderr, shown
    assert outcome.returncode == outcome.case.expected, shown
    assert "Traceback" not in outcome.stderr and "Traceback" not in outcome.stdout, shown
    errors = [line for line in outcome.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, f"not one error line: {shown}"
    assert "(message)" not in errors[0], f"a placeholder instead of the option's name: {shown}"


NAMES = [c.name for c in cases(Path("/tmp"))]


@pytest.mark.parametrize("name", NAMES)
def test_each_command_fails_with_its_exit_code_one_line_and_no_secret(
        outcomes: dict[str, Outcome], name: str) -> None:
    _check(outcomes[name])


def test_commands_that_only_read_create_no_store_where_none_is(
        outcomes: dict[str, Outcome], tmp_path_factory: pytest.TempPathFactory) -> None:
    for name in READ_ONLY:
        outcome = outcomes[f"{name}: store file missing"]
        assert "no event store at " in outcome.stderr and MISSING_STORE in outcome.stderr, (
            name, outcome.stderr)
    base = tmp_path_factory.getbasetemp()
    assert not list(base.glob(f"cli-failures*/{MISSING_STORE}*"))


def test_every_command_is_swept() -> None:
    swept = {name.split(":")[0] for name in NAMES}
    assert swept >= {"submit", "ingest", "case show", "case rerun", "query", "status",
                     "report", "projections rebuild", "deadlines fire", "deadlines list",
                     "audit seal", "audit verify", "run", "broker", "policy show",
                     "policy set", "policy history", "policy diff", "policy simulate",
                     "policy publish"}


@pytest.mark.parametrize("args", [["dlq", "list"], ["dlq", "list", "--format", "csv"],
                                  ["dlq", "show", "0:0"], ["dlq", "redrive", "--dry-run"],
                                  ["dlq", "redrive"], ["status"]], ids=" ".join)
def test_commands_that_read_the_broker_say_soon_that_it_cannot_be_reached(
        tmp_path: Path, args: list[str]) -> None:
    """Not after minutes (a consumer's first metadata call waits for ever): within the
    commands' timeout of 10 s, naming the bootstrap servers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AFTERSALES_", "KAFKA_"))}
    env.update({"KAFKA_BOOTSTRAP_SERVERS": BROKER_DOWN,
                "AFTERSALES_DATABASE_URL": f"sqlite:///{tmp_path / 'events.sqlite'}",
                "AFTERSALES_READ_DATABASE_URL": f"sqlite:///{tmp_path / 'read.sqlite'}"})
    open_app(eventsourcing_env(env["AFTERSALES_DATABASE_URL"])).close()  # a store to read
    started = time.monotonic()
    done = children.run([sys.executable, "-m", "aftersales", *args], env=env, input="",
                        capture_output=True, text=True, timeout=60, check=False)
    took = time.monotonic() - started
    assert done.returncode == 5, done.stderr
    [error] = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert f"the broker cannot be reached at {BROKER_DOWN}" in error, error
    assert "Traceback" not in done.stderr and took < 25, f"{took:.1f}s"


def test_verbose_shows_the_engines_lines_not_kafka_pythons_debug_flood(tmp_path: Path) -> None:
    """`-v` turned kafka-python's DEBUG lines on too (dozens a second against an unreachable
    broker); they come with -vv only. Its warnings and errors stay with -v."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AFTERSALES_", "KAFKA_"))}
    env.update({"KAFKA_BOOTSTRAP_SERVERS": BROKER_DOWN,
                "AFTERSALES_DATABASE_URL": f"sqlite:///{tmp_path / 'events.sqlite'}",
                "AFTERSALES_READ_DATABASE_URL": f"sqlite:///{tmp_path / 'read.sqlite'}"})
    open_app(eventsourcing_env(env["AFTERSALES_DATABASE_URL"])).close()  # a store to read
    done = children.run([sys.executable, "-m", "aftersales", "-v", "status"], env=env,
                        capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 5, done.stderr
    lines = done.stderr.splitlines()
    assert not [line for line in lines if " DEBUG kafka" in line], done.stderr[-2000:]
    assert [line for line in lines if " kafka." in line]  # its connection failures
    assert f"the broker cannot be reached at {BROKER_DOWN}" in done.stderr


@pytest.mark.parametrize("args", [["query", "cases"], ["status"]], ids=" ".join)
def test_a_store_postgresql_refuses_is_said_at_once_with_its_reason_and_nothing_is_made(
        tmp_path: Path, args: list[str]) -> None:
    """A wrong password or database name is a setting to correct, not an outage to wait for:
    PostgreSQL's reason comes at once (not "couldn't get a connection" after the pool's
    10 s), no secret shown, and the read database in the working directory is not made."""
    pg = os.environ.get("AFTERSALES_TEST_POSTGRES_URL")
    if not pg:
        pytest.skip("AFTERSALES_TEST_POSTGRES_URL is not set (make test sets it)")
    secret = pg.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AFTERSALES_", "KAFKA_"))}
    for url, reason in ((pg.replace(secret, MARKER), "password authentication failed"),
                        (pg.rsplit("/", 1)[0] + "/aftersales_no_such_db", "does not exist")):
        done = children.run([sys.executable, "-m", "aftersales", *args, "--as", "x"]
                            if args[0] == "query" else [sys.executable, "-m", "aftersales",
                                                        *args],
                            env={**base, "AFTERSALES_DATABASE_URL": url}, cwd=tmp_path,
                            capture_output=True, text=True, timeout=180, check=False)
        assert done.returncode == 5, done.stderr
        assert reason in done.stderr and "AFTERSALES_DATABASE_URL" in done.stderr, done.stderr
        assert MARKER not in done.stderr + done.stdout
        assert "couldn't get a connection" not in done.stderr  # not the pool's timeout
        assert not (tmp_path / "var").exists(), list(tmp_path.rglob("*"))
