"""Applying batches of events to projections, with their positions, in one transaction."""

from __future__ import annotations

import random
import re
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import psycopg

from projections import positions
from projections.base import Event, Projection, utc
from projections.db import ReadDatabase, Transaction


@dataclass(frozen=True)
class Delivery:
    """One event as it came from its source (a topic partition and offset, or the store)."""

    source: str
    part: int
    offset: int
    event: Event


class OutdatedProjection(RuntimeError):
    """A projection's tables were made by an older version: they must be rebuilt."""


def ensure_schema(db: ReadDatabase, projections: Sequence[Projection],
                  check: bool = True) -> None:
    """Create the position tables and any missing projection tables and indexes; with check,
    refuse tables whose columns differ from this version's (OutdatedProjection)."""
    existing = db.tables()
    outdated = []
    with db.transaction() as tx:
        positions.create(tx)
        for projection in projections:
            if not all(name in existing for name in projection.names.values()):
                projection.create(tx)
                if not projection.suffix:
                    projection.create_indexes(tx)
            elif check and _drifted(db, tx, projection):
                outdated.append(projection.name)
    if outdated:
        raise OutdatedProjection(
            f"the read model(s) {', '.join(outdated)} were made by an older version of the "
            f"engine: run `aftersales projections rebuild {' '.join(outdated)}`")


def _drifted(db: ReadDatabase, tx: Transaction, projection: Projection) -> bool:
    """True when a table's columns are not those its DDL makes now (checked on a temporary
    table of the same DDL, dropped at once)."""
    for logical, ddl in projection.tables.items():
        probe = f"schema_probe_{logical}"
        tx.execute(f"DROP TABLE IF EXISTS {probe}")
        tx.execute(ddl.replace("CREATE TABLE", "CREATE TEMPORARY TABLE", 1)
                   .format(**{t: probe if t == logical else t for t in projection.tables}))
        wanted = db.columns(probe)
        tx.execute(f"DROP TABLE {probe}")
        if db.columns(projection.names[logical]) != wanted:
            return True
    return False


CONFLICT_RETRIES = 5
T = TypeVar("T")
CANONICAL_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00")


def normalise(event: Event) -> Event:
    """Times as UTC ISO text (most already are: then nothing is parsed)."""
    if not CANONICAL_UTC.fullmatch(event["time"]):
        event["time"] = utc(event["time"])
    return event


def apply_batch(db: ReadDatabase, projections: Sequence[Projection],
                deliveries: Sequence[Delivery]) -> int:
    """Apply a batch to every projection and move their positions, atomically.

    An event at or below a projection's position for its partition (a re-send by the relay)
    or below its floor (already applied by a rebuild) is skipped, so nothing is applied twice.
    Returns how many (event, projection) applications happened. A deadlock or serialisation
    failure against another runner rolls the whole batch back and tries it again."""
    applied = _retrying(db, lambda tx: apply_in(tx, projections, deliveries))
    settle(db, projections)
    return applied


def settle(db: ReadDatabase, projections: Sequence[Projection]) -> None:
    """Each projection's settle step, in a transaction of its own (see Projection.settle)."""
    for projection in projections:
        if type(projection).settle is not Projection.settle:
            _retrying(db, projection.settle)


def _retrying(db: ReadDatabase, work: Callable[[Transaction], T]) -> T:
    for attempt in range(1, CONFLICT_RETRIES + 1):
        try:
            with db.transaction() as tx:
                return work(tx)
        except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure):
            if attempt == CONFLICT_RETRIES:
                raise
            time.sleep(random.uniform(0, 0.05 * attempt))
    raise AssertionError("unreachable")


def apply_in(tx: Transaction, projections: Sequence[Projection],
             deliveries: Sequence[Delivery]) -> int:
    """Each projection gets, in batch order, the deliveries it has a handler for and has not
    applied yet: above its position for the partition, above every earlier delivery of the
    partition in this batch (a re-send), and above its floor. The batch is indexed once, so a
    projection's cost follows the events it handles, not the size of the batch."""
    applied = 0
    before: list[int] = []  # the highest position of the partition earlier in the batch
    highest: dict[tuple[str, int], int] = {}
    next_offset: dict[tuple[str, int], int] = {}
    by_type: dict[str, list[int]] = defaultdict(list)
    for index, d in enumerate(deliveries):
        key, position = (d.source, d.part), d.event["position"]
        top = highest.get(key, 0)
        before.append(top)
        highest[key] = max(top, position)
        next_offset[key] = max(next_offset.get(key, 0), d.offset + 1)
        by_type[d.event["type"]].append(index)
    for projection in projections:
        where = positions.claim(tx, projection.name, highest)
        handlers = projection.handlers()
        wanted = sorted(i for t in handlers.keys() & by_type.keys() for i in by_type[t])
        for index in wanted:
            d = deliveries[index]
            position = d.event["position"]
            stored = where.parts.get((d.source, d.part), (0, 0))[1]
            if position > stored and position > before[index] and position > where.floor:
                handlers[d.event["type"]](projection, d.event, tx)
                applied += 1
        projection.finish(tx)
        for key, top in highest.items():
            offset, stored = where.parts.get(key, (0, 0))
            where.parts[key] = (max(offset, next_offset[key]), max(stored, top))
        positions.save(tx, projection.name, where)
    return applied
