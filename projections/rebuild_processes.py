"""A rebuild's helper processes: each applies a share of the projections, so that a rebuild
keeps every core busy.

The rebuilding process reads the store once, page by page, applies its own share, and hands
each page to every helper as JSON through a pipe (decoding it is a fraction of reading and
converting the store's events). A helper is a forked copy that writes through its own
connection: into the fresh ``__rebuild`` tables of a PostgreSQL read database directly, or, on
SQLite (one writer per file), into a scratch SQLite file beside the read database whose rows
are copied into the fresh tables at the end, in one statement per table. A page is applied in
one transaction per process, again event by event when some event fails (as a rebuild alone
does); what a helper left out comes back with its result. Projections never read each
other's tables, so a share applies alone what the whole would.

Nothing is swapped in unless every helper finished: a helper that fails or dies fails the
rebuild (the live tables stay as they were); a helper whose rebuilding process dies stops."""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from queue import Full, Queue
from threading import Thread

import orjson

from projections.apply import Failure, apply_events, settle_in
from projections.base import ERASURES_DDL, Event, Projection
from projections.catalog import select
from projections.db import ReadDatabase, is_outage

SUFFIX = "__rebuild"
#: What applying one event costs each projection, relative to one another (measured on the
#: bench's workload: `python -m bench --only rebuild`); one not named here counts as 4.
WEIGHTS = {"cases": 12, "product_signals": 11, "decisions": 6, "deadlines": 6, "refunds": 6,
           "shipments": 3, "logistics_exceptions": 3, "returns_by_reason": 2, "complaints": 1,
           "orders": 1, "buyer_quota": 1}
READING = 27  # reading and converting the store, in the same units
DECODING = 9  # a helper's decoding of the page handed over
AHEAD = 4  # pages queued for a helper at most (each a few MB of JSON)
PARENT_POLL_S = 1.0  # how often a waiting helper checks that its rebuilding process lives


class HelperFailed(RuntimeError):
    """A helper process failed or died: the rebuild stops, nothing is swapped in."""


def apply_page(db: ReadDatabase, projections: Sequence[Projection], events: Sequence[Event],
               failed: list[Failure]) -> None:
    """One transaction; again event by event in savepoints when some event fails."""
    try:
        with db.transaction(pipelined=True) as tx:
            apply_events(tx, projections, events)
            settle_in(tx, projections)
            return
    except Exception as error:
        if is_outage(error):
            raise
    with db.transaction() as tx:
        failed.extend(apply_events(tx, projections, events, careful=True))
        settle_in(tx, projections)


def shares(projections: Sequence[Projection], processes: int) -> list[list[Projection]]:
    """The projections split into ``processes`` shares of about equal work, the first for the
    rebuilding process (which also reads the store), the others for helpers (which decode what
    it hands over); the heaviest projection is placed first (longest-processing-time first).
    Empty shares are dropped."""
    loads = [READING] + [DECODING] * (processes - 1)
    split: list[list[Projection]] = [[] for _ in range(processes)]
    for projection in sorted(projections, key=lambda p: -WEIGHTS.get(p.name, 4)):
        lightest = min(range(processes), key=lambda i: loads[i])
        split[lightest].append(projection)
        loads[lightest] += WEIGHTS.get(projection.name, 4)
    return [split[0]] + [share for share in split[1:] if share]


def default_processes() -> int:
    """The cores this process may run on, at most 4 (each helper decodes every page again)."""
    return max(1, min(4, len(os.sched_getaffinity(0))))


def can_fork(db: ReadDatabase) -> bool:
    """Helpers need fork (Linux) and a read database another process can open."""
    return ("fork" in multiprocessing.get_all_start_methods()
            and (db.is_postgres or ":memory:" not in db.url))


@dataclass
class Helper:
    process: BaseProcess
    pages: Connection  # this end sends the pages
    results: Connection  # this end receives (failures, error)
    projections: list[Projection]
    scratch: Path | None  # SQLite: the file the helper writes
    outbox: Queue[bytes | None] = field(default_factory=lambda: Queue(maxsize=AHEAD))
    types: frozenset[str] = frozenset()  # the event types its projections handle
    broken: BaseException | None = None  # why the pipe took no more pages

    def send_all(self) -> None:
        """The sender thread: pages go out while the rebuilding process reads and applies
        the next ones (writing to the pipe blocks until the helper has read the last)."""
        while (page := self.outbox.get()) is not None:
            try:
                self.pages.send_bytes(page)
            # the helper is gone (OSError), or stop() closed this end while a write was under
            # way (the handle is None then: TypeError; closed before it: ValueError): take the
            # rest, send nothing
            except (OSError, TypeError, ValueError) as error:
                self.broken = error


def start(db: ReadDatabase, groups: Sequence[Sequence[Projection]]) -> list[Helper]:
    """A helper process for each group of (fresh) projections."""
    context = multiprocessing.get_context("fork")
    helpers: list[Helper] = []
    try:
        for group in groups:
            scratch = None if db.is_postgres else _scratch_path(db, len(helpers))
            pages_out, pages_in = context.Pipe(duplex=False)
            results_out, results_in = context.Pipe(duplex=False)
            inherited = [end for h in helpers for end in (h.pages, h.results)] + [pages_in,
                                                                                   results_out]
            process = context.Process(
                target=_serve, name=f"rebuild-helper-{len(helpers) + 1}", daemon=True,
                args=(db.url if scratch is None else f"sqlite:///{scratch}",
                      [p.name for p in group], scratch is not None, pages_out, results_in,
                      inherited, os.getpid()))
            process.start()
            pages_out.close()
            results_in.close()
            helper = Helper(process, pages_in, results_out, list(group), scratch,
                            types=frozenset(t for p in group for t in p.handlers()))
            Thread(target=helper.send_all, name=f"{process.name}-pages", daemon=True).start()
            helpers.append(helper)
    except BaseException:
        stop(helpers)
        raise
    return helpers


