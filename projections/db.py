"""The read database: SQLite by default, PostgreSQL when the URL says so.

Projections write SQL with ``?`` placeholders and portable statements (CREATE TABLE,
INSERT … ON CONFLICT … DO UPDATE, ALTER TABLE … RENAME); this module adapts the placeholders and
owns transactions."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

Params = Sequence[Any]
IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def identifier(name: str) -> str:
    """A table or column name safe to put in SQL text (names never come from users)."""
    if not IDENT.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return name


class ReadDatabase:
    """One connection to the read database, used by one thread."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_postgres = url.startswith(("postgresql://", "postgres://"))
        self._conn: Any = self._connect()

    def _connect(self) -> Any:
        conn: Any
        if self.is_postgres:
            return psycopg.connect(self.url, autocommit=True)
        path = Path(self.url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.is_postgres else statement

    def execute(self, statement: str, params: Params = ()) -> Any:
        return self._conn.execute(self.sql(statement), tuple(params))

    def query(self, statement: str, params: Params = ()) -> list[dict[str, Any]]:
        cursor = self._conn.cursor()
        cursor.execute(self.sql(statement), tuple(params))
        columns = [d[0] for d in cursor.description or []]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One atomic unit: everything inside commits together or not at all."""
        if self.is_postgres:
            with self._conn.transaction():
                yield Transaction(self, self._conn.cursor())
            return
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield Transaction(self, self._conn.cursor())
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def tables(self) -> set[str]:
        if self.is_postgres:
            rows = self.query("SELECT table_name AS name FROM information_schema.tables "
                              "WHERE table_schema = current_schema()")
        else:
            rows = self.query("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {r["name"] for r in rows}

    def columns(self, table: str) -> list[str]:
        cursor = self._conn.cursor()
        cursor.execute(f"SELECT * FROM {identifier(table)} WHERE 1 = 0")
        return [d[0] for d in cursor.description or []]

    def close(self) -> None:
        self._conn.close()


class Transaction:
    """The cursor projections write through, with portable placeholders."""

    def __init__(self, db: ReadDatabase, cursor: Any) -> None:
        self.db, self.cursor = db, cursor

    def execute(self, statement: str, params: Params = ()) -> None:
        self.cursor.execute(self.db.sql(statement), tuple(params))

    def executemany(self, statement: str, rows: Iterable[Params]) -> None:
        self.cursor.executemany(self.db.sql(statement), [tuple(r) for r in rows])

    def one(self, statement: str, params: Params = ()) -> Any:
        self.cursor.execute(self.db.sql(statement), tuple(params))
        return self.cursor.fetchone()
