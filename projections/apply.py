"""Applying batches of events to projections, with their positions, in one transaction.

One bad event never stops the projections: when a batch fails for anything but an outage of
the read database, it is applied again event by event, each application in a savepoint; the
ones that fail are undone and left out (reported as :class:`Failure`), and the positions move
past them. A rebuild leaves out the same applications, so the tables still equal a rebuild."""

from __future__ import annotations

import logging
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson

from projections import positions
from projections.base import ERASURES_DDL, Event, Handler, Projection, utc
from projections.db import ReadDatabase, Transaction, is_outage, native

MAX_POSITION = 2**63 - 1
RACE_ATTEMPTS = 5  # a batch that loses a deadlock or serialisation race is applied again
log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Delivery:
    """One event as it came from its source (a topic partition and offset, or the store), or
    why the record there is not a case event (``event`` is then None)."""

    source: str
    part: int
    offset: int
    event: Event | None
    problem: str | None = None


@dataclass(frozen=True)
class Failure:
    """An event (or record) a projection could not take; ``projection`` is ``*`` for all."""

    delivery: Delivery
    projection: str
    error: str


OnFailures = Callable[[list[Failure]], None]


class OutdatedProjection(RuntimeError):
    """A projection's tables were made by an older version: they must be rebuilt."""


def ensure_schema(db: ReadDatabase, projections: Sequence[Projection],
                  check: bool = True) -> None:
    """Create the position tables and any missing projection tables and indexes; with check,
    refuse tables whose columns differ from this version's (OutdatedProjection).

    Runners starting at once on one PostgreSQL read database would race on CREATE TABLE IF
    NOT EXISTS (a duplicate type error): they take turns on an advisory lock (SQLite's BEGIN
    IMMEDIATE serialises them already)."""
    outdated = []
    with db.transaction() as tx:
        if db.is_postgres:
            tx.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))
        existing = db.tables()
        positions.create(tx)
        tx.execute(ERASURES_DDL)
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
    """True when a table's columns (and on PostgreSQL their types) are not those its DDL makes
    now (checked on a temporary table of the same DDL, dropped at once)."""
    for logical, ddl in projection.tables.items():
        probe = f"schema_probe_{logical}"
        tx.execute(f"DROP TABLE IF EXISTS {probe}")
        tx.execute(native(ddl.replace("CREATE TABLE", "CREATE TEMPORARY TABLE", 1).format(
            **{t: probe if t == logical else t for t in projection.tables}), db.is_postgres))
        wanted = db.column_types(probe)
        tx.execute(f"DROP TABLE {probe}")
        if db.column_types(projection.names[logical]) != wanted:
            return True  # other columns, or (PostgreSQL) other types: TEXT before NUMERIC…
    return False


SCHEMA_LOCK = 0x61667465_72736331  # the read database's schema changes, one at a time
CANONICAL_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00")


def normalise(event: Event) -> Event:
    """Times as UTC ISO text (most already are: then nothing is parsed)."""
    if not CANONICAL_UTC.fullmatch(event["time"]):
        event["time"] = utc(event["time"])
    return event


def decode(value: bytes | None) -> Event:
    """A case event from a record's value; raises ValueError for anything that is not one."""
    try:
        event: Any = orjson.loads(value or b"")
        if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
            raise ValueError("not a CloudEvents object with data")
        for name in ("type", "subject", "time"):
            if not isinstance(event.get(name), str):
                raise ValueError(f"{name} is not a string")
        for name in ("position", "version"):
            number = event.get(name)
            if type(number) is not int or not 1 <= number <= MAX_POSITION:
                raise ValueError(f"{name} is not a positive integer")
        return normalise(event)
    except ValueError:
        raise
    except Exception as error:  # e.g. a time at the edge of the calendar (OverflowError)
        raise ValueError(f"{type(error).__name__}: {error}") from None


