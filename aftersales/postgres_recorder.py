"""The store's PostgreSQL recorder: the library's, except that it creates its composite type
only when it is missing. (The library tries ``CREATE TYPE`` on every start and swallows the
error, so every process start wrote ``type "stored_event_uuid" already exists`` into the
server's log.) It runs a save's effects in the insert's transaction
(privacy/postgres_recorder.py)."""

from __future__ import annotations

from contextlib import suppress

from psycopg.errors import DuplicateObject

from privacy.postgres_recorder import PostgresRecorder


class PostgresStoreRecorder(PostgresRecorder):
    def create_table(self) -> None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute("SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                         "WHERE n.nspname = %s AND t.typname = %s",
                         (self.datastore.schema, self.stored_event_type_name))
            missing = curs.fetchone() is None
        for statement in self.sql_create_statements:
            if missing and "CREATE TYPE" in statement.as_string():
                # two processes starting at once may both find it missing: one creates it
                with self.datastore.transaction(commit=True) as curs, suppress(DuplicateObject):
                    curs.execute(statement, prepare=False)
        with self.datastore.transaction(commit=True) as curs:
            self._create_table(curs)
        self.datastore.register_type_adapters()
