"""Which aggregates belong to which data subject: the index export and retention read.

Built from the store's notification log (like the deadline index), in two tables of the store's
database: ``personal_data_subjects`` (one row per aggregate that names a customer: its cases,
orders, quota ledgers and customer principals; for cases and orders with the time and position
of their latest event) and ``personal_data_subjects_position`` (how far the log was read).
Rows and position change in one transaction, so a crash or two readers at once leave the same
index. The index only finds candidates; the application loads the aggregates and decides.

A third table, ``personal_data_subject_links``, links the subject of an order
(``order_subject_of``: the key the unknown fields of facts that came before its placement
are sealed under) to the customer its placement names, so retention also proposes a customer whose
only data key is such an order's.

Reading works on the stored JSON (no decryption): opening events name their customer in clear
(``customer_id`` is an opaque id, never personal data).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import ApplicationRecorder, IntegrityError, Notification

from aftersales_core.domain.ids import order_subject_of
from database.sql import Tx
from privacy.keys import KEYS, KeyTable

SUBJECTS = "personal_data_subjects"
POSITION = "personal_data_subjects_position"
REVIEWS = "personal_data_retention_reviews"
LINKS = "personal_data_subject_links"
PLACED = "aftersales.order.Placed"
# v2: orders' later events move their rows too (retention counts from an order's last fact);
# a new reader name reads the whole log again once, so rows an older index built catch up
READER = "personal-data-subjects-v2"
CASE_KINDS = ("return", "refund", "complaint")
#: The kinds whose latest event the index follows: what retention counts from.
DATED_KINDS = (*CASE_KINDS, "order")
OPENINGS = {
    "aftersales.return.Requested": "return",
    "aftersales.refund.Requested": "refund",
    "aftersales.complaint.Filed": "complaint",
    "aftersales.order.Placed": "order",
    "aftersales.quota.Opened": "quota",
    "aftersales.principal.Created": "principal",
    "aftersales.principal.RoleGranted": "principal",
}


def utc_text(at: datetime) -> str:
    """A fixed-width UTC time: sorts as text the way the times sort."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Candidate:
    subject: str
    position: int  # the latest event of the subject's cases, for the review mark


def _event_time(state: dict[str, Any]) -> str | None:
    stamp = state.get("timestamp")
    text = stamp.get("_data_") if isinstance(stamp, dict) else None
    try:
        return utc_text(datetime.fromisoformat(text)) if isinstance(text, str) else None
    except ValueError:
        return None


