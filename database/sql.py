"""SQL text written once for both backends, and the event store's database for the tables the
project keeps beside the events (audit checkpoints, the denial log, the deadline index).

Statements are the project's own text with ``?`` placeholders; values always travel as
parameters. PostgreSQL tables are qualified with the store's schema."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any


def placeholders(statement: str, postgres: bool) -> str:
    """``?`` placeholders as the backend's driver wants them (psycopg: ``%s``)."""
    return statement.replace("?", "%s") if postgres else statement


def quoted(name: str) -> str:
    """An SQL identifier in double quotes (a schema or table name from configuration)."""
    return '"' + name.replace('"', '""') + '"'


class Tx:
    """One transaction's cursor, taking ``?`` placeholders and giving tuple rows."""

    def __init__(self, cursor: Any, postgres: bool) -> None:
        self.cursor, self.postgres = cursor, postgres

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; returns the rows it changed."""
        self.cursor.execute(placeholders(sql, self.postgres), tuple(params))
        return int(getattr(self.cursor, "sqlite_cursor", self.cursor).rowcount)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.execute(sql, params)
        return [
            tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in self.cursor.fetchall()
        ]


class StoreDatabase:
    """The database of an SQLite or PostgreSQL event store (its recorder's datastore)."""

    def __init__(self, recorder: Any, needed_by: str) -> None:
        self.datastore: Any = getattr(recorder, "datastore", None)
        if self.datastore is None:
            raise TypeError(f"{needed_by} needs an SQLite or PostgreSQL event store")
        self.postgres = type(self.datastore).__name__.startswith("Postgres")
        self.prefix = quoted(str(self.datastore.schema)) + "." if self.postgres else ""

    def table(self, name: str) -> str:
        """A table's name as SQL text, in the store's schema."""
        return self.prefix + name

    @contextmanager
    def transaction(self, commit: bool = False) -> Iterator[Tx]:
        with self.datastore.transaction(commit=commit) as cursor:
            yield Tx(cursor, self.postgres)
