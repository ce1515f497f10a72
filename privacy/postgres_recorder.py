"""The PostgreSQL store's recorder: the library's, running a save's effects on the cursor of
the transaction that inserts its events (privacy/recorders.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder


class PostgresRecorder(PostgresApplicationRecorder):
    runs_effects = True

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if kwargs.get("effects") and self.datastore.enable_db_functions:
            raise RuntimeError("effects need POSTGRES_ENABLE_DB_FUNCTIONS off")
        return super().insert_events(stored_events, **kwargs)

    def _insert_events(self, curs: Any, stored_events: Sequence[StoredEvent],
                       **kwargs: Any) -> None:
        super()._insert_events(curs, stored_events, **kwargs)
        for effect in kwargs.get("effects", ()):
            effect(curs)
