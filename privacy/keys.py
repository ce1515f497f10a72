"""Data keys: one random AES-256 key per data subject, wrapped by a KEK, in their own table.

``personal_data_keys`` (in the store's database: the SQLite file or the PostgreSQL schema) holds
one row per subject: ``subject`` (the opaque customer id, or an order's ``[order …]`` subject),
``key_id`` (random, named by every ciphertext it sealed), ``kek_id`` (the KEK that wrapped it),
``wrapped`` and ``created_at``.
Erasing a subject deletes its row in the same transaction that records the erasure event, and
leaves a row in ``personal_data_erasures`` (subject, when), so a missing key of an erased
subject reads as ``[erased]`` while a key missing for any other reason is an error. On SQLite the
deletion overwrites the freed bytes (``secure_delete``) and the write-ahead log is truncated
afterwards, so the wrapped key is gone from the file; on PostgreSQL the key table is vacuumed
afterwards (its write-ahead log and backups keep old rows until a KEK rotation voids them).

Nothing here caches a data key between calls: an erasure in another process counts at once
(a key made for a group-commit batch is kept only until the batch is written).
The tables themselves are in ``key_tables.py``.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from privacy.errors import DataKeyError, KeyEncryptionKeyError
from privacy.kek import KEY_BYTES, KeyEncryptionKeys, key_ids_text

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
    def insert_effect(self, rows: Sequence[KeyRow]) -> Effect: ...
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
    """Data keys for sealing and opening personal data, under the configured KEKs.

    In a group-commit batch (the store calls ``begin``, ``effects`` and ``end``), a subject's
    first key is made in memory and written in the batch's own transaction, with the events
    sealed under it: one fsync for the batch, not one more per new subject; a batch that is
    not written leaves no key behind."""

    def __init__(self, table: KeyTable, keks: KeyEncryptionKeys) -> None:
        self.table, self.keks = table, keks
        self._local = threading.local()

    # ---- the store's batch hook --------------------------------------------------------------
    def begin(self) -> None:
        if getattr(self.table, "defers_inserts", False):
            self._local.pending = {}

    def effects(self) -> list[Effect]:
        """The writing of the keys the batch made so far (taken: the next flush writes only
        newer ones)."""
        pending: dict[str, tuple[bytes, KeyRow]] | None = getattr(self._local, "pending", None)
        if not pending:
            return []
        rows = [row for _, row in pending.values()]
        pending.clear()
        return [self.table.insert_effect(rows)]

    def end(self) -> None:
        self._local.pending = None

    def _pending(self) -> dict[str, tuple[bytes, KeyRow]] | None:
        found: dict[str, tuple[bytes, KeyRow]] | None = getattr(self._local, "pending", None)
        return found

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
        pending = self._pending()
        if pending is not None and subject in pending:
            secret, made = pending[subject]
            return made.key_id, secret
        row = self.table.current(subject)
        if row is None:
            secret, key_id = os.urandom(KEY_BYTES), uuid.uuid4().hex
            primary = self.keks.primary
            made = KeyRow(subject, key_id, primary.kek_id, primary.wrap(secret, key_id, subject),
                          _now())
            if pending is not None:  # written with the batch
                pending[subject] = (secret, made)
                return key_id, secret
            row = self.table.insert(made)
            if row.key_id == key_id:
                return key_id, secret
        return row.key_id, self._unwrap(row)

    def key(self, key_id: str, subject: str) -> bytes | None:
        """The data key ``key_id`` of ``subject``; None once the subject was erased."""
        pending = self._pending()
        if pending is not None and subject in pending and pending[subject][1].key_id == key_id:
            return pending[subject][0]
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

    def holds(self, subject: str) -> bool:
        """Whether the subject has a data key (an order's: only when a fact came before its
        placement with unknown fields)."""
        return self.table.current(subject) is not None

    def destroy(self, subjects: Sequence[str], at: datetime) -> Effect:
        """The work, run in the erasure's own transaction, that destroys the subjects' keys."""
        return self.table.destroy(subjects, at)

    def after_destroy(self) -> None:
        self.table.after_destroy()


def _now() -> str:
    return datetime.now(UTC).isoformat()