class SubjectIndex:
    def __init__(self, recorder: ApplicationRecorder, batch_size: int = 2000) -> None:
        self.recorder, self.batch_size = recorder, batch_size
        self.datastore: Any = getattr(recorder, "datastore", None)
        if self.datastore is None:
            raise TypeError("the subject index needs an SQLite or PostgreSQL event store")
        self.postgres = type(self.datastore).__name__.startswith("Postgres")
        prefix = ""
        if self.postgres:
            prefix = '"' + str(self.datastore.schema).replace('"', '""') + '".'
        self.rows, self.position_table = prefix + SUBJECTS, prefix + POSITION
        self.reviews, self.keys = prefix + REVIEWS, prefix + KEYS
        self.links = prefix + LINKS
        try:
            self._create()
        except IntegrityError:  # PostgreSQL: another process created them at the same moment
            self._create()

    @contextmanager
    def _tx(self, commit: bool = True) -> Iterator[Tx]:
        with self.datastore.transaction(commit=commit) as cursor:
            yield Tx(cursor, self.postgres)

    def _create(self) -> None:
        with self._tx() as tx:
            tx.execute(f"CREATE TABLE IF NOT EXISTS {self.rows} (aggregate_id TEXT PRIMARY KEY, "
                       "subject TEXT NOT NULL, kind TEXT NOT NULL, last_at TEXT, "
                       "last_position BIGINT NOT NULL)")
            tx.execute(f"CREATE INDEX IF NOT EXISTS {SUBJECTS}_subject ON {self.rows} "
                       "(subject, kind)")
            tx.execute(f"CREATE TABLE IF NOT EXISTS {self.position_table} "
                       "(reader TEXT PRIMARY KEY, position BIGINT NOT NULL)")
            tx.execute(f"CREATE TABLE IF NOT EXISTS {self.reviews} (subject TEXT PRIMARY KEY, "
                       "position BIGINT NOT NULL)")
            tx.execute(f"CREATE TABLE IF NOT EXISTS {self.links} (subject TEXT PRIMARY KEY, "
                       "customer TEXT NOT NULL)")
            tx.execute(f"CREATE INDEX IF NOT EXISTS {LINKS}_customer ON {self.links} (customer)")

    def position(self) -> int:
        with self._tx(commit=False) as tx:
            found = tx.rows(f"SELECT position FROM {self.position_table} WHERE reader = ?",
                            (READER,))
        return int(found[0][0]) if found else 0

    def catch_up(self) -> int:
        """Read the log after the stored position into the index; returns how many events."""
        read = 0
        while True:
            batch = self.recorder.select_notifications(self.position() + 1, self.batch_size)
            if not batch:
                return read
            with self._tx() as tx:
                self._apply(tx, batch)
            read += len(batch)

    def _apply(self, tx: Tx, batch: Sequence[Notification]) -> None:
        latest: dict[str, tuple[str | None, int]] = {}
        for n in batch:
            kind = OPENINGS.get(n.topic)
            case = n.topic.split(".")[1] in DATED_KINDS
            if kind is None and not case:
                continue
            state = orjson.loads(n.state)
            aggregate_id, at = str(n.originator_id), _event_time(state)
            subject = state.get("customer_id") if kind is not None else None
            if isinstance(subject, str) and subject:
                tx.execute(f"INSERT INTO {self.rows} (aggregate_id, subject, kind, last_at, "
                           "last_position) VALUES (?, ?, ?, ?, ?) ON CONFLICT (aggregate_id) DO "
                           "NOTHING", (aggregate_id, subject, kind, at, n.id))
                if n.topic == PLACED:
                    tx.execute(f"INSERT INTO {self.links} (subject, customer) VALUES (?, ?) "
                               "ON CONFLICT (subject) DO NOTHING",
                               (order_subject_of(UUID(aggregate_id)), subject))
            if case:
                latest[aggregate_id] = (at, n.id)
        for aggregate_id, (at, position) in latest.items():
            tx.execute(f"UPDATE {self.rows} SET last_at = ?, last_position = ? "
                       "WHERE aggregate_id = ? AND last_position < ?",
                       (at, position, aggregate_id, position))
        table = self.position_table
        tx.execute(f"INSERT INTO {table} (reader, position) VALUES (?, ?) ON CONFLICT (reader) "
                   f"DO UPDATE SET position = excluded.position WHERE {table}.position < "
                   "excluded.position", (READER, batch[-1].id))

    def aggregates_of(self, subject: str) -> list[tuple[UUID, str]]:
        """The subject's aggregates (id, kind: return, refund, complaint, order, quota or
        principal), in the order they appeared."""
        with self._tx(commit=False) as tx:
            rows = tx.rows(f"SELECT aggregate_id, kind FROM {self.rows} WHERE subject = ? "
                           "ORDER BY last_position", (subject,))
        return [(UUID(r[0]), str(r[1])) for r in rows]

    def retention_candidates(self, cutoff: datetime, limit: int) -> list[Candidate]:
        """Subjects holding a data key whose cases and orders all last changed before
        ``cutoff`` and changed since their last review (the application decides whether the
        cases are closed). The data key may be the customer's or that of one of their orders
        (facts that came before its placement)."""
        kinds = ", ".join(f"'{k}'" for k in DATED_KINDS)
        with self._tx(commit=False) as tx:
            rows = tx.rows(
                f"SELECT s.subject, MAX(s.last_position) FROM {self.rows} s "
                f"WHERE s.kind IN ({kinds}) AND (EXISTS (SELECT 1 FROM {self.keys} k "
                "WHERE k.subject = s.subject) OR EXISTS (SELECT 1 FROM "
                f"{self.links} l JOIN {self.keys} k ON k.subject = l.subject "
                "WHERE l.customer = s.subject)) GROUP BY s.subject "
                "HAVING MAX(s.last_at) < ? AND MAX(s.last_position) > COALESCE("
                f"(SELECT r.position FROM {self.reviews} r WHERE r.subject = s.subject), 0) "
                "ORDER BY MAX(s.last_at), s.subject LIMIT ?",
                (utc_text(cutoff), limit))
        return [Candidate(str(r[0]), int(r[1])) for r in rows]

    def reviewed(self, candidate: Candidate) -> None:
        """The subject was looked at up to this position: not a candidate until it changes."""
        table = self.reviews
        with self._tx() as tx:
            tx.execute(f"INSERT INTO {table} (subject, position) VALUES (?, ?) ON CONFLICT "
                       f"(subject) DO UPDATE SET position = excluded.position "
                       f"WHERE {table}.position < excluded.position",
                       (candidate.subject, candidate.position))