def apply_batch(db: ReadDatabase, projections: Sequence[Projection],
                deliveries: Sequence[Delivery], on_failures: OnFailures | None = None) -> int:
    """Apply a batch to every projection and move their positions, atomically.

    An event at or below a projection's position for its partition (a re-send by the relay)
    or below its floor (already applied by a rebuild) is skipped, so nothing is applied twice.
    ``on_failures`` hears what was left out before the transaction commits (raising there
    rolls the batch back). Returns how many (event, projection) applications happened.

    Runners that share a read database update shared rows (an order's products, a day's
    totals) in the order their events come, so two of them can deadlock; PostgreSQL then
    rolls one batch back, which is applied again at once (it waits for the winner's locks),
    up to ``RACE_ATTEMPTS`` times. An outage, or a race lost that often, rolls the batch back
    and raises: the runner's error policy retries it (workers/error_policy.py)."""
    applied = _again_after_a_lost_race(
        "a batch", lambda: _apply_batch(db, projections, deliveries, on_failures))
    settle(db, projections)
    return applied


def _again_after_a_lost_race(what: str, work: Callable[[], T]) -> T:
    """``work`` (one transaction), again at once each time PostgreSQL rolled it back for a
    deadlock or serialisation failure, at most ``RACE_ATTEMPTS`` tries in all; the last try's
    failure, and any other, raises."""
    for attempt in range(1, RACE_ATTEMPTS):
        try:
            return work()
        except Exception as error:
            if not _lost_a_race(error):
                raise
            log.info("%s lost a race with another writer (%s); applying it again "
                     "(attempt %d of %d)", what, type(error).__name__, attempt + 1,
                     RACE_ATTEMPTS)
    return work()


def settle(db: ReadDatabase, projections: Sequence[Projection]) -> None:
    """Each projection's settle step, in a transaction of its own (see Projection.settle);
    one that fails raises, and runs again (it finds what is still pending) when the runner
    starts its next session."""
    for projection in projections:
        if type(projection).settle is not Projection.settle:
            _in_transaction(db, projection.settle)


def settle_in(tx: Transaction, projections: Sequence[Projection]) -> None:
    """The settle steps inside a transaction (a rebuild's fresh tables have one writer)."""
    for projection in projections:
        projection.settle(tx)


def _in_transaction(db: ReadDatabase, work: Callable[[Transaction], None]) -> None:
    def once() -> None:
        with db.transaction() as tx:
            work(tx)

    _again_after_a_lost_race("a settle step", once)


def _apply_batch(db: ReadDatabase, projections: Sequence[Projection],
                 deliveries: Sequence[Delivery], on_failures: OnFailures | None) -> int:
    if all(d.event is not None for d in deliveries):
        try:
            with db.transaction(pipelined=True) as tx:  # all or nothing: see below
                return apply_in(tx, projections, deliveries, careful=False)[0]
        except Exception as error:
            if is_outage(error) or _lost_a_race(error):
                raise
    with db.transaction() as tx:  # one event at a time, each in a savepoint
        applied, failures = apply_carefully(tx, projections, deliveries)
        _report(failures, on_failures)
        return applied


def _lost_a_race(error: Exception) -> bool:
    """A deadlock or serialisation failure on PostgreSQL (retried whole, not event by event;
    psycopg is loaded whenever a PostgreSQL database is in use)."""
    psycopg = sys.modules.get("psycopg")
    return psycopg is not None and isinstance(error, (psycopg.errors.DeadlockDetected,
                                                      psycopg.errors.SerializationFailure))


def _report(failures: list[Failure], on_failures: OnFailures | None) -> None:
    if failures and on_failures is not None:
        on_failures(failures)


def apply_in(tx: Transaction, projections: Sequence[Projection],
             deliveries: Sequence[Delivery], careful: bool = False
             ) -> tuple[int, list[Failure]]:
    """The fast path: projection after projection, any failure raises. Each projection gets,
    in batch order, the events it has a handler for and has not applied yet: above its
    position for the partition, above every earlier event of the partition in this batch (a
    re-send), and above its floor. The batch is indexed once, so a projection's cost follows
    the events it handles, not the size of the batch."""
    if careful:
        return apply_carefully(tx, projections, deliveries)
    applied = 0
    highest: dict[tuple[str, int], int] = {}
    next_offset: dict[tuple[str, int], int] = {}
    by_type: dict[str, list[int]] = defaultdict(list)
    fresh: dict[int, tuple[Event, tuple[str, int], int]] = {}  # index -> event, key, position
    for index, d in enumerate(deliveries):
        key = (d.source, d.part)
        top = highest.get(key, 0)
        next_offset[key] = max(next_offset.get(key, 0), d.offset + 1)
        highest[key] = top
        if d.event is not None:
            position = d.event["position"]
            if position > top:  # not a re-send of an earlier event of the batch
                highest[key] = position
                fresh[index] = (d.event, key, position)
                by_type[d.event["type"]].append(index)
    for projection in projections:
        where = positions.claim(tx, projection.name, highest)
        limit = {key: max(where.parts.get(key, (0, 0))[1], where.floor) for key in highest}
        handlers = projection.handlers()
        for index in sorted(i for t in handlers.keys() & by_type.keys() for i in by_type[t]):
            event, key, position = fresh[index]
            if position > limit[key]:
                handlers[event["type"]](projection, event, tx)
                applied += 1
        for key, top in highest.items():
            offset, stored = where.parts.get(key, (0, 0))
            where.parts[key] = (max(offset, next_offset[key]), max(stored, top))
        positions.save(tx, projection.name, where)
    return applied, []


