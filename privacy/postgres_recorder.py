"""The PostgreSQL store's recorder: the library's, running a save's effects on the cursor of
the transaction that inserts its events (privacy/recorders.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from privacy.recorders import NotificationRow


class PostgresRecorder(PostgresApplicationRecorder):
    runs_effects = True

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as the library's
    def notification_rows(self, after: int, limit: int) -> list[NotificationRow]:
        """Up to ``limit`` stored events after position ``after``, as plain rows (the id as
        canonical UUID text): what a rebuild reads, page after page."""
        statement = SQL("SELECT notification_id, originator_id::text, originator_version, "
                        "topic, state FROM {schema}.{table} WHERE notification_id > %s "
                        "ORDER BY notification_id LIMIT %s").format(
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name))
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(statement, (after, limit), prepare=True)
            return [(position, key, version, topic, bytes(state))
                    for position, key, version, topic, state in curs.fetchall()]

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
