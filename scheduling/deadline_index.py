"""The deadline index: which case has which open deadline due when, built from the store's
notification log (the deadline events only), so the scheduler never scans every case.

Two tables of their own in the event store's database (SQLite file or PostgreSQL schema):
``deadline_index`` (one row per case and deadline name; ``due_at`` NULL once it is closed) and
``deadline_index_position`` (how far the log was read). Rows and position change in one
transaction. Every row remembers the case version that wrote it and is only overwritten by a
newer one, so several schedulers reading the log at once, or a re-read after a crash, leave the
same index. The index may be stale; it is never trusted: the aggregate decides what is due.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, IntegrityError, Mapper

from database.sql import StoreDatabase, Tx

KINDS = ("return", "refund", "complaint", "order")
CLOSING = ("DeadlineCancelled", "DeadlineBreached")
TOPICS = tuple(
    f"aftersales.{kind}.{name}" for kind in KINDS for name in ("DeadlineScheduled", *CLOSING)
)
READER = "deadline-scheduler"
BREACHES = tuple(topic for topic in TOPICS if topic.endswith(".DeadlineBreached"))


def utc_text(at: datetime) -> str:
    """A fixed-width UTC time: sorts as text the way the times sort."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class IndexedDeadline:
    case_id: UUID
    case_type: str
    name: str
    due_at: datetime
    action: str

    def to_json(self) -> dict[str, Any]:
        return {
            "case_id": str(self.case_id),
            "case_type": self.case_type,
            "deadline": self.name,
            "due_at": self.due_at.isoformat(),
            "action": self.action,
        }


