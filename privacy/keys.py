"""Data keys: one random AES-256 key per data subject, wrapped by a KEK, in their own table.

``personal_data_keys`` (in the store's database: the SQLite file or the PostgreSQL schema) holds
one row per subject: ``subject`` (the opaque customer id), ``key_id`` (random, named by every
ciphertext it sealed), ``kek_id`` (the KEK that wrapped it), ``wrapped`` and ``created_at``.
Erasing a subject deletes its row in the same transaction that records the erasure event, and
leaves a row in ``personal_data_erasures`` (subject, when), so a missing key of an erased
subject reads as ``[erased]`` while a key missing for any other reason is an error. On SQLite the
deletion overwrites the freed bytes (``secure_delete``) and the write-ahead log is truncated
afterwards, so the wrapped key is gone from the file; on PostgreSQL the key table is vacuumed
afterwards (its write-ahead log and backups keep old rows until a KEK rotation voids them).

Nothing here caches a data key between calls: an erasure in another process counts at once.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

import psycopg
from eventsourcing.persistence import ApplicationRecorder, IntegrityError

from audit.checkpoints import _Tx
from privacy.errors import DataKeyError, KeyEncryptionKeyError
from privacy.kek import KEY_BYTES, KeyEncryptionKeys, key_ids_text

log = logging.getLogger(__name__)
KEYS = "personal_data_keys"
ERASURES = "personal_data_erasures"
PAGE = 1000

#: Work done inside the transaction that stores the erasure event (None: no SQL transaction).
Effect = Callable[[Any], None]


@dataclass(frozen=True)
class KeyRow:
    subject: str
    key_id: str
    kek_id: str
    wrapped: bytes
    created_at: str


class KeyTable(Protocol):
    def current(self, subject: str) -> KeyRow | None: ...
    def insert(self, row: KeyRow) -> KeyRow: ...
    def by_id(self, key_id: str) -> KeyRow | None: ...
    def erased_at(self, subject: str) -> str | None: ...
    def foreign(self, kek_ids: Sequence[str]) -> dict[str, int]: ...
    def sample(self, kek_id: str) -> KeyRow | None: ...
    def rewrap(self, change: Callable[[KeyRow], KeyRow], keep: str) -> int: ...
    def destroy(self, subjects: Sequence[str], at: datetime) -> Effect: ...
    def after_destroy(self) -> None: ...
    def counts(self) -> dict[str, int]: ...
    def by_kek(self) -> dict[str, int]: ...


class Keyring:
    """Data keys for sealing and opening personal data, under the configured KEKs."""

    def __init__(self, table: KeyTable, keks: KeyEncryptionKeys) -> None:
        self.table, self.keks = table, keks

    def check(self) -> None:
        """At start-up: every stored data key is wrapped by a configured KEK, and a sample of
        each unwraps (a wrong KEK is an error here, never garbage later)."""
        foreign = self.table.foreign(self.keks.ids)
        if foreign:
            listed = ", ".join(f"{count} under {kek_id}" for kek_id, count in foreign.items())
            raise KeyEncryptionKeyError(
                f"wrong key-encryption key: the store's data keys are wrapped by a key that is "
                f"not configured ({listed}); configured: {key_ids_text(self.keks.ids)} "
                f"(primary from {self.keks.source}). Configure the key they were wrapped with "
                "(while rotating: as AFTERSALES_KEK_PREVIOUS_FILE)")
        for kek in (self.keks.primary, *self.keks.previous):
            row = self.table.sample(kek.kek_id)
            if row is not None:
                kek.unwrap(row.wrapped, row.key_id, row.subject)

    def key_for(self, subject: str) -> tuple[str, bytes]:
        """The subject's data key (created, wrapped by the primary KEK, on first use)."""
        row = self.table.current(subject)
        if row is None:
            secret, key_id = os.urandom(KEY_BYTES), uuid.uuid4().hex
            primary = self.keks.primary
            row = self.table.insert(KeyRow(subject, key_id, primary.kek_id,
                                           primary.wrap(secret, key_id, subject), _now()))
            if row.key_id == key_id:
                return key_id, secret
        return row.key_id, self._unwrap(row)

    def key(self, key_id: str, subject: str) -> bytes | None:
        """The data key ``key_id`` of ``subject``; None once the subject was erased."""
        row = self.table.by_id(key_id)
        if row is not None and row.subject == subject:
            return self._unwrap(row)
        if self.table.erased_at(subject) is not None:
            return None
        raise DataKeyError(
            f"data key {key_id} of a personal datum is not in {KEYS} and its subject was never "
            "erased: the key table is damaged or belongs to another store (restore it)")

    def _unwrap(self, row: KeyRow) -> bytes:
        kek = self.keks.by_id(row.kek_id)
        if kek is None:
            raise KeyEncryptionKeyError(
                f"data key {row.key_id} is wrapped by key-encryption key {row.kek_id}, which is "
                f"not configured (configured: {key_ids_text(self.keks.ids)})")
        return kek.unwrap(row.wrapped, row.key_id, row.subject)

    def rotate(self) -> tuple[int, int]:
        """Re-wrap every data key under the primary KEK, in one transaction; returns (keys
        re-wrapped, keys that were under it already)."""
        self.check()
        primary = self.keks.primary

        def rewrapped(row: KeyRow) -> KeyRow:
            secret = self._unwrap(row)
            return replace(row, kek_id=primary.kek_id,
                           wrapped=primary.wrap(secret, row.key_id, row.subject))

        changed = self.table.rewrap(rewrapped, keep=primary.kek_id)
        self.table.after_destroy()  # the old wrapped bytes out of the file (SQLite)
        total = self.table.counts()["keys"]
        return changed, total - changed

    def destroy(self, subjects: Sequence[str], at: datetime) -> Effect:
        """The work, run in the erasure's own transaction, that destroys the subjects' keys."""
        return self.table.destroy(subjects, at)

    def after_destroy(self) -> None:
        self.table.after_destroy()


def _now() -> str:
    return datetime.now(UTC).isoformat()


class SqlKeyTable:
    """The key tables in the event store's database (SQLite or PostgreSQL)."""

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
    def _tx(self, commit: bool = False) -> Iterator[_Tx]:
        with self.datastore.transaction(commit=commit) as cursor:
            yield _Tx(cursor, self.postgres)

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

    def _secure(self, tx: _Tx) -> None:
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
            tx = _Tx(cursor, self.postgres)
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

    def __init__(self) -> None:
        self.rows: dict[str, KeyRow] = {}
        self.erasures: dict[str, str] = {}
        self._lock = threading.Lock()

    def current(self, subject: str) -> KeyRow | None:
        return self.rows.get(subject)

    def insert(self, row: KeyRow) -> KeyRow:
        with self._lock:
            return self.rows.setdefault(row.subject, row)

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
