"""The base of a table kept beside the event store, in the store's own database (SQLite file or
PostgreSQL schema): the server's API keys and idempotent answers, the desk's sessions and
assignments. Statements use ``?`` placeholders on both backends; values are always
parameters."""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from typing import Any

import psycopg
from eventsourcing.persistence import ApplicationRecorder, IntegrityError

from database.sql import StoreDatabase, Tx


class StoreTable:
    """A table in the event store's database, created on first use."""

    name: str  # without the schema
    create: str  # CREATE TABLE IF NOT EXISTS {table} (…); {table} is the qualified name

    def __init__(self, recorder: ApplicationRecorder) -> None:
        self.database = StoreDatabase(recorder, self.name)
        self.datastore: Any = self.database.datastore
        self.postgres = self.database.postgres
        self.table = self.database.table(self.name)
        try:
            self._create()
        except IntegrityError:  # PostgreSQL: another process created it at the same moment
            self._create()

    def _create(self) -> None:
        with self.transaction() as tx:
            for statement in self.create.format(table=self.table).split(";"):
                if statement.strip():
                    tx.execute(statement)

    def transaction(self, commit: bool = True) -> AbstractContextManager[Tx]:
        return self.database.transaction(commit=commit)


def is_duplicate(error: BaseException) -> bool:
    """A unique key already held (either backend, wrapped by the library or not)."""
    return isinstance(error, (IntegrityError, sqlite3.IntegrityError, psycopg.IntegrityError))
