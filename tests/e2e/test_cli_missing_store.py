"""Every command that only reads, pointed at a SQLite store file that does not exist, exits 5
naming it and creates nothing: no store, no key-encryption key beside it, no read database in
the working directory's var/. A command that writes still creates the store on first use."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from aftersales import children
from tests.e2e.test_cli import AFTERSALES

READ_ONLY = {
    "status": ["status"],
    "query": ["query", "cases"],
    "customer erasures": ["customer", "erasures"],
    "customer export": ["customer", "export", "c-1"],
    "policy show": ["policy", "show"],
    "policy history": ["policy", "history"],
    "policy diff": ["policy", "diff"],
    "policy publish": ["policy", "publish"],
    "policy simulate": ["policy", "simulate", "--merchant", "m-1", "--version", "1"],
    "principals list": ["principals", "list"],
    "principals show": ["principals", "show", "alice"],
    "principals keys": ["principals", "keys"],
    "keys status": ["keys", "status"],
}
READ_MODELS = {  # the commands that also read the read database
    "status": ["status"],
    "query": ["query", "cases"],
    "report": ["report"],
    "report json": ["report", "--format", "json"],
    "insights products": ["insights", "products"],
    "insights carriers": ["insights", "carriers"],
    "insights complaints": ["insights", "complaints", "--format", "json"],
    "insights refunds": ["insights", "refunds"],
}
READ_ONLY.update({name: args for name, args in READ_MODELS.items() if name not in READ_ONLY})


def _run(folder: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    env.update(AFTERSALES_DATABASE_URL=f"sqlite:///{folder / 'store' / 'events.sqlite'}",
               AFTERSALES_PRINCIPAL="alice", COLUMNS="200")
    return children.run([*AFTERSALES, *args], cwd=folder, env=env, capture_output=True,
                        text=True, timeout=120, check=False)


@pytest.mark.parametrize("name", list(READ_ONLY))
def test_a_command_that_only_reads_creates_no_store_where_none_is(
        name: str, tmp_path: Path) -> None:
    (tmp_path / "store").mkdir()
    done = _run(tmp_path, READ_ONLY[name])
    assert done.returncode == 5, (name, done.stderr)
    assert "no event store at " in done.stderr, done.stderr
    assert [p.relative_to(tmp_path) for p in tmp_path.rglob("*")] == [Path("store")]


def test_a_command_that_writes_creates_the_store_on_first_use(tmp_path: Path) -> None:
    (tmp_path / "store").mkdir()
    done = _run(tmp_path, ["principals", "bootstrap", "alice"])
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "store" / "events.sqlite").exists()
    assert _run(tmp_path, ["principals", "list"]).returncode == 0


def test_without_a_store_url_the_message_names_the_default_store_not_the_variable(
        tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    done = children.run([*AFTERSALES, "customer", "erasures", "--as", "alice"], cwd=tmp_path,
                        env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 5, done.stderr
    assert "the default store (AFTERSALES_DATABASE_URL is not set)" in done.stderr, done.stderr
    assert "names a file" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def _run_unset(folder: Path, args: list[str], **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    env.update(AFTERSALES_PRINCIPAL="alice", COLUMNS="200", **settings)
    return children.run([*AFTERSALES, *args], cwd=folder, env=env, capture_output=True,
                        text=True, timeout=120, check=False)


@pytest.mark.parametrize("name", list(READ_MODELS))
def test_a_read_model_command_without_the_default_store_leaves_no_var_folder(
        name: str, tmp_path: Path) -> None:
    """AFTERSALES_DATABASE_URL and AFTERSALES_READ_DATABASE_URL unset, in an empty folder:
    no var/ (for the read database, or the report's default file) is left behind."""
    done = _run_unset(tmp_path, READ_MODELS[name])
    assert done.returncode == 5, (name, done.stderr)
    assert "no event store at var/events.sqlite: the default store" in done.stderr, done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", list(READ_MODELS))
def test_a_mistyped_read_database_folder_is_said_before_a_missing_store(
        name: str, tmp_path: Path) -> None:
    """A setting to correct (exit 2, naming the variable) comes before the missing store
    (exit 5); nothing is created either way."""
    done = _run_unset(tmp_path, READ_MODELS[name],
                      AFTERSALES_READ_DATABASE_URL=f"sqlite:///{tmp_path / 'nope' / 'r.sqlite'}")
    assert done.returncode == 2, (name, done.stderr)
    assert "AFTERSALES_READ_DATABASE_URL: the folder " in done.stderr, done.stderr
    assert "no event store" not in done.stderr
    assert list(tmp_path.iterdir()) == []
