"""The store's recorders: the library's, plus work done in the transaction that inserts events.

``Store.save_atomically(..., effects=[...])`` hands callables to the recorder; these run them
on the cursor of the very transaction that inserts the events, so an erasure event and the
destruction of the subject's data keys are stored together or not at all. PostgreSQL's is in
privacy/postgres_recorder.py (the library's PostgreSQL module imports psycopg: only a
PostgreSQL store loads it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

RECORDER_TOPIC = "APPLICATION_RECORDER_TOPIC"
RECORDERS = {
    "eventsourcing.sqlite": "privacy.recorders:SQLiteRecorder",
    "eventsourcing.postgres": "privacy.postgres_recorder:PostgresRecorder",
}


class SQLiteRecorder(SQLiteApplicationRecorder):
    runs_effects = True

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        for effect in kwargs.get("effects", ()):
            effect(c)
        return ids


def with_recorders(env: Mapping[str, str]) -> dict[str, str]:
    """The library's settings with these recorders for SQLite and PostgreSQL stores."""
    found = dict(env)
    recorder = RECORDERS.get(found.get("PERSISTENCE_MODULE", ""))
    if recorder is not None:
        found.setdefault(RECORDER_TOPIC, recorder)
    return found
