"""A rebuild shared by processes (projections/rebuild_processes.py) makes the tables one
process makes, leaves out and reports the same failures, and swaps nothing in when a helper
fails or dies."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from aftersales.bootstrap import store_reader
from aftersales_core.application.services import Services
from projections import rebuild_processes
from projections.apply import Failure
from projections.base import Event
from projections.catalog import all_projections, queryable_tables
from projections.db import ReadDatabase
from projections.rebuild import rebuild
from projections.rebuild_processes import HelperFailed, shares
from tests.integration.test_projections import busy_day

PAGE = 9  # events a page: the busy day's store is many pages


def snapshot(db: ReadDatabase) -> dict[str, list[dict[str, Any]]]:
    return {t: sorted(db.query(f"SELECT * FROM {t}"), key=repr) for t in queryable_tables()}


@pytest.fixture
def helpers_started(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many helpers each rebuild started."""
    started: list[int] = []
    real = rebuild_processes.start

    def counting(db: ReadDatabase, groups: Sequence[Sequence[Any]]) -> Any:
        started.append(len(groups))
        return real(db, groups)

    monkeypatch.setattr(rebuild_processes, "start", counting)
    return started


@pytest.mark.parametrize("processes", [2, 3])
def test_processes_sharing_a_rebuild_make_the_tables_one_makes(
        app: Services, read_db: ReadDatabase, helpers_started: list[int],
        processes: int) -> None:
    busy_day(app)
    alone = rebuild(read_db, None, store_reader(app), batch=PAGE)
    expected = snapshot(read_db)
    assert helpers_started == []
    shared = rebuild(read_db, None, store_reader(app), batch=PAGE, processes=processes)
    assert helpers_started == [processes - 1]
    assert shared == alone
    assert snapshot(read_db) == expected
    assert any(expected[t] for t in ("cases", "refunds", "complaints", "orders"))


def test_a_store_of_one_page_is_rebuilt_by_one_process(
        app: Services, tmp_path: Path, helpers_started: list[int]) -> None:
    busy_day(app)
    db = ReadDatabase(f"sqlite:///{tmp_path / 'read.sqlite'}")
    rebuild(db, None, store_reader(app), processes=4)
    assert helpers_started == []
    assert db.query("SELECT count(*) AS n FROM cases")[0]["n"] > 0


def spoiled(read: Callable[[int, int], Sequence[Event]],
            spoil: Callable[[Event], None]) -> Callable[[int, int], list[Event]]:
    """The store with every refund request spoiled by ``spoil``."""

    def spoiling(after: int, limit: int) -> list[Event]:
        events = [dict(e) for e in read(after, limit)]
        for event in events:
            if event["type"] == "aftersales.refund.Requested":
                spoil(event)
        return events

    return spoiling


def no_money(event: Event) -> None:
    """The cases and refunds projections cannot take it, the others can."""
    event["data"] = {**event["data"], "amount": "not money"}


def no_time(event: Event) -> None:
    """No projection can take it: it is named once, for all (``*``)."""
    event["time"] = "not a time"


def left_out(failed: list[Failure]) -> list[tuple[int, str]]:
    return sorted((f.delivery.offset, f.projection) for f in failed)


@pytest.mark.parametrize(("spoil", "named"), [(no_money, {"cases", "refunds"}),
                                              (no_time, {"*"})])
def test_what_a_helper_cannot_apply_is_left_out_and_reported_as_by_one_process(
        app: Services, tmp_path: Path, helpers_started: list[int],
        spoil: Callable[[Event], None], named: set[str]) -> None:
    busy_day(app)
    alone_db = ReadDatabase(f"sqlite:///{tmp_path / 'alone.sqlite'}")
    shared_db = ReadDatabase(f"sqlite:///{tmp_path / 'shared.sqlite'}")
    alone: list[Failure] = []
    shared: list[Failure] = []
    rebuild(alone_db, None, spoiled(store_reader(app), spoil), batch=PAGE, failed=alone)
    rebuild(shared_db, None, spoiled(store_reader(app), spoil), batch=PAGE, failed=shared,
            processes=2)
    assert helpers_started == [1]
    assert left_out(shared) == left_out(alone)
    assert {f.projection for f in alone} == named
    helper = {p.name for p in shares(all_projections(), 2)[1]}
    assert named & helper or named == {"*"}  # what a helper left out came back
    assert snapshot(shared_db) == snapshot(alone_db)


def test_a_helper_that_dies_fails_the_rebuild_and_nothing_is_swapped_in(
        app: Services, read_db: ReadDatabase, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    busy_day(app)
    rebuild(read_db, None, store_reader(app), batch=PAGE)
    before = snapshot(read_db)
    for name in ("orders", "cases"):  # the live tables change meanwhile
        read_db.execute(f"DELETE FROM {name}")
    changed = snapshot(read_db)
    parent, real = os.getpid(), rebuild_processes.apply_page

    def dying(*args: Any) -> None:
        if os.getpid() != parent:
            os._exit(9)  # as a helper killed with kill -9 would, without a word
        real(*args)

    monkeypatch.setattr(rebuild_processes, "apply_page", dying)
    with pytest.raises(HelperFailed, match="exited with code 9"):
        rebuild(read_db, None, store_reader(app), batch=PAGE, processes=2)
    assert snapshot(read_db) == changed != before
    assert not [p for p in tmp_path.iterdir() if ".rebuild-" in p.name]


def test_a_helper_that_fails_names_why_and_nothing_is_swapped_in(
        app: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    busy_day(app)
    db = ReadDatabase(f"sqlite:///{tmp_path / 'read.sqlite'}")
    parent, real = os.getpid(), rebuild_processes.apply_page

    def failing(*args: Any) -> None:
        if os.getpid() != parent:
            raise MemoryError("the helper ran out of memory")
        real(*args)

    monkeypatch.setattr(rebuild_processes, "apply_page", failing)
    with pytest.raises(HelperFailed, match="MemoryError: the helper ran out of memory"):
        rebuild(db, None, store_reader(app), batch=PAGE, processes=2)
    assert db.query("SELECT count(*) AS n FROM cases")[0]["n"] == 0  # the live table, made empty
    assert not [p for p in tmp_path.iterdir() if ".rebuild-" in p.name]


@pytest.mark.parametrize("processes", [1, 2, 3, 4, 11, 20])
def test_shares_give_every_projection_to_exactly_one_process(processes: int) -> None:
    projections = all_projections()
    split = shares(projections, processes)
    assert sorted(p.name for share in split for p in share) == sorted(
        p.name for p in projections)
    assert len(split[1:]) <= min(processes - 1, len(projections))
    assert all(split[1:])  # a helper always has work
    if processes in (2, 3):  # with more, reading the store is the reader's fair share
        assert split[0]


def test_scratch_files_a_killed_rebuild_left_are_removed_by_the_next(
        app: Services, tmp_path: Path) -> None:
    busy_day(app)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a process id nobody has now
    left = tmp_path / f"read.sqlite.rebuild-{gone.pid}-1"
    left.write_bytes(b"what a rebuild killed with kill -9 left")
    living = tmp_path / f"read.sqlite.rebuild-{os.getpid()}-9"  # a running rebuild's
    living.write_bytes(b"in use")
    db = ReadDatabase(f"sqlite:///{tmp_path / 'read.sqlite'}")
    rebuild(db, None, store_reader(app), batch=PAGE, processes=2)
    assert not left.exists()
    assert living.exists()
