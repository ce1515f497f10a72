"""The store's recorders: the library's, plus work done in the transaction that inserts events.

``Store.save_atomically(..., effects=[...])`` hands callables to the recorder; these run them
on the cursor of the very transaction that inserts the events, so an erasure event and the
destruction of the subject's data keys are stored together or not at all. PostgreSQL's is in
privacy/postgres_recorder.py (the library's PostgreSQL module imports psycopg: only a
PostgreSQL store loads it)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import OperationalError, PersistenceError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

RECORDER_TOPIC = "APPLICATION_RECORDER_TOPIC"
#: (position, originator id as canonical UUID text, version, topic, stored state)
NotificationRow = tuple[int, str, int, str, bytes]
RECORDERS = {
    "eventsourcing.sqlite": "privacy.recorders:SQLiteRecorder",
    "eventsourcing.postgres": "privacy.postgres_recorder:PostgresRecorder",
}


@contextmanager
def _read_errors() -> Iterator[None]:
    """SQLite's errors as the library's (what the workers' error policy knows)."""
    try:
        yield
    except sqlite3.OperationalError as error:
        raise OperationalError(error) from error
    except sqlite3.Error as error:
        raise PersistenceError(error) from error


class SQLiteRecorder(SQLiteApplicationRecorder):
    """Also reads an aggregate's events and the highest position with one statement each,
    without the library's ``BEGIN`` and ``ROLLBACK`` around it (a lone ``SELECT`` is its own
    consistent read): the hot path of every load, about a third of its time."""

    runs_effects = True

    def select_events(self, originator_id: UUID | str, *, gt: int | None = None,
                      lte: int | None = None, desc: bool = False, limit: int | None = None
                      ) -> Sequence[StoredEvent]:
        if lte is not None or desc or limit is not None:
            return super().select_events(originator_id, gt=gt, lte=lte, desc=desc, limit=limit)
        key = originator_id.hex if isinstance(originator_id, UUID) else originator_id
        statement, params = ((self._select_all, (key,)) if gt is None
                             else (self._select_after, (key, gt)))
        with _read_errors(), self.datastore.get_connection(commit=False) as conn:
            cursor = conn.cursor()
            cursor.execute(statement, params)
            rows = cursor.fetchall()
        if not rows:
            return []
        found_id = (originator_id if isinstance(originator_id, UUID)
                    else self.convert_originator_id(rows[0][0]))  # one id for all the rows
        return [StoredEvent(found_id, row[1], row[2], row[3]) for row in rows]

    def notification_rows(self, after: int, limit: int) -> list[NotificationRow]:
        """Up to ``limit`` stored events after position ``after``, as plain rows (the id as
        canonical UUID text, not a UUID object): what a rebuild reads, page after page."""
        with _read_errors(), self.datastore.get_connection(commit=False) as conn:
            cursor = conn.cursor().sqlite_cursor
            cursor.row_factory = None  # plain tuples
            cursor.execute(f"SELECT rowid, originator_id, originator_version, topic, state "
                           f"FROM {self.events_table_name} WHERE rowid > ? ORDER BY rowid "
                           "LIMIT ?", (after, limit))
            rows = cursor.fetchall()
        dashed: dict[str, str] = {}  # a page holds a few events of each case
        return [(position, dashed.get(key) or dashed.setdefault(key, _dashed(key)), version,
                 topic, state) for position, key, version, topic, state in rows]

    def max_notification_id(self) -> int:
        with _read_errors(), self.datastore.get_connection(commit=False) as conn:
            cursor = conn.cursor()
            cursor.execute(self.select_max_notification_id_statement)
            found: int = cursor.fetchone()[0]
            return found

    @property
    def _select_all(self) -> str:
        return (f"SELECT originator_id, originator_version, topic, state FROM "
                f"{self.events_table_name} WHERE originator_id=? ORDER BY originator_version")

    @property
    def _select_after(self) -> str:
        return (f"SELECT originator_id, originator_version, topic, state FROM "
                f"{self.events_table_name} WHERE originator_id=? AND originator_version>? "
                "ORDER BY originator_version")

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        for effect in kwargs.get("effects", ()):
            effect(c)
        return ids


def _dashed(key: str) -> str:
    """A UUID as the library stores it on SQLite (32 hex digits) in its canonical text."""
    if len(key) != 32:
        return str(UUID(key))
    return f"{key[:8]}-{key[8:12]}-{key[12:16]}-{key[16:20]}-{key[20:]}".lower()


def with_recorders(env: Mapping[str, str]) -> dict[str, str]:
    """The library's settings with these recorders for SQLite and PostgreSQL stores."""
    found = dict(env)
    recorder = RECORDERS.get(found.get("PERSISTENCE_MODULE", ""))
    if recorder is not None:
        found.setdefault(RECORDER_TOPIC, recorder)
    return found
