"""Tamper-evident audit of the append-only store (SPEC §1 auditors, §6, §7).

A hash chain over the store's notification log, in position order::

    h_0 = SHA-256("aftersales audit chain v1")
    h_n = SHA-256(h_{n-1} ‖ position ‖ len ‖ originator_id ‖ version ‖ len ‖ topic ‖ state)

Position and version are 8-byte big-endian integers, each length a 4-byte one; the originator
id is the UTF-8 of its stored text form (32 hex digits for a UUID, on both backends), the topic
its UTF-8, the state the stored bytes.

``seal`` extends the chain from the last checkpoint to the store's end and inserts one row per
batch (``batch_size`` events, plus the head) into ``audit_checkpoints``, a table of its own in
the event store's database (SQLite file or PostgreSQL schema), like the deadline index: the
batch's last position, the position of the checkpoint before it, its event count, the chain
hash there, the wall-clock time of sealing and, per event, its position, the first 8 bytes of
its chain hash and CRC-32s of its identity (id, version, topic) and of its state, so that
``verify`` can name the first position that changed and what changed there. Rows are only
inserted; a seal that finds the head moved (another auditor sealed meanwhile) starts again.

``verify`` recomputes the chain from position 1 and compares it with every checkpoint: an event
changed (state, topic, id, version), deleted (a missing position, a head beyond the store's
end) or inserted out of order gives a finding at the first position where the chain diverges;
each batch is then checked again from its own checkpoint, so several tamperings are each
named. Events after the last checkpoint are "not yet sealed", which is not tampering.

Limits: events changed before they were first sealed cannot be told apart; someone who can
rewrite the checkpoints as well can rebuild a consistent chain, or drop the last checkpoints
(their events then show as not yet sealed): keep the head printed by ``seal`` elsewhere and
pass it to ``verify`` as an anchor. A SQLite ``VACUUM`` may renumber
the store's rowids (the store's positions) and is then reported as tampering.
"""

from __future__ import annotations

import hashlib
import logging
import struct
import threading
import time
import zlib
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    Mapper,
    PersistenceError,
    StoredEvent,
)

from aftersales_core import policies
from aftersales_core.decisions import PolicyDecision

log = logging.getLogger(__name__)

GENESIS = hashlib.sha256(b"aftersales audit chain v1").digest()
#: position, originator id, version, topic, state: a notification as ``verify`` reads it.
Row = tuple[int, str, int, str, bytes]
_FIELD = struct.Struct(">qI")  # an integer and the length of the text that follows it
_ENTRY = struct.Struct(">q8sII")  # position, chain hash prefix, identity CRC, state CRC
_END = 2**63 - 1
_DECISION_MARK = b'"policy_decision"'
_position = itemgetter(0)
OnProgress = Callable[[int, int], None]  # (position reached, store end)


_ODD = b"\xff" * 8 + b"odd row"  # no well-typed row starts so: its position would be -1
_ODD_ERRORS = (AttributeError, TypeError, struct.error)


def link(previous: bytes, position: int, originator_id: str, version: int, topic: str,
         state: bytes) -> bytes:
    """One step of the chain: h_n from h_{n-1} and the event stored at ``position``."""
    try:
        o, t = originator_id.encode(), topic.encode()
        return hashlib.sha256(b"".join(
            (previous, _FIELD.pack(position, len(o)), o, _FIELD.pack(version, len(t)), t, state)
        )).digest()
    except _ODD_ERRORS:
        return _odd_link(previous, (position, originator_id, version, topic, state))


def _odd_link(previous: bytes, row: Sequence[Any]) -> bytes:
    """A row holding a value of the wrong type (SQLite keeps any type in any column, NULL
    anywhere): hashed by its repr behind a marker, so it never matches a well-typed event."""
    return hashlib.sha256(previous + _ODD + repr(tuple(row)).encode()).digest()


def chain(previous: bytes, rows: Sequence[Row]) -> bytes:
    """The chain hash after ``rows``: ``link`` folded, without a call per event."""
    sha, pack, join = hashlib.sha256, _FIELD.pack, b"".join
    h = previous
    try:
        for position, originator_id, version, topic, state in rows:
            o, t = originator_id.encode(), topic.encode()
            h = sha(join((h, pack(position, len(o)), o, pack(version, len(t)), t, state))).digest()
    except _ODD_ERRORS:  # a row of the wrong types: the whole batch again, event by event
        h = previous
        for row in rows:
            h = link(h, *row)
    return h


