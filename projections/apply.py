"""Applying batches of events to projections, with their positions, in one transaction."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

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
    for attempt in range(1, CONFLICT_RETRIES + 1):
        try:
            with db.transaction() as tx:
                return apply_in(tx, projections, deliveries)
        except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure):
            if attempt == CONFLICT_RETRIES:
                raise
            time.sleep(random.uniform(0, 0.05 * attempt))
    raise AssertionError("unreachable")


def apply_in(tx: Transaction, projections: Sequence[Projection],
             deliveries: Sequence[Delivery]) -> int:
    applied = 0
    keys = {(d.source, d.part) for d in deliveries}
    for projection in projections:
        where = positions.claim(tx, projection.name, keys)
        highest = {key: pos for key, (_, pos) in where.parts.items()}
        next_offset = {key: off for key, (off, _) in where.parts.items()}
        handlers = projection.handlers()
        for d in deliveries:
            key, position = (d.source, d.part), d.event["position"]
            top = highest.get(key, 0)
            if position > top and position > where.floor:
                handler = handlers.get(d.event["type"])
                if handler is not None:
                    handler(projection, d.event, tx)
                    applied += 1
            highest[key] = max(top, position)
            next_offset[key] = max(next_offset.get(key, 0), d.offset + 1)
        projection.finish(tx)
        where.parts.update({key: (next_offset[key], highest[key]) for key in next_offset})
        positions.save(tx, projection.name, where)
    return applied
