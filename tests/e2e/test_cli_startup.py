"""What an `aftersales` process loads: only what its command uses. `--help` and the commands
that never touch Kafka or PostgreSQL import neither kafka-python nor psycopg, nor the service
API's FastAPI and granian, nor matplotlib (every process used to pay for all of them, about
0.85 s of CPU each). Checked in a real process: the modules loaded when it exits."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from aftersales import children
from aftersales.brokers.process import free_port
from tests.e2e.test_cli import Cli
from tests.factories import T0, cli_cast, order_paid, order_placed, shipment

HEAVY = ("kafka", "psycopg", "psycopg_pool", "fastapi", "starlette", "granian", "matplotlib")
# runs the CLI as `aftersales` does, then writes the names of the loaded modules to a file
PROBE = """
import atexit, json, sys
out = sys.argv.pop(1)
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
from aftersales.cli import main
sys.argv[0] = "aftersales"
main()
"""


def loaded(cli: Cli, *args: str, env: dict[str, str] | None = None
           ) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run `aftersales ARGS`; its outcome and the top-level packages it had loaded."""
    out = cli.tmp / "modules.json"
    out.unlink(missing_ok=True)
    done = children.run([sys.executable, "-c", PROBE, str(out), *args], capture_output=True,
                        text=True, env={**cli.env, **(env or {})}, timeout=120, check=False)
    return done, {name.split(".")[0] for name in json.loads(out.read_text())}


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path)
    cli.env["AFTERSALES_PRINCIPAL"] = "agent-1"
    cli_cast(cli.run, "c-1")
    placed = order_placed("o-1")
    upstream = [placed, order_paid(placed), shipment("o-1", "Delivered", T0 + timedelta(days=3))]
    assert cli.run("ingest", cli.lines("up.jsonl", upstream), as_="system.upstream"
                   ).returncode == 0
    assert cli.run("projections", "rebuild", as_=None).returncode == 0
    return cli


@pytest.mark.parametrize("args", [["--help"], ["query", "--help"], ["serve", "--help"],
                                  ["run", "--help"], ["report", "--help"],
                                  ["deadlines", "list", "--help"]])
def test_help_loads_no_kafka_postgresql_web_server_or_charts(tmp_path: Path,
                                                             args: list[str]) -> None:
    done, modules = loaded(Cli(tmp_path), *args)
    assert done.returncode == 0 and "Usage" in done.stdout, done.stderr
    assert modules.isdisjoint(HEAVY), sorted(modules & set(HEAVY))
    if args != ["query", "--help"]:  # which names the tables: it loads the read models
        assert "eventsourcing" not in modules  # nor the store, nor the domain


@pytest.mark.parametrize("args", [
    ["query", "cases", "--format", "json"], ["deadlines", "list"],
    ["case", "show", "00000000-0000-0000-0000-000000000000"],
    ["insights", "products", "--format", "json"], ["principals", "list", "--as", "auditor-1"],
    ["audit", "verify", "--as", "auditor-1"]])
def test_commands_on_sqlite_load_neither_kafka_nor_psycopg(cli: Cli, args: list[str]) -> None:
    done, modules = loaded(cli, *args)
    assert done.returncode in (0, 3), done.stderr  # 3: no such case, as asked
    assert modules.isdisjoint(HEAVY), sorted(modules & set(HEAVY))


def test_a_postgresql_url_loads_psycopg_and_the_probe_sees_it(cli: Cli) -> None:
    """The control: the probe does see what a command loads (psycopg for a PostgreSQL read
    database, here one that does not answer: exit 5)."""
    url = f"postgresql://nobody@127.0.0.1:{free_port()}/none"
    done, modules = loaded(cli, "query", "cases", env={"AFTERSALES_READ_DATABASE_URL": url})
    assert done.returncode == 5, done.stderr
    assert "psycopg" in modules and "kafka" not in modules


def test_the_query_help_still_names_every_table(tmp_path: Path) -> None:
    """Written when shown (aftersales/lazy_help.py), from the read models themselves."""
    from projections.catalog import PROJECTIONS, queryable_tables

    env = {**Cli(tmp_path).env, "COLUMNS": "400"}
    shown = children.run([sys.executable, "-m", "aftersales", "query", "--help"], env=env,
                         capture_output=True, text=True, timeout=120, check=False).stdout
    assert all(table in shown for table in queryable_tables()), shown
    for command in ("rebuild", "catch-up"):
        shown = children.run([sys.executable, "-m", "aftersales", "projections", command,
                              "--help"], env=env, capture_output=True, text=True, timeout=120,
                             check=False).stdout
        assert all(name in shown for name in PROJECTIONS), shown