def _sealed_entries(previous: bytes, rows: Sequence[Row]) -> tuple[bytes, bytes]:
    """The chain hash after ``rows`` and the rows' checkpoint entries."""
    h, entries = previous, bytearray()
    for row in rows:
        h = link(h, *row)
        entries += _ENTRY.pack(row[0], h[:8], _identity_crc(row), _state_crc(row))
    return h, bytes(entries)


def _identity_crc(row: Row) -> int:
    """CRC-32 of the event's id, version and topic (for naming what changed, not for trust)."""
    try:
        o, t = row[1].encode(), row[3].encode()
        return zlib.crc32(t, zlib.crc32(_FIELD.pack(row[2], len(t)), zlib.crc32(o)))
    except _ODD_ERRORS:
        return zlib.crc32(repr((row[1], row[2], row[3])).encode())


def _state_crc(row: Row) -> int:
    state: Any = row[4]
    return zlib.crc32(state if isinstance(state, bytes) else repr(state).encode())


@dataclass(frozen=True)
class Checkpoint:
    position: int  # the batch's last position
    previous: int  # the checkpoint before it (0 for the first)
    events: int
    chain_hash: bytes
    sealed_at: str


@dataclass(frozen=True)
class SealResult:
    events: int
    checkpoints: int
    head: int
    chain_hash: str
    sealed_at: str
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {"sealed_events": self.events, "checkpoints_added": self.checkpoints,
                "head_position": self.head, "head_hash": self.chain_hash,
                "sealed_at": self.sealed_at, "seconds": round(self.seconds, 3)}


@dataclass(frozen=True)
class Finding:
    """Where the recomputed chain first leaves a checkpoint's, and what the store holds."""

    position: int
    kind: str  # changed | deleted | inserted | checkpoint | anchor
    detail: str
    checkpoint: int
    found: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"position": self.position, "kind": self.kind, "detail": self.detail,
                "checkpoint": self.checkpoint, "found": self.found}


@dataclass(frozen=True)
class DecisionMismatch:
    position: int
    case_id: str
    event_topic: str
    policy_id: str
    policy_version: int
    recorded: str
    rerun: str

    def to_json(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass
class VerifyReport:
    events: int = 0  # events hashed and compared with a checkpoint (what per_second counts)
    checkpoints: int = 0
    sealed_head: int = 0
    head_hash: str = ""
    last_sealed_at: str | None = None
    store_end: int = 0
    unsealed: int = 0
    first_unsealed: int | None = None
    findings: list[Finding] = field(default_factory=list)
    decisions_checked: int | None = None
    decision_mismatches: list[DecisionMismatch] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def intact(self) -> bool:
        return not self.findings

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "intact": self.intact, "events_verified": self.events,
            "checkpoints": self.checkpoints, "sealed_head": self.sealed_head,
            "head_hash": self.head_hash, "last_sealed_at": self.last_sealed_at,
            "store_end": self.store_end, "not_yet_sealed": self.unsealed,
            "first_not_yet_sealed": self.first_unsealed,
            "findings": [f.to_json() for f in self.findings],
            "decisions_checked": self.decisions_checked,
            "decision_mismatches": [m.to_json() for m in self.decision_mismatches],
            "seconds": round(self.seconds, 3), "events_per_second": round(self.per_second),
        }


class _Tx:
    """One transaction on either backend, with ``?`` placeholders and tuple rows."""

    def __init__(self, cursor: Any, postgres: bool) -> None:
        self.cursor, self.postgres = cursor, postgres

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        self.cursor.execute(sql.replace("?", "%s") if self.postgres else sql, tuple(params))
        return int(getattr(self.cursor, "sqlite_cursor", self.cursor).rowcount)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.execute(sql, params)
        return [
            tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in self.cursor.fetchall()
        ]


class _HeadMovedError(Exception):
    """Another auditor sealed after this one read the head: roll back and start again."""