class MemorySubjectIndex:
    """The same index over the library's in-memory store (fast pure tests): rebuilt from the
    whole log on every catch-up."""

    def __init__(self, recorder: ApplicationRecorder, keys: KeyTable) -> None:
        self.recorder, self.keys = recorder, keys
        self.rows: dict[str, tuple[str, str, str | None, int]] = {}
        self.reviews: dict[str, int] = {}
        self.links: dict[str, str] = {}  # order subject -> customer

    def catch_up(self) -> int:
        after = max((r[3] for r in self.rows.values()), default=0)
        batch = self.recorder.select_notifications(after + 1, 1_000_000)
        for n in batch:
            kind = OPENINGS.get(n.topic)
            case = n.topic.split(".")[1] in DATED_KINDS
            if kind is None and not case:
                continue
            state = orjson.loads(n.state)
            aggregate_id, at = str(n.originator_id), _event_time(state)
            subject = state.get("customer_id") if kind is not None else None
            if isinstance(subject, str) and subject and aggregate_id not in self.rows:
                self.rows[aggregate_id] = (subject, kind or "", at, n.id)
                if n.topic == PLACED:
                    self.links.setdefault(order_subject_of(UUID(aggregate_id)), subject)
            elif case and aggregate_id in self.rows:
                subject, kind_found, _, _ = self.rows[aggregate_id]
                self.rows[aggregate_id] = (subject, kind_found, at, n.id)
        return len(batch)

    def aggregates_of(self, subject: str) -> list[tuple[UUID, str]]:
        found = sorted((r[3], a, r[1]) for a, r in self.rows.items() if r[0] == subject)
        return [(UUID(a), kind) for _, a, kind in found]

    def retention_candidates(self, cutoff: datetime, limit: int) -> list[Candidate]:
        by_subject: dict[str, list[tuple[str | None, int]]] = {}
        for subject, kind, at, position in self.rows.values():
            if kind in DATED_KINDS:
                by_subject.setdefault(subject, []).append((at, position))
        found = []
        for subject, items in sorted(by_subject.items()):
            last_at = max((at or "" for at, _ in items))
            last = max(p for _, p in items)
            keyed = self.keys.current(subject) is not None or any(
                self.keys.current(linked) is not None
                for linked, customer in self.links.items() if customer == subject)
            if (keyed and last_at < utc_text(cutoff)
                    and last > self.reviews.get(subject, 0)):
                found.append(Candidate(subject, last))
        return found[:limit]

    def reviewed(self, candidate: Candidate) -> None:
        self.reviews[candidate.subject] = max(self.reviews.get(candidate.subject, 0),
                                              candidate.position)


def open_subject_index(
    recorder: ApplicationRecorder, keys: KeyTable
) -> SubjectIndex | MemorySubjectIndex:
    if getattr(recorder, "datastore", None) is None:
        return MemorySubjectIndex(recorder, keys)
    return SubjectIndex(recorder)