@dataclass
class _Progress:
    """One projection's positions while a batch is applied carefully."""

    projection: Projection
    where: positions.Positions
    highest: dict[tuple[str, int], int]
    next_offset: dict[tuple[str, int], int]


def apply_carefully(tx: Transaction, projections: Sequence[Projection],
                    deliveries: Sequence[Delivery]) -> tuple[int, list[Failure]]:
    """Event after event through every projection, each application in a savepoint.

    Offsets always move past a delivery; highest positions move past an event only when no
    projection failed on it, so a record that fails and merely claims a far position cannot
    hide the real events after it (a re-send of such an event is tried again)."""
    applied = 0
    failures = [Failure(d, "*", d.problem or "not a case event")
                for d in deliveries if d.event is None]
    progress = []
    keys = {(d.source, d.part) for d in deliveries}
    for projection in projections:
        where = positions.claim(tx, projection.name, keys)
        progress.append(_Progress(projection, where,
                                  {key: pos for key, (_, pos) in where.parts.items()},
                                  {key: off for key, (off, _) in where.parts.items()}))
    for d in deliveries:
        key = (d.source, d.part)
        for p in progress:
            p.next_offset[key] = max(p.next_offset.get(key, 0), d.offset + 1)
            p.highest.setdefault(key, 0)
        if d.event is None:
            continue
        position, failed = d.event["position"], []
        for p in progress:
            if position <= p.highest[key] or position <= p.where.floor:
                continue
            handler = p.projection.handlers().get(d.event["type"])
            if handler is None:
                continue
            problem = _apply(handler, p.projection, d.event, tx, careful=True)
            if problem is None:
                applied += 1
            else:
                failed.append(Failure(d, p.projection.name, problem))
        if not failed:
            for p in progress:
                p.highest[key] = max(p.highest[key], position)
        failures.extend(failed)
    for p in progress:
        p.where.parts.update({key: (p.next_offset[key], p.highest[key])
                              for key in p.next_offset})
        positions.save(tx, p.projection.name, p.where)
    return applied, failures


def apply_events(tx: Transaction, projections: Sequence[Projection], events: Sequence[Event],
                 careful: bool = False) -> list[Failure]:
    """Apply events from the store (a rebuild: no positions), leaving out the same failures
    as :func:`apply_in`. Each event goes, in projection order, to the projections that have a
    handler for its type (looked up once per type, not per event and projection)."""
    failures = []
    routes: dict[str, list[tuple[Projection, Handler]]] = {}
    for event in events:
        delivery = Delivery("store", 0, event.get("position", 0), event)
        try:
            normalise(event)
        except Exception as error:
            if not careful:
                raise
            failures.append(Failure(delivery, "*", f"{type(error).__name__}: {error}"))
            continue
        kind = event["type"]
        route = routes.get(kind)
        if route is None:
            route = routes[kind] = [(p, h) for p in projections
                                    if (h := p.handlers().get(kind)) is not None]
        for projection, handler in route:
            if not careful:
                handler(projection, event, tx)
                continue
            problem = _apply(handler, projection, event, tx, careful)
            if problem is not None:
                failures.append(Failure(delivery, projection.name, problem))
    return failures


def _apply(handler: Callable[[Any, Event, Transaction], None], projection: Projection,
           event: Event, tx: Transaction, careful: bool) -> str | None:
    if not careful:
        handler(projection, event, tx)
        return None
    try:
        with tx.savepoint():
            handler(projection, event, tx)
    except Exception as error:
        if is_outage(error):
            raise
        return f"{type(error).__name__}: {error}"[:500]
    return None