class _Database:
    """Raw, fast reads of the events table and the checkpoint table, on either backend."""

    def __init__(self, recorder: ApplicationRecorder) -> None:
        self.datastore: Any = getattr(recorder, "datastore", None)
        table = getattr(recorder, "events_table_name", None)
        if self.datastore is None or table is None:
            raise TypeError("the audit needs an SQLite or PostgreSQL event store")
        self.postgres = type(self.datastore).__name__.startswith("Postgres")
        if self.postgres:
            prefix = '"' + str(self.datastore.schema).replace('"', '""') + '".'
            uuid_ids = getattr(self.datastore, "originator_id_type", "uuid") == "uuid"
            oid = "replace(originator_id::text, '-', '')" if uuid_ids else "originator_id::text"
            events = prefix + '"' + table.replace('"', '""') + '"'
            self.select_rows = (
                f"SELECT notification_id, {oid}, originator_version, topic, state FROM {events} "
                "WHERE notification_id > %s AND notification_id <= %s "
                "ORDER BY notification_id LIMIT %s")
            self.select_end = f"SELECT MAX(notification_id) FROM {events}"
        else:
            prefix = ""
            self.select_rows = (
                f"SELECT rowid, originator_id, originator_version, topic, state FROM {table} "
                "WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?")
            self.select_end = f"SELECT MAX(rowid) FROM {table}"
        self.table = f"{prefix}audit_checkpoints"
        try:
            self._create()
        except IntegrityError:  # PostgreSQL: another auditor created it at the same moment
            self._create()

    @contextmanager
    def tx(self, commit: bool = False) -> Iterator[_Tx]:
        with self.datastore.transaction(commit=commit) as cursor:
            yield _Tx(cursor, self.postgres)

    def _create(self) -> None:
        blob = "BYTEA" if self.postgres else "BLOB"
        with self.tx(commit=True) as tx:
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} (position BIGINT PRIMARY KEY, "
                "previous BIGINT NOT NULL, events BIGINT NOT NULL, chain_hash TEXT NOT NULL, "
                f"sealed_at TEXT NOT NULL, entries {blob} NOT NULL)")

    def rows(self, after: int, until: int, limit: int) -> list[Row]:
        """The store's notifications at positions in (after, until], at most ``limit``."""
        if self.postgres:
            from psycopg.rows import tuple_row

            with self.datastore.get_connection() as conn, conn.cursor(
                    row_factory=tuple_row) as cursor:
                cursor.execute(self.select_rows, (after, until, limit), prepare=True)
                return list(cursor.fetchall())
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(self.select_rows, (after, until, limit))
            return list(cursor.fetchall())

    def end(self) -> int:
        with self.tx() as tx:
            return int(tx.rows(self.select_end)[0][0] or 0)

    def checkpoints(self) -> list[Checkpoint]:
        with self.tx() as tx:
            rows = tx.rows(f"SELECT position, previous, events, chain_hash, sealed_at "
                           f"FROM {self.table} ORDER BY position")
        return [Checkpoint(int(p), int(b), int(n), bytes.fromhex(h), str(t))
                for p, b, n, h, t in rows]

    def head(self) -> tuple[int, bytes]:
        with self.tx() as tx:
            found = tx.rows(f"SELECT position, chain_hash FROM {self.table} "
                            "ORDER BY position DESC LIMIT 1")
        return (int(found[0][0]), bytes.fromhex(found[0][1])) if found else (0, GENESIS)

    def entries(self, position: int) -> bytes:
        with self.tx() as tx:
            found = tx.rows(f"SELECT entries FROM {self.table} WHERE position = ?", (position,))
        return bytes(found[0][0]) if found else b""

    def append(self, head: int, batches: Sequence[tuple[Checkpoint, bytes]]) -> None:
        """Insert the batches after ``head``, or raise _HeadMovedError and insert nothing."""
        insert = (f"INSERT INTO {self.table} (position, previous, events, chain_hash, "
                  "sealed_at, entries) ")
        with self.tx(commit=True) as tx:
            if self.postgres:  # serialise sealers; SQLite's first write below takes its lock
                tx.execute(f"LOCK TABLE {self.table} IN SHARE ROW EXCLUSIVE MODE")
            for index, (cp, entries) in enumerate(batches):
                values = (cp.position, cp.previous, cp.events, cp.chain_hash.hex(),
                          cp.sealed_at, entries)
                if index:
                    tx.execute(insert + "VALUES (?, ?, ?, ?, ?, ?)", values)
                elif not tx.execute(insert + "SELECT ?, ?, ?, ?, ?, ? WHERE (SELECT COALESCE("
                                    f"MAX(position), 0) FROM {self.table}) = ?", (*values, head)):
                    raise _HeadMovedError


class _Pages:
    """The store read forward in large pages, handed out up to a position at a time."""

    def __init__(self, db: _Database, size: int) -> None:
        self.db, self.size = db, size
        self.page: list[Row] = []
        self.index = self.after = 0
        self.exhausted = False

    def upto(self, position: int) -> list[list[Row]]:
        parts: list[list[Row]] = []
        while True:
            if self.index >= len(self.page):
                if self.exhausted:
                    return parts
                self.page, self.index = self.db.rows(self.after, _END, self.size), 0
                self.exhausted = len(self.page) < self.size
                if not self.page:
                    return parts
                self.after = self.page[-1][0]
            stop = bisect_right(self.page, position, lo=self.index, key=_position)
            if stop > self.index:
                parts.append(self.page[self.index:stop])
                self.index = stop
            if stop < len(self.page):
                return parts


