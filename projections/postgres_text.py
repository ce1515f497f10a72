"""A PostgreSQL read database, read back as the text SQLite holds (projections/db.py): NUMERIC
exactly as written, TIMESTAMPTZ as UTC ISO 8601 text, JSONB as compact JSON with sorted keys.
Imported only when a read database is PostgreSQL's."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import orjson
import psycopg
from psycopg.adapt import Buffer, Loader
from psycopg.types.datetime import TimestamptzLoader


class _AmountText(Loader):
    """NUMERIC as its text, exactly as written (10.00 stays "10.00")."""

    def load(self, data: Buffer) -> str:
        return bytes(data).decode("ascii")


class _UtcText(TimestamptzLoader):
    """TIMESTAMPTZ as UTC ISO 8601 text, the form projections write times in."""

    def load(self, data: Buffer) -> str:  # type: ignore[override]
        return super().load(data).astimezone(UTC).isoformat()


class _JsonText(Loader):
    """JSONB as compact JSON text with sorted keys, the form projections write it in."""

    def load(self, data: Buffer) -> str:
        return orjson.dumps(orjson.loads(bytes(data)), option=orjson.OPT_SORT_KEYS).decode()


def read_as_text(conn: psycopg.Connection[Any]) -> None:
    """Make a PostgreSQL connection read NUMERIC, TIMESTAMPTZ and JSONB values as SQLite's
    text (module docstring)."""
    conn.adapters.register_loader("numeric", _AmountText)
    conn.adapters.register_loader("timestamptz", _UtcText)
    conn.adapters.register_loader("jsonb", _JsonText)
    conn.adapters.register_loader("json", _JsonText)


def connect(params: dict[str, Any]) -> psycopg.Connection[Any]:
    """An autocommit connection that reads native types as text."""
    conn = psycopg.connect(autocommit=True, connect_timeout=10, **params)
    read_as_text(conn)
    return conn
