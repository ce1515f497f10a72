"""Rebuild projections from the event store into fresh tables, then swap them in.

The live tables keep serving (and runners keep updating them) while the rebuild fills
`<table>__rebuild`. The swap happens in one transaction that first applies whatever the store
gained meanwhile, so the new tables hold everything the old ones did; the projection's floor is
set to that store position, so runners skip what the rebuild already applied. An event a
projection cannot take is left out, as the runners leave it out (projections/apply.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import chain, islice

from projections import positions, rebuild_processes
from projections.apply import Failure, apply_events, ensure_schema, settle_in
from projections.base import Event
from projections.catalog import select
from projections.db import ReadDatabase
from projections.rebuild_processes import SUFFIX, apply_page

ReadStore = Callable[[int, int], Sequence[Event]]  # (after position, limit) -> events


def _pages(read_store: ReadStore, batch: int) -> Iterator[Sequence[Event]]:
    reached = 0
    while events := read_store(reached, batch):
        yield events
        reached = events[-1]["position"]


def rebuild(db: ReadDatabase, names: list[str] | None, read_store: ReadStore,
            progress: Callable[[int], None] = lambda _: None, batch: int = 5000,
            failed: list[Failure] | None = None, processes: int = 1) -> int:
    """Rebuild the named projections (all by default); returns the store position reached.
    Applications that failed (and were left out) are added to ``failed``. With ``processes``
    above 1, a store of more than one page is applied by that many processes, each taking a
    share of the projections (projections/rebuild_processes.py)."""
    failed = [] if failed is None else failed
    fresh = select(names, SUFFIX)
    live = select(names)
    ensure_schema(db, live, check=False)
    with db.transaction() as tx:
        for projection in fresh:
            for table in projection.names.values():
                tx.execute(f"DROP TABLE IF EXISTS {table}")
            projection.create(tx)
    reached = 0
    pages = _pages(read_store, batch)
    ahead = list(islice(pages, 2))  # helpers only for a store of more than one page
    own, helpers = fresh, []
    if processes > 1 and len(ahead) > 1 and len(fresh) > 1 and rebuild_processes.can_fork(db):
        own, *groups = rebuild_processes.shares(fresh, processes)
        helpers = rebuild_processes.start(db, groups)
    try:
        for events in chain(ahead, pages):
            rebuild_processes.hand_over(helpers, events)
            apply_page(db, own, events, failed)
            reached = events[-1]["position"]
            progress(len(events))
        rebuild_processes.finish(db, helpers, failed)
    finally:
        rebuild_processes.stop(helpers)
    with db.transaction() as tx:
        if db.is_postgres:
            tx.execute("LOCK TABLE projection_positions IN EXCLUSIVE MODE")
        while events := read_store(reached, batch):  # what arrived meanwhile
            failed.extend(apply_events(tx, fresh, events, careful=True))
            reached = events[-1]["position"]
            progress(len(events))
        settle_in(tx, fresh)
        for new, old in zip(fresh, live, strict=True):
            for logical, table in old.names.items():
                tx.execute(f"DROP TABLE IF EXISTS {table}")
                tx.execute(f"ALTER TABLE {new.names[logical]} RENAME TO {table}")
            old.create_indexes(tx)
            positions.set_floor(tx, old.name, reached)
    return reached


class FedByRunners(ValueError):
    """A projection the runners apply from the case-events topic: catching it up from the
    store could apply an event a runner has applied (or is about to) a second time."""


def catch_up(db: ReadDatabase, names: list[str] | None, read_store: ReadStore,
             progress: Callable[[int], None] = lambda _: None, batch: int = 5000,
             failed: list[Failure] | None = None) -> dict[str, int]:
    """Apply to the live tables what the store gained since each projection's floor, batch
    by batch, each batch, its settle steps and the new floor in one transaction (as a
    rebuild's last step does); returns each projection's store position reached.

    For read models fed from the store (no broker): raises FedByRunners, changing nothing,
    when a runner has applied events beyond the floor."""
    failed = [] if failed is None else failed
    live = select(names)
    ensure_schema(db, live)
    reached: dict[str, int] = {}
    pending = {p.name: p for p in live}
    while pending:
        with db.transaction() as tx:
            if db.is_postgres:  # one catch-up (or rebuild swap) at a time
                tx.execute("LOCK TABLE projection_positions IN EXCLUSIVE MODE")
            floors = {}
            for name in pending:
                where = positions.load(tx, name)
                ahead = [f"{source}[{part}]" for (source, part), (_, pos) in where.parts.items()
                         if pos > where.floor]
                if ahead:
                    raise FedByRunners(
                        f"{name} is applied by projection runners from {', '.join(ahead)}: "
                        "let them catch up (aftersales run --role projections), or rebuild it "
                        "(aftersales projections rebuild)")
                floors[name] = where.floor
            start = min(floors.values())
            group = [pending[name] for name, floor in floors.items() if floor == start]
            events = read_store(start, batch)
            if events:
                failed.extend(apply_events(tx, group, events, careful=True))
                settle_in(tx, group)  # what the batch left for later (product totals, alerts)
                for projection in group:
                    positions.set_floor(tx, projection.name, events[-1]["position"])
        if not events:
            for projection in group:
                reached[projection.name] = start
                del pending[projection.name]
        else:
            progress(len(events))
    return reached
