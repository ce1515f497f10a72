"""Rebuild projections from the event store into fresh tables, then swap them in.

The live tables keep serving (and runners keep updating them) while the rebuild fills
`<table>__rebuild`. The swap happens in one transaction that first applies whatever the store
gained meanwhile, so the new tables hold everything the old ones did; the projection's floor is
set to that store position, so runners skip what the rebuild already applied."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from projections import positions
from projections.apply import ensure_schema, normalise
from projections.base import Event, Projection
from projections.catalog import select
from projections.db import ReadDatabase, Transaction

SUFFIX = "__rebuild"
ReadStore = Callable[[int, int], Sequence[Event]]  # (after position, limit) -> events


def _apply_store(tx: Transaction, projections: Sequence[Projection], events: Sequence[Event]
                 ) -> None:
    for event in events:
        normalise(event)
        for projection in projections:
            if projection.wants(event["type"]):
                projection.apply(event, tx)
    for projection in projections:
        projection.finish(tx)
        projection.settle(tx)  # fresh tables, one writer: in the same transaction


def rebuild(db: ReadDatabase, names: list[str] | None, read_store: ReadStore,
            progress: Callable[[int], None] = lambda _: None, batch: int = 5000) -> int:
    """Rebuild the named projections (all by default); returns the store position reached."""
    fresh = select(names, SUFFIX)
    live = select(names)
    ensure_schema(db, live, check=False)
    with db.transaction() as tx:
        for projection in fresh:
            for table in projection.names.values():
                tx.execute(f"DROP TABLE IF EXISTS {table}")
            projection.create(tx)
    reached = 0
    while True:
        events = read_store(reached, batch)
        if not events:
            break
        with db.transaction() as tx:
            _apply_store(tx, fresh, events)
        reached = events[-1]["position"]
        progress(len(events))
    with db.transaction() as tx:
        if db.is_postgres:
            tx.execute("LOCK TABLE projection_positions IN EXCLUSIVE MODE")
        while events := read_store(reached, batch):  # what arrived meanwhile
            _apply_store(tx, fresh, events)
            reached = events[-1]["position"]
            progress(len(events))
        for new, old in zip(fresh, live, strict=True):
            for logical, table in old.names.items():
                tx.execute(f"DROP TABLE IF EXISTS {table}")
                tx.execute(f"ALTER TABLE {new.names[logical]} RENAME TO {table}")
            old.create_indexes(tx)
            positions.set_floor(tx, old.name, reached)
    return reached