class Auditor:
    """Seals the store's notification log into a hash chain and verifies it."""

    def __init__(self, recorder: ApplicationRecorder, mapper: Mapper[UUID], *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 batch_size: int = 1000, page_size: int = 10_000, interval: float = 5.0) -> None:
        if batch_size < 1 or page_size < 1:
            raise ValueError("batch_size and page_size must be positive")
        self.mapper, self.clock, self.interval = mapper, clock, interval
        self.batch_size, self.page_size = batch_size, page_size
        self.db = _Database(recorder)

    # -- sealing ---------------------------------------------------------------------------

    def seal(self, now: datetime) -> SealResult:
        """Chain every event after the last checkpoint; one checkpoint per batch and head."""
        started, sealed_at = time.perf_counter(), now.astimezone(UTC).isoformat()
        page = self.batch_size * max(1, self.page_size // self.batch_size)
        events = checkpoints = 0
        head, h = self.db.head()
        while True:
            rows = self.db.rows(head, _END, page)
            if not rows:
                break
            batches: list[tuple[Checkpoint, bytes]] = []
            previous, next_h = head, h
            for start in range(0, len(rows), self.batch_size):
                batch = rows[start:start + self.batch_size]
                next_h, entries = _sealed_entries(next_h, batch)
                cp = Checkpoint(batch[-1][0], previous, len(batch), next_h, sealed_at)
                batches.append((cp, entries))
                previous = cp.position
            try:
                self.db.append(head, batches)
            except (_HeadMovedError, IntegrityError):
                log.info("audit: another auditor sealed past position %d; reading on", head)
                head, h = self.db.head()
                continue
            head, h = previous, next_h
            events, checkpoints = events + len(rows), checkpoints + len(batches)
            if len(rows) < page:
                break
        return SealResult(events, checkpoints, head, h.hex(), sealed_at,
                          time.perf_counter() - started)

    def run(self, stop: threading.Event) -> None:
        """Seal every ``interval`` seconds until ``stop`` is set; a store error is retried."""
        log.info("auditor starting: sealed up to position %d", self.db.head()[0])
        while not stop.is_set():
            try:
                done = self.seal(self.clock())
                if done.events:
                    log.info("audit: sealed %d events up to position %d (%s)", done.events,
                             done.head, done.chain_hash)
            except PersistenceError as error:
                log.warning("audit: sealing failed (%s: %s); trying again in %.0fs",
                            type(error).__name__, error, self.interval)
            stop.wait(self.interval)

    # -- verifying -------------------------------------------------------------------------

    def verify(self, *, decisions: bool = False, anchors: Sequence[tuple[int, str]] = (),
               progress: OnProgress | None = None) -> VerifyReport:
        """Recompute the chain from position 1 and compare it with every checkpoint."""
        started = time.perf_counter()
        report = VerifyReport(store_end=self.db.end(),
                              decisions_checked=0 if decisions else None)
        checkpoints = self.db.checkpoints()
        pages, h, previous = _Pages(self.db, self.page_size), GENESIS, 0
        for cp in checkpoints:
            parts = pages.upto(cp.position)
            computed, count = h, 0
            for part in parts:
                computed, count = chain(computed, part), count + len(part)
                if decisions:
                    self._rerun_decisions(part, report)
            report.events += count
            if cp.previous != previous:
                report.findings.append(Finding(
                    cp.position, "checkpoint", f"the checkpoint at {cp.position} follows "
                    f"{cp.previous}, but the one before it is at {previous}: checkpoints "
                    "were deleted or altered", cp.position))
            elif computed != cp.chain_hash or count != cp.events:
                report.findings.append(self._diagnose(h, parts, cp, report.store_end))
            h, previous = cp.chain_hash, cp.position
            if progress is not None:
                progress(cp.position, report.store_end)
        for part in pages.upto(_END):
            report.unsealed += len(part)
            report.first_unsealed = report.first_unsealed or part[0][0]
            if decisions:
                self._rerun_decisions(part, report)
        if checkpoints:
            last = checkpoints[-1]
            report.checkpoints, report.sealed_head = len(checkpoints), last.position
            report.head_hash, report.last_sealed_at = last.chain_hash.hex(), last.sealed_at
        self._check_anchors(anchors, {cp.position: cp for cp in checkpoints}, report)
        report.seconds = time.perf_counter() - started
        if progress is not None:
            progress(report.store_end, report.store_end)
        return report

    def _diagnose(self, h: bytes, parts: list[list[Row]], cp: Checkpoint, end: int) -> Finding:
        """Walk the batch event by event against its entries: the first difference."""
        rows = [row for part in parts for row in part]
        index = 0
        for position, prefix, identity, state in _ENTRY.iter_unpack(self.db.entries(cp.position)):
            row = rows[index] if index < len(rows) else None
            if row is not None and row[0] < position:
                return Finding(row[0], "inserted", f"position {row[0]} holds an event that "
                               "was not there when the store was sealed", cp.position, _found(row))
            if row is None or row[0] > position:
                why = (f": the store ends at {end}, but it was sealed up to {cp.position}"
                       if end < position else "")
                return Finding(position, "deleted", f"the event sealed at position {position} "
                               f"is missing{why}", cp.position)
            h = link(h, *row)
            if h[:8] != prefix:
                if _identity_crc(row) != identity:
                    what = "its originator id, version or topic changed"
                elif _state_crc(row) != state:
                    what = "its state changed"
                else:
                    what = "its content no longer matches its sealed hash"
                return Finding(row[0], "changed", f"the event at position {row[0]} differs from "
                               f"the sealed one: {what}", cp.position, _found(row))
            index += 1
        if index < len(rows):
            row = rows[index]
            return Finding(row[0], "inserted", f"position {row[0]} holds an event that was not "
                           "there when the store was sealed", cp.position, _found(row))
        return Finding(cp.position, "checkpoint", f"the checkpoint at {cp.position} does not "
                       "match the events it lists: the checkpoint row was altered", cp.position)

    def _check_anchors(self, anchors: Sequence[tuple[int, str]], by_position: dict[int,
                       Checkpoint], report: VerifyReport) -> None:
        """Heads kept outside the store: the chain must pass through each of them."""
        for position, expected in anchors:
            cp = by_position.get(position)
            if cp is None or cp.chain_hash.hex() != expected.lower():
                what = "no checkpoint there" if cp is None else f"{cp.chain_hash.hex()} there"
                report.findings.append(Finding(
                    position, "anchor", f"the anchor {expected} at position {position} does "
                    f"not match ({what}): the chain was rebuilt or checkpoints deleted", position))

    def _rerun_decisions(self, rows: Sequence[Row], report: VerifyReport) -> None:
        assert report.decisions_checked is not None
        mark = None if self.mapper.cipher or self.mapper.compressor else _DECISION_MARK
        for row in rows:
            state: Any = row[4]
            if not isinstance(state, bytes) or (mark is not None and mark not in state):
                continue  # a state of the wrong type is already a finding of the chain
            case_id = _case_id(row[1])
            try:
                decisions = self._decisions_of(row)
            except Exception as error:  # reported as a mismatch, never skipped
                report.decision_mismatches.append(DecisionMismatch(
                    row[0], case_id, row[3], "?", 0, "?",
                    f"the event no longer decodes: {type(error).__name__}: {error}"))
                continue
            for decision in decisions:
                report.decisions_checked += 1
                try:
                    again = policies.rerun(decision)
                    same, outcome = decision.same_result_as(again), again.outcome
                except Exception as error:  # reported as a mismatch, never as a success
                    same, outcome = False, f"re-run failed: {type(error).__name__}: {error}"
                if not same:
                    report.decision_mismatches.append(DecisionMismatch(
                        row[0], case_id, row[3], decision.policy_id, decision.policy_version,
                        decision.outcome, outcome))

    def _decisions_of(self, row: Row) -> list[PolicyDecision]:
        event: Any = self.mapper.to_domain_event(
            StoredEvent(originator_id=UUID(row[1]), originator_version=row[2], topic=row[3],
                        state=row[4]))
        found: list[PolicyDecision] = []
        for value in vars(event).values():
            items = value if isinstance(value, (list, tuple)) else (value,)
            found += [item for item in items if isinstance(item, PolicyDecision)]
        return found


def _case_id(stored: Any) -> str:
    try:
        return str(UUID(stored))
    except (TypeError, ValueError, AttributeError):
        return str(stored)


def _found(row: Row) -> dict[str, Any]:
    state: Any = row[4]
    return {"originator_id": row[1], "version": row[2], "topic": row[3],
            "state": f"{len(state)} bytes" if isinstance(state, bytes)
            else f"a {type(state).__name__}, not bytes"}
