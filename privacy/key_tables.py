"""The key tables: SQL tables in the event store's database (SQLite or PostgreSQL), or memory
for the library's in-memory store (fast pure tests). What they hold: ``keys.py``."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, IntegrityError

from database.sql import Tx
from privacy.keys import ERASURES, KEYS, PAGE, Effect, KeyRow

log = logging.getLogger(__name__)


class SqlKeyTable:
    """The key tables in the event store's database (SQLite or PostgreSQL)."""

    defers_inserts = True  # a batch's new keys are written in its own transaction

    def __init__(self, recorder: ApplicationRecorder) -> None:
        self.datastore: Any = getattr(recorder, "datastore", None)
        if self.datastore is None:
            raise TypeError("the key table needs an SQLite or PostgreSQL event store")
        self.postgres = type(self.datastore).__name__.startswith("Postgres")
        prefix = ""
        if self.postgres:
            prefix = '"' + str(self.datastore.schema).replace('"', '""') + '".'
        self.keys, self.erasures = prefix + KEYS, prefix + ERASURES
        try:
            self._create()
        except IntegrityError:  # PostgreSQL: another process created them at the same moment
            self._create()

    @contextmanager
    def _tx(self, commit: bool = False) -> Iterator[Tx]:
        with self.datastore.transaction(commit=commit) as cursor:
            yield Tx(cursor, self.postgres)

    def _create(self) -> None:
        blob = "BYTEA" if self.postgres else "BLOB"
        with self._tx(commit=True) as tx:
            tx.execute(f"CREATE TABLE IF NOT EXISTS {self.keys} (subject TEXT PRIMARY KEY, "
                       "key_id TEXT NOT NULL UNIQUE, kek_id TEXT NOT NULL, "
                       f"wrapped {blob} NOT NULL, created_at TEXT NOT NULL)")
            tx.execute(f"CREATE INDEX IF NOT EXISTS {KEYS}_kek ON {self.keys} (kek_id)")
            tx.execute(f"CREATE TABLE IF NOT EXISTS {self.erasures} (subject TEXT PRIMARY KEY, "
                       "erased_at TEXT NOT NULL)")

    @staticmethod
    def _row(found: Sequence[Any]) -> KeyRow:
        return KeyRow(str(found[0]), str(found[1]), str(found[2]), bytes(found[3]),
                      str(found[4]))

    def _read(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """One read statement on its own (no BEGIN and ROLLBACK around it: the hot path of
        sealing and opening)."""
        if self.postgres:
            with self.datastore.get_connection() as conn, conn.cursor() as cursor:
                cursor.execute(sql.replace("?", "%s"), tuple(params), prepare=True)
                return [tuple(r.values()) if isinstance(r, dict) else tuple(r)
                        for r in cursor.fetchall()]
        with self.datastore.get_connection(commit=False) as conn:
            cursor = conn.cursor()
            cursor.execute(sql, tuple(params))
            return [tuple(r) for r in cursor.fetchall()]

    def _one(self, where: str, params: Sequence[Any]) -> KeyRow | None:
        found = self._read(f"SELECT subject, key_id, kek_id, wrapped, created_at "
                           f"FROM {self.keys} WHERE {where}", params)
        return self._row(found[0]) if found else None

    def current(self, subject: str) -> KeyRow | None:
        return self._one("subject = ?", (subject,))

    def by_id(self, key_id: str) -> KeyRow | None:
        return self._one("key_id = ?", (key_id,))

    def sample(self, kek_id: str) -> KeyRow | None:
        return self._one("kek_id = ? LIMIT 1", (kek_id,))

    def insert(self, row: KeyRow) -> KeyRow:
        with self._tx(commit=True) as tx:
            tx.execute(f"INSERT INTO {self.keys} (subject, key_id, kek_id, wrapped, created_at) "
                       "VALUES (?, ?, ?, ?, ?) ON CONFLICT (subject) DO NOTHING",
                       (row.subject, row.key_id, row.kek_id, row.wrapped, row.created_at))
        found = self.current(row.subject)
        if found is None:  # erased between the insert and the read: try once more
            return self.insert(row)
        return found

    def insert_effect(self, rows: Sequence[KeyRow]) -> Effect:
        """The statements that store new keys, run on the cursor of the transaction that
        stores the events sealed with them. A subject given a key by another process meanwhile
        fails that transaction as a conflict (the batch then runs again and seals under that
        key). No statement of it fails in the database: on PostgreSQL a failed statement in
        the insert's pipeline would skip the statements after it, and a statement psycopg was
        preparing there would then be missing on that connection."""

        def effect(cursor: Any) -> None:
            tx = Tx(cursor, self.postgres)
            for row in rows:
                tx.execute(f"INSERT INTO {self.keys} (subject, key_id, kek_id, wrapped, "
                           "created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (subject) DO NOTHING",
                           (row.subject, row.key_id, row.kek_id, row.wrapped, row.created_at))
            marks = ", ".join("?" for _ in rows)
            stored = dict(tx.rows(f"SELECT subject, key_id FROM {self.keys} WHERE subject IN "
                                  f"({marks})", [row.subject for row in rows]))
            lost = sum(stored.get(row.subject) != row.key_id for row in rows)
            if lost:
                raise IntegrityError(f"{lost} data key(s) of this batch were made meanwhile by "
                                     "another process")

        return effect

    def erased_at(self, subject: str) -> str | None:
        found = self._read(f"SELECT erased_at FROM {self.erasures} WHERE subject = ?",
                           (subject,))
        return str(found[0][0]) if found else None

    def foreign(self, kek_ids: Sequence[str]) -> dict[str, int]:
        marks = ", ".join("?" for _ in kek_ids)
        with self._tx() as tx:
            found = tx.rows(f"SELECT kek_id, COUNT(*) FROM {self.keys} WHERE kek_id NOT IN "
                            f"({marks}) GROUP BY kek_id", tuple(kek_ids))
        return {str(k): int(n) for k, n in found}

    def counts(self) -> dict[str, int]:
        with self._tx() as tx:
            keys = tx.rows(f"SELECT COUNT(*) FROM {self.keys}")[0][0]
            erased = tx.rows(f"SELECT COUNT(*) FROM {self.erasures}")[0][0]
        return {"keys": int(keys), "erased_subjects": int(erased)}

    def by_kek(self) -> dict[str, int]:
        with self._tx() as tx:
            found = tx.rows(f"SELECT kek_id, COUNT(*) FROM {self.keys} GROUP BY kek_id")
        return {str(k): int(n) for k, n in found}

    def _secure(self, tx: Tx) -> None:
        if not self.postgres:  # freed bytes are overwritten, not left in the file
            tx.execute("PRAGMA secure_delete = ON")

    def rewrap(self, change: Callable[[KeyRow], KeyRow], keep: str) -> int:
        changed = 0
        with self._tx(commit=True) as tx:
            self._secure(tx)
            if self.postgres:
                tx.execute(f"LOCK TABLE {self.keys} IN SHARE ROW EXCLUSIVE MODE")
            while True:
                page = tx.rows(f"SELECT subject, key_id, kek_id, wrapped, created_at FROM "
                               f"{self.keys} WHERE kek_id <> ? ORDER BY key_id LIMIT ?",
                               (keep, PAGE))
                if not page:
                    return changed
                for found in page:
                    new = change(self._row(found))
                    tx.execute(f"UPDATE {self.keys} SET kek_id = ?, wrapped = ? "
                               "WHERE key_id = ?", (new.kek_id, new.wrapped, new.key_id))
                changed += len(page)

    def destroy(self, subjects: Sequence[str], at: datetime) -> Effect:
        """The statements that erase ``subjects``, run on the cursor of the transaction that
        stores the erasure event."""
        when = at.astimezone(UTC).isoformat()

        def effect(cursor: Any) -> None:
            tx = Tx(cursor, self.postgres)
            self._secure(tx)
            for subject in subjects:
                tx.execute(f"DELETE FROM {self.keys} WHERE subject = ?", (subject,))
                tx.execute(f"INSERT INTO {self.erasures} (subject, erased_at) VALUES (?, ?) "
                           "ON CONFLICT (subject) DO UPDATE SET erased_at = excluded.erased_at",
                           (subject, when))

        return effect

    def after_destroy(self) -> None:
        """Leave as few copies of destroyed wrapped keys as the database allows (best effort).
        SQLite: move the write-ahead log into the file and truncate it, so no earlier page image
        stays in the -wal file (a reader holding an old snapshot keeps it until the next
        checkpoint). PostgreSQL: vacuum the key table, so the deleted rows are pruned now rather
        than when autovacuum comes by (its write-ahead log and backups still hold them until
        they are recycled: a rotation of the key-encryption key voids those copies)."""
        if self.postgres:
            import psycopg  # loaded already: the store is PostgreSQL's

            try:
                with self.datastore.get_connection() as conn:
                    conn.execute(f"VACUUM {self.keys}")
            except psycopg.Error as error:  # autovacuum will prune them later
                log.warning("could not vacuum %s after destroying keys: %s", KEYS,
                            type(error).__name__)
            return
        name = getattr(getattr(self.datastore, "pool", None), "db_name", None)
        if not name or name == ":memory:" or "mode=memory" in str(name):
            return
        with suppress(sqlite3.Error), sqlite3.connect(name, timeout=30) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()


class MemoryKeyTable:
    """The key tables of the library's in-memory store (fast pure tests): lost with it."""

    defers_inserts = False

    def __init__(self) -> None:
        self.rows: dict[str, KeyRow] = {}
        self.erasures: dict[str, str] = {}
        self._lock = threading.Lock()

    def current(self, subject: str) -> KeyRow | None:
        return self.rows.get(subject)

    def insert(self, row: KeyRow) -> KeyRow:
        with self._lock:
            return self.rows.setdefault(row.subject, row)

    def insert_effect(self, rows: Sequence[KeyRow]) -> Effect:
        def effect(_: Any) -> None:
            with self._lock:
                for row in rows:
                    self.rows.setdefault(row.subject, row)

        return effect

    def by_id(self, key_id: str) -> KeyRow | None:
        return next((r for r in self.rows.values() if r.key_id == key_id), None)

    def erased_at(self, subject: str) -> str | None:
        return self.erasures.get(subject)

    def foreign(self, kek_ids: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for row in self.rows.values():
            if row.kek_id not in kek_ids:
                found[row.kek_id] = found.get(row.kek_id, 0) + 1
        return found

    def sample(self, kek_id: str) -> KeyRow | None:
        return next((r for r in self.rows.values() if r.kek_id == kek_id), None)

    def counts(self) -> dict[str, int]:
        return {"keys": len(self.rows), "erased_subjects": len(self.erasures)}

    def by_kek(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for row in self.rows.values():
            found[row.kek_id] = found.get(row.kek_id, 0) + 1
        return found

    def rewrap(self, change: Callable[[KeyRow], KeyRow], keep: str) -> int:
        with self._lock:
            stale = [r for r in self.rows.values() if r.kek_id != keep]
            new = [change(r) for r in stale]
            self.rows.update((r.subject, r) for r in new)
        return len(new)

    def destroy(self, subjects: Sequence[str], at: datetime) -> Effect:
        when = at.astimezone(UTC).isoformat()

        def effect(_: Any) -> None:
            with self._lock:
                for subject in subjects:
                    self.rows.pop(subject, None)
                    self.erasures[subject] = when

        return effect

    def after_destroy(self) -> None:
        return None


def open_key_table(recorder: ApplicationRecorder) -> SqlKeyTable | MemoryKeyTable:
    """The key tables beside the store: SQL tables, or memory for the in-memory store."""
    if getattr(recorder, "datastore", None) is None:
        return MemoryKeyTable()
    return SqlKeyTable(recorder)
