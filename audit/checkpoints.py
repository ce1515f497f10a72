"""The audit checkpoints table in the event store's database (SQLite or PostgreSQL)."""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections.abc import Sequence
from contextlib import AbstractContextManager

from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
)

from audit.chain import (
    _END,
    GENESIS,
    Row,
    _position,
)
from audit.reports import (
    Checkpoint,
)
from database.sql import StoreDatabase, Tx, quoted

log = logging.getLogger(__name__)


class _HeadMovedError(Exception):
    """Another auditor sealed after this one read the head: roll back and start again."""


class _Database:
    """Raw, fast reads of the events table and the checkpoint table, on either backend."""

    def __init__(self, recorder: ApplicationRecorder) -> None:
        self.store = StoreDatabase(recorder, "the audit")
        table = getattr(recorder, "events_table_name", None)
        if table is None:
            raise TypeError("the audit needs an SQLite or PostgreSQL event store")
        self.datastore, self.postgres = self.store.datastore, self.store.postgres
        if self.postgres:
            uuid_ids = getattr(self.datastore, "originator_id_type", "uuid") == "uuid"
            oid = "replace(originator_id::text, '-', '')" if uuid_ids else "originator_id::text"
            events = self.store.prefix + quoted(table)
            self.select_rows = (
                f"SELECT notification_id, {oid}, originator_version, topic, state FROM {events} "
                "WHERE notification_id > %s AND notification_id <= %s "
                "ORDER BY notification_id LIMIT %s"
            )
            self.select_end = f"SELECT MAX(notification_id) FROM {events}"
        else:
            self.select_rows = (
                f"SELECT rowid, originator_id, originator_version, topic, state FROM {table} "
                "WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?"
            )
            self.select_end = f"SELECT MAX(rowid) FROM {table}"
        self.table = self.store.table("audit_checkpoints")
        try:
            self._create()
        except IntegrityError:  # PostgreSQL: another auditor created it at the same moment
            self._create()

    def tx(self, commit: bool = False) -> AbstractContextManager[Tx]:
        return self.store.transaction(commit)

    def _create(self) -> None:
        blob = "BYTEA" if self.postgres else "BLOB"
        with self.tx(commit=True) as tx:
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} (position BIGINT PRIMARY KEY, "
                "previous BIGINT NOT NULL, events BIGINT NOT NULL, chain_hash TEXT NOT NULL, "
                f"sealed_at TEXT NOT NULL, entries {blob} NOT NULL)"
            )

    def rows(self, after: int, until: int, limit: int) -> list[Row]:
        """The store's notifications at positions in (after, until], at most ``limit``."""
        if self.postgres:
            from psycopg.rows import tuple_row

            with (
                self.datastore.get_connection() as conn,
                conn.cursor(row_factory=tuple_row) as cursor,
            ):
                cursor.execute(self.select_rows, (after, until, limit), prepare=True)
                return list(cursor.fetchall())
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(self.select_rows, (after, until, limit))
            return list(cursor.fetchall())

    def end(self) -> int:
        with self.tx() as tx:
            return int(tx.rows(self.select_end)[0][0] or 0)

    def checkpoints(self) -> list[Checkpoint]:
        with self.tx() as tx:
            rows = tx.rows(
                f"SELECT position, previous, events, chain_hash, sealed_at "
                f"FROM {self.table} ORDER BY position"
            )
        return [
            Checkpoint(int(p), int(b), int(n), bytes.fromhex(h), str(t)) for p, b, n, h, t in rows
        ]

    def head(self) -> tuple[int, bytes]:
        with self.tx() as tx:
            found = tx.rows(
                f"SELECT position, chain_hash FROM {self.table} ORDER BY position DESC LIMIT 1"
            )
        return (int(found[0][0]), bytes.fromhex(found[0][1])) if found else (0, GENESIS)

    def entries(self, position: int) -> bytes:
        with self.tx() as tx:
            found = tx.rows(f"SELECT entries FROM {self.table} WHERE position = ?", (position,))
        return bytes(found[0][0]) if found else b""

    def append(self, head: int, batches: Sequence[tuple[Checkpoint, bytes]]) -> None:
        """Insert the batches after ``head``, or raise _HeadMovedError and insert nothing."""
        insert = (
            f"INSERT INTO {self.table} (position, previous, events, chain_hash, "
            "sealed_at, entries) "
        )
        with self.tx(commit=True) as tx:
            if self.postgres:  # serialise sealers; SQLite's first write below takes its lock
                tx.execute(f"LOCK TABLE {self.table} IN SHARE ROW EXCLUSIVE MODE")
            for index, (cp, entries) in enumerate(batches):
                values = (
                    cp.position,
                    cp.previous,
                    cp.events,
                    cp.chain_hash.hex(),
                    cp.sealed_at,
                    entries,
                )
                if index:
                    tx.execute(insert + "VALUES (?, ?, ?, ?, ?, ?)", values)
                elif not tx.execute(
                    insert + "SELECT ?, ?, ?, ?, ?, ? WHERE (SELECT COALESCE("
                    f"MAX(position), 0) FROM {self.table}) = ?",
                    (*values, head),
                ):
                    raise _HeadMovedError


class _Pages:
    """The store read forward in large pages, handed out up to a position at a time."""

    def __init__(self, db: _Database, size: int) -> None:
        self.db, self.size = db, size
        self.page: list[Row] = []
        self.index = self.after = 0
        self.exhausted = False

    def upto(self, position: int) -> list[list[Row]]:
        parts: list[list[Row]] = []
        while True:
            if self.index >= len(self.page):
                if self.exhausted:
                    return parts
                self.page, self.index = self.db.rows(self.after, _END, self.size), 0
                self.exhausted = len(self.page) < self.size
                if not self.page:
                    return parts
                self.after = self.page[-1][0]
            stop = bisect_right(self.page, position, lo=self.index, key=_position)
            if stop > self.index:
                parts.append(self.page[self.index : stop])
                self.index = stop
            if stop < len(self.page):
                return parts