def _scratch_path(db: ReadDatabase, index: int) -> Path:
    """``<read db>.rebuild-<pid>-<n>``; first removes what a rebuilding process killed
    (kill -9) left behind there."""
    path = Path(db.url.removeprefix("sqlite:///"))
    for left in path.parent.glob(f"{path.name}.rebuild-*-*"):
        pid = left.name.removeprefix(f"{path.name}.rebuild-").split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            left.unlink(missing_ok=True)
    scratch = path.with_name(f"{path.name}.rebuild-{os.getpid()}-{index + 1}")
    _remove(scratch)
    return scratch


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def hand_over(helpers: Sequence[Helper], events: Sequence[Event]) -> None:
    """Queue for every helper the page's events its projections handle (waits while a
    helper is AHEAD pages behind)."""
    for helper in helpers:
        if helper.broken is not None:
            raise HelperFailed(_gone(helper)) from helper.broken
        helper.outbox.put(orjson.dumps([e for e in events if e["type"] in helper.types]))


def finish(db: ReadDatabase, helpers: Sequence[Helper], failed: list[Failure]) -> None:
    """Tell the helpers the pages are done, wait for each, add what they left out to
    ``failed`` and (SQLite) copy their rows into the fresh tables."""
    for helper in helpers:
        helper.outbox.put(b"")
        helper.outbox.put(None)
    for helper in helpers:
        while not helper.results.poll(PARENT_POLL_S):
            if not helper.process.is_alive():
                raise HelperFailed(_gone(helper))
        try:
            left_out, error = helper.results.recv()
        except EOFError as closed:
            raise HelperFailed(_gone(helper)) from closed
        if error is not None:
            raise HelperFailed(f"{helper.process.name} failed: {error}")
        # an event no projection can take (its time, say) is named once, by the reader
        failed.extend(f for f in left_out if f.projection != "*")
        helper.process.join()
    for helper in helpers:
        if helper.scratch is not None:
            _copy_rows(db, helper)


def _gone(helper: Helper) -> str:
    """Why a helper took no more pages: what it reported, else how it ended."""
    helper.process.join(timeout=5)
    with suppress(EOFError, OSError):
        if helper.results.poll(0):
            _, error = helper.results.recv()
            if error is not None:
                return f"{helper.process.name} failed: {error}"
    return f"{helper.process.name} exited with code {helper.process.exitcode}"


def _copy_rows(db: ReadDatabase, helper: Helper) -> None:
    db.execute("ATTACH DATABASE ? AS helper", (str(helper.scratch),))
    try:
        with db.transaction() as tx:
            for projection in helper.projections:
                for table in projection.names.values():
                    tx.execute(f"INSERT INTO main.{table} SELECT * FROM helper.{table}")
    finally:
        db.execute("DETACH DATABASE helper")


def stop(helpers: Sequence[Helper]) -> None:
    """End the helpers (at once when they are still working) and remove their files."""
    for helper in helpers:
        if helper.process.is_alive():
            helper.process.kill()
        helper.process.join(timeout=10)
        with suppress(Full):  # a sender blocked on a full outbox gets to its end
            helper.outbox.put_nowait(None)
        helper.pages.close()  # a sender blocked on the pipe gets an error (the helper is gone)
        helper.results.close()
        if helper.scratch is not None:
            _remove(helper.scratch)


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with suppress(FileNotFoundError):
            path.with_name(path.name + suffix).unlink()


def _serve(url: str, names: list[str], scratch: bool, pages: Connection, results: Connection,
           inherited: list[Connection], parent: int) -> None:
    """A helper: apply the pages handed over to ``names``' fresh tables through a connection
    of its own (never one the forked copy holds) until the empty page, then send back
    (failures, None), or ([], what went wrong)."""
    gc.freeze()  # what the forked copy holds is never collected here (nor copied to be)
    for end in inherited:  # the other ends and other helpers' pipes: EOF must reach them
        end.close()
    try:
        target = ReadDatabase(url)
        fresh = select(names, SUFFIX)
        if scratch:  # a scratch copy: nothing to lose on a crash, so no syncing
            target.execute("PRAGMA synchronous=OFF")
            with target.transaction() as tx:
                tx.execute(ERASURES_DDL)  # what its projections note of erasures they apply
                for projection in fresh:
                    projection.create(tx)
        failed: list[Failure] = []
        while True:
            while not pages.poll(PARENT_POLL_S):
                if os.getppid() != parent:
                    return  # the rebuilding process is gone: nobody waits for this
            page = pages.recv_bytes()
            if not page:
                break
            apply_page(target, fresh, orjson.loads(page), failed)
        target.close()
        results.send((failed, None))
    except BaseException as error:  # reported to the rebuilding process
        with suppress(OSError):
            results.send(([], f"{type(error).__name__}: {error}"[:500]))
