"""Tables the service API keeps beside the event store, in the store's own database (SQLite
file or PostgreSQL schema): API keys and idempotent answers. Statements use ``?``
placeholders on both backends; values are always parameters."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from eventsourcing.persistence import ApplicationRecorder, IntegrityError

from audit.checkpoints import _Tx as Tx  # the ?-placeholder adapter, shared, not copied


class StoreTable:
    """A table in the event store's database, created on first use."""

    name: str  # without the schema
    create: str  # CREATE TABLE IF NOT EXISTS {table} (…); {table} is the qualified name

    def __init__(self, recorder: ApplicationRecorder) -> None:
        self.datastore: Any = getattr(recorder, "datastore", None)
        if self.datastore is None:
            raise TypeError(f"{self.name} needs an SQLite or PostgreSQL event store")
        self.postgres = type(self.datastore).__name__.startswith("Postgres")
        prefix = ""
        if self.postgres:
            prefix = '"' + str(self.datastore.schema).replace('"', '""') + '".'
        self.table = f"{prefix}{self.name}"
        try:
            self._create()
        except IntegrityError:  # PostgreSQL: another process created it at the same moment
            self._create()

    def _create(self) -> None:
        with self.transaction() as tx:
            for statement in self.create.format(table=self.table).split(";"):
                if statement.strip():
                    tx.execute(statement)

    @contextmanager
    def transaction(self, commit: bool = True) -> Iterator[Tx]:
        with self.datastore.transaction(commit=commit) as cursor:
            yield Tx(cursor, self.postgres)


def is_duplicate(error: BaseException) -> bool:
    """A unique key already held (either backend, wrapped by the library or not)."""
    return isinstance(error, (IntegrityError, sqlite3.IntegrityError, psycopg.IntegrityError))
