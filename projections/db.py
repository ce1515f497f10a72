"""The read database: SQLite by default, PostgreSQL when the URL says so.

Projections write SQL with ``?`` placeholders and portable statements (CREATE TABLE,
INSERT … ON CONFLICT … DO UPDATE, ALTER TABLE … RENAME); this module adapts the placeholders and
owns transactions.

Column types: on PostgreSQL the read models hold amounts as ``NUMERIC``, times as
``TIMESTAMPTZ`` and documents as ``JSONB`` (an analyst's tools see numbers, times and JSON);
SQLite holds the three as TEXT (``native`` renders a projection's DDL for the backend). Either
way a reader gets the same values: PostgreSQL's are read back as the text SQLite holds (an
amount as written, a time as UTC ISO 8601 text, a document as compact JSON with sorted keys,
the form projections write it in, projections/postgres_text.py), so every reader (queries,
insights, the report, the desk, the API) works unchanged on both. psycopg is imported only
once a PostgreSQL database is used."""

from __future__ import annotations

import os
import re
import sqlite3
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext, suppress
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from database.sql import placeholders

Params = Sequence[Any]
IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
NATIVE_TYPES = re.compile(r"\b(NUMERIC|TIMESTAMPTZ|JSONB)\b")


def native(ddl: str, postgres: bool) -> str:
    """A projection's CREATE TABLE for the backend: PostgreSQL's native types as written,
    TEXT in their place on SQLite."""
    return ddl if postgres else NATIVE_TYPES.sub("TEXT", ddl)


def postgres_params(url: str) -> dict[str, Any]:
    """Connection parameters of a postgresql:// URL, parsed here rather than by libpq (whose
    errors quote the URL, password included). Raises ValueError without quoting the URL."""
    parts = urlsplit(url)  # raises ValueError for a malformed host
    port = parts.port  # raises ValueError for a port that is not a number
    if not parts.hostname:
        raise ValueError("no host")
    params: dict[str, Any] = {
        "host": parts.hostname, "port": port or 5432,
        "dbname": unquote(parts.path.lstrip("/")) or "aftersales",
        "user": unquote(parts.username or "aftersales"),
        "password": unquote(parts.password or ""),
    }
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if not IDENT.match(key):
            raise ValueError("a query parameter name is not a connection option")
        params[key] = value
    return params


DEFAULT_FOLDER = "var"  # the default stores' folder, under the working directory


class MissingFolderError(ValueError):
    """A SQLite database whose folder does not exist: a mistyped URL, not a new store."""


def database_file(path: Path, variable: str) -> None:
    """A SQLite database file, created readable by its owner only when new. Its folder must
    exist: only the default one, ``var/`` under the working directory, is made (a first run,
    the demo); anywhere else a missing folder is a mistyped URL, refused naming the path
    instead of quietly starting an empty store there."""
    check_folder(path, variable)
    private_file(path)


def check_folder(path: Path, variable: str) -> None:
    """``MissingFolderError`` naming ``variable`` when the database's folder does not exist
    and is not the default one (see database_file); creates nothing."""
    folder = path.parent
    if not folder.is_dir() and folder.absolute() != Path.cwd() / DEFAULT_FOLDER:
        raise MissingFolderError(
            f"{variable}: the folder {folder} does not exist (only the default "
            f"{DEFAULT_FOLDER}/ under the working directory is created): create it or correct "
            "the URL")


def private_file(path: Path, folders: bool = True) -> None:
    """Create the file (and its folder, unless ``folders`` is false) readable by its owner
    only, unless it exists: the project's databases hold personal data (SQLite gives its -wal
    and -shm files the same mode)."""
    if folders:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def is_outage(error: BaseException) -> bool:
    """True when a read-database error says the database cannot be used right now (connection
    lost, locked, disk trouble) rather than that one statement or value is wrong."""
    psycopg = sys.modules.get("psycopg")  # not loaded: no PostgreSQL error can have happened
    if psycopg is not None and isinstance(error, (psycopg.OperationalError,
                                                  psycopg.InterfaceError)):
        return True
    return isinstance(error, sqlite3.OperationalError) and not str(error).startswith(
        ("no such", "near ", "table ", "too many"))


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
            from projections.postgres_text import connect

            return connect(postgres_params(self.url))
        path = Path(self.url.removeprefix("sqlite:///"))
        database_file(path, "AFTERSALES_READ_DATABASE_URL")
        conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def sql(self, statement: str) -> str:
        return placeholders(statement, self.is_postgres)

    def execute(self, statement: str, params: Params = ()) -> Any:
        return self._conn.execute(self.sql(statement), tuple(params))

    def query(self, statement: str, params: Params = ()) -> list[dict[str, Any]]:
        cursor = self._conn.cursor()
        cursor.execute(self.sql(statement), tuple(params))
        columns = [d[0] for d in cursor.description or []]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    @contextmanager
    def transaction(self, pipelined: bool = False) -> Iterator[Transaction]:
        """One atomic unit: everything inside commits together or not at all.

        ``pipelined`` (PostgreSQL): statements are sent without waiting for each answer
        (psycopg's pipeline mode; reading a result waits for everything sent before it), so a
        batch of writes costs a few network round trips instead of one per statement. A
        failing statement is then reported later than it ran, so only an all-or-nothing unit
        may be pipelined, never one that recovers from a statement's error in a savepoint."""
        if self.is_postgres:
            with self._conn.pipeline() if pipelined else nullcontext(), \
                    self._conn.transaction():
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
        return [name for name, _ in self.column_types(table)]

    def column_types(self, table: str) -> list[tuple[str, Any]]:
        """(name, type) of each column: the type's OID on PostgreSQL, None on SQLite (whose
        columns hold any type)."""
        cursor = self._conn.cursor()
        cursor.execute(f"SELECT * FROM {identifier(table)} WHERE 1 = 0")
        return [(d[0], d[1] if self.is_postgres else None) for d in cursor.description or []]

    def reconnect(self) -> None:
        """A new connection after an outage (a PostgreSQL connection does not come back by
        itself); raises while the database is still unreachable."""
        with suppress(Exception):  # closing a broken connection must not hide the outage
            self._conn.close()
        self._conn = self._connect()

    def close(self) -> None:
        self._conn.close()


class Transaction:
    """The cursor projections write through, with portable placeholders."""

    def __init__(self, db: ReadDatabase, cursor: Any) -> None:
        self.db, self.cursor = db, cursor
        if not db.is_postgres:  # SQLite takes the statement and any sequence as they are
            self.execute = cursor.execute  # type: ignore[method-assign]

    def execute(self, statement: str, params: Params = ()) -> None:
        self.cursor.execute(self.db.sql(statement), tuple(params))

    def executemany(self, statement: str, rows: Iterable[Params]) -> None:
        self.cursor.executemany(self.db.sql(statement), [tuple(r) for r in rows])

    def one(self, statement: str, params: Params = ()) -> Any:
        self.cursor.execute(self.db.sql(statement), tuple(params))
        return self.cursor.fetchone()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested unit inside the transaction: on error only its own changes are undone."""
        self.cursor.execute("SAVEPOINT apply_one")
        try:
            yield
        except BaseException:
            self.cursor.execute("ROLLBACK TO SAVEPOINT apply_one")
            self.cursor.execute("RELEASE SAVEPOINT apply_one")
            raise
        self.cursor.execute("RELEASE SAVEPOINT apply_one")