class DeadlineIndex:
    def __init__(
        self, recorder: ApplicationRecorder, mapper: Mapper[UUID], batch_size: int = 500
    ) -> None:
        self.recorder, self.mapper, self.batch_size = recorder, mapper, batch_size
        self.store = StoreDatabase(recorder, "the deadline index")
        self.postgres = self.store.postgres
        self.rows_table = self.store.table("deadline_index")
        self.position_table = self.store.table("deadline_index_position")
        #: (case type, deadline, action) -> breaches read from the store since this index was
        #: opened: fired by a scheduler (the action its breach took) or ``late`` (the state
        #: was left after the due time). Read on a cursor of this process's own: the index's
        #: position is shared by every scheduler of the store, so what another one read into
        #: the index would never be counted here.
        self.breached: dict[tuple[str, str, str], int] = {}
        self._create()
        self._counted = self.position()

    def _tx(self) -> AbstractContextManager[Tx]:
        return self.store.transaction(commit=True)

    def _create(self) -> None:
        try:
            self._create_tables()
        except IntegrityError:  # PostgreSQL: another scheduler created them at the same moment
            self._create_tables()

    def _create_tables(self) -> None:
        with self._tx() as tx:
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {self.rows_table} (case_id TEXT NOT NULL, "
                "name TEXT NOT NULL, case_type TEXT NOT NULL, due_at TEXT, action TEXT, "
                "version BIGINT NOT NULL, PRIMARY KEY (case_id, name))"
            )
            tx.execute(
                f"CREATE INDEX IF NOT EXISTS deadline_index_due ON {self.rows_table} (due_at)"
            )
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {self.position_table} "
                "(reader TEXT PRIMARY KEY, position BIGINT NOT NULL)"
            )

    def position(self) -> int:
        with self._tx() as tx:
            found = tx.rows(
                f"SELECT position FROM {self.position_table} WHERE reader = ?", (READER,)
            )
        return int(found[0][0]) if found else 0

    def catch_up(self) -> int:
        """Read the deadline events after the stored position into the index; returns how
        many it read."""
        read = 0
        while True:
            start = self.position() + 1
            batch = self.recorder.select_notifications(start, self.batch_size, topics=TOPICS)
            if not batch:
                self._count_breaches(start - 1)
                return read
            with self._tx() as tx:
                for notification in batch:
                    self._apply(tx, notification)
                self._save_position(tx, batch[-1].id)
            read += len(batch)

    def _count_breaches(self, upto: int) -> None:
        """Count the breaches the store recorded after this process's cursor, up to ``upto``
        (what the index holds by now, whoever read it in)."""
        while self._counted < upto:
            batch = self.recorder.select_notifications(self._counted + 1, self.batch_size,
                                                       stop=upto, topics=BREACHES)
            if not batch:
                self._counted = upto
                return
            for notification in batch:
                event: Any = self.mapper.to_domain_event(notification)
                breach = (notification.topic.split(".")[1], event.name, str(event.action))
                self.breached[breach] = self.breached.get(breach, 0) + 1
            self._counted = batch[-1].id

    def _apply(self, tx: Tx, notification: Any) -> None:
        """Put one deadline event into the index."""
        event: Any = self.mapper.to_domain_event(notification)
        kind, name = notification.topic.split(".")[1:3]
        due, action = None, None
        if name == "DeadlineScheduled":
            due, action = utc_text(event.due_at), event.action
        self._put(
            tx, str(event.originator_id), event.name, kind, due, action, event.originator_version
        )

    def _put(
        self,
        tx: Tx,
        case_id: str,
        name: str,
        kind: str,
        due: str | None,
        action: str | None,
        version: int,
    ) -> None:
        table = self.rows_table
        tx.execute(
            f"INSERT INTO {table} (case_id, name, case_type, due_at, action, version) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (case_id, name) DO UPDATE SET "
            "due_at = excluded.due_at, action = excluded.action, version = excluded.version "
            f"WHERE {table}.version <= excluded.version",
            (case_id, name, kind, due, action, version),
        )

    def _save_position(self, tx: Tx, position: int) -> None:
        table = self.position_table
        tx.execute(
            f"INSERT INTO {table} (reader, position) VALUES (?, ?) ON CONFLICT (reader) DO "
            f"UPDATE SET position = excluded.position WHERE {table}.position < excluded.position",
            (READER, position),
        )

    def reconcile(
        self,
        case_id: UUID,
        case_type: str,
        version: int,
        open_deadlines: Sequence[tuple[str, datetime, str]],
    ) -> None:
        """Make a case's rows say what the aggregate says (at ``version``): heals rows a
        stale reader left behind.

        Writes only, the first statement a write: on SQLite a transaction that reads first and
        then writes fails at once ("database is locked") when another process wrote in
        between, where a transaction that starts by writing waits for the lock."""
        still = [name for name, _, _ in open_deadlines]
        others = f" AND name NOT IN ({', '.join('?' for _ in still)})" if still else ""
        table = self.rows_table
        with self._tx() as tx:
            tx.execute(  # the open rows of deadlines the case no longer has: closed
                f"UPDATE {table} SET due_at = NULL, action = NULL, version = ? "
                f"WHERE case_id = ? AND due_at IS NOT NULL AND version <= ?{others}",
                (version, str(case_id), version, *still),
            )
            for name, due, action in open_deadlines:
                self._put(tx, str(case_id), name, case_type, utc_text(due), action, version)

    def due_cases(self, now: datetime, limit: int = 500) -> list[UUID]:
        """Cases with an open deadline due before ``now``, the longest overdue first."""
        with self._tx() as tx:
            rows = tx.rows(
                f"SELECT case_id, MIN(due_at) AS first_due FROM {self.rows_table} "
                "WHERE due_at IS NOT NULL AND due_at < ? GROUP BY case_id "
                "ORDER BY first_due, case_id LIMIT ?",
                (utc_text(now), limit),
            )
        return [UUID(r[0]) for r in rows]

    def listing(
        self, case_id: UUID | None = None, due_before: datetime | None = None,
        after: IndexedDeadline | None = None, limit: int | None = None,
    ) -> list[IndexedDeadline]:
        """Open deadlines by due time (then case id and name), optionally of one case or due
        before a time; in pages: at most ``limit``, those after ``after`` (the last of the
        previous page)."""
        sql = (
            f"SELECT case_id, case_type, name, due_at, action FROM {self.rows_table} "
            "WHERE due_at IS NOT NULL"
        )
        params: list[Any] = []
        if case_id is not None:
            sql, params = sql + " AND case_id = ?", [*params, str(case_id)]
        if due_before is not None:
            sql, params = sql + " AND due_at < ?", [*params, utc_text(due_before)]
        if after is not None:
            sql += " AND (due_at, case_id, name) > (?, ?, ?)"
            params += [utc_text(after.due_at), str(after.case_id), after.name]
        sql += " ORDER BY due_at, case_id, name"
        if limit is not None:
            sql, params = sql + " LIMIT ?", [*params, limit]
        with self._tx() as tx:
            rows = tx.rows(sql, params)
        return [
            IndexedDeadline(
                UUID(r[0]),
                r[1],
                r[2],
                datetime.strptime(r[3], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC),
                r[4] or "",
            )
            for r in rows
        ]
