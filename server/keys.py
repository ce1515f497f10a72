"""API keys: bearer credentials of principals, kept as hashes in the store's database.

A key is ``ask_<key id>_<secret>``: the key id (64 random bits, hex) names the row and may be
shown and logged; the secret (256 random bits from ``secrets``, base64url) is shown once, when
the key is issued, and kept only as its SHA-256. A key of 256 random bits cannot be guessed, so a
fast hash loses nothing against a slow one (those protect passwords people choose) and keeps
every request cheap. Verification compares hashes in constant time, also for a key id that
does not exist, then checks revocation and expiry, every request (a revocation counts at once).

Keys live in the table ``api_keys`` beside the event store rather than in principal events:
they change no case, must be revocable at once, and their hashes have no business on the
case-events topic. Issuing and revoking are permission-checked (``IssueApiKey``,
``RevokeApiKey``: admins) and the row keeps who did it and when."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from database.tables import StoreTable

PREFIX = "ask_"
KEY_ID = re.compile(r"^[0-9a-f]{16}$")
SECRET = re.compile(r"^[A-Za-z0-9_-]{43}$")
_NOWHERE = hashlib.sha256(b"no such key").hexdigest()
COLUMNS = ("key_id", "principal_id", "principal", "label", "created_at", "created_by",
           "expires_at", "revoked_at", "revoked_by")


class KeyRefused(Exception):
    """A bearer token that is not a usable API key. ``reason`` is for logs (it never holds the
    secret); ``key`` is the stored key when the id named one."""

    def __init__(self, reason: str, key: ApiKey | None = None) -> None:
        super().__init__(reason)
        self.reason, self.key = reason, key


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    principal_id: str
    principal: str
    label: str
    created_at: str
    created_by: str
    expires_at: str | None
    revoked_at: str | None
    revoked_by: str | None

    def state(self, now: datetime, holder_is_admin: bool = False) -> str:
        """revoked, expired, refused (see ``issued_to_another_admin``) or active."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and datetime.fromisoformat(self.expires_at) <= now:
            return "expired"
        return "refused" if self.issued_to_another_admin(holder_is_admin) else "active"

    def issued_to_another_admin(self, holder_is_admin: bool) -> bool:
        """An administrator's key that another principal issued (before the holder was granted
        the role: access v4 refuses it after): authentication refuses it, as its issuer could
        otherwise act as that administrator."""
        return holder_is_admin and self.created_by != self.principal_id

    def to_json(self, now: datetime, holder_is_admin: bool = False) -> dict[str, Any]:
        return {**{c: getattr(self, c) for c in COLUMNS},
                "state": self.state(now, holder_is_admin)}


@dataclass(frozen=True)
class IssuedKey:
    """A new key: ``token`` is the only time its secret is ever shown."""

    key: ApiKey
    token: str


def looks_like_key(token: str) -> bool:
    return token.startswith(PREFIX)


def key_id_of(token: str) -> str | None:
    """The key id an API key token names (whether or not such a key exists), or None when
    the token is no well-formed API key."""
    if not looks_like_key(token):
        return None
    key_id, _, secret = token.removeprefix(PREFIX).partition("_")
    return key_id if KEY_ID.match(key_id) and SECRET.match(secret) else None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


class ApiKeys(StoreTable):
    name = "api_keys"
    create = (
        "CREATE TABLE IF NOT EXISTS {table} (key_id TEXT PRIMARY KEY, principal_id TEXT NOT "
        "NULL, principal TEXT NOT NULL, secret_sha256 TEXT NOT NULL, label TEXT NOT NULL, "
        "created_at TEXT NOT NULL, created_by TEXT NOT NULL, expires_at TEXT, revoked_at TEXT, "
        "revoked_by TEXT)"
    )

    def issue(self, principal_id: UUID, principal: str, *, label: str, by: str, at: datetime,
              expires_at: datetime | None) -> IssuedKey:
        key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        key = ApiKey(key_id, str(principal_id), principal, label, _utc(at), by,
                     None if expires_at is None else _utc(expires_at), None, None)
        with self.transaction() as tx:
            tx.execute(
                f"INSERT INTO {self.table} (key_id, principal_id, principal, secret_sha256, "
                "label, created_at, created_by, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (key_id, key.principal_id, principal, _digest(secret), label, key.created_at, by,
                 key.expires_at),
            )
        return IssuedKey(key, f"{PREFIX}{key_id}_{secret}")

    def revoke(self, key_id: str, principal_id: UUID, *, by: str, at: datetime) -> ApiKey | None:
        """Revoke the principal's key (None when the principal has no such key; revoking a
        revoked key again changes nothing)."""
        with self.transaction() as tx:
            tx.execute(
                f"UPDATE {self.table} SET revoked_at = ?, revoked_by = ? WHERE key_id = ? AND "
                "principal_id = ? AND revoked_at IS NULL",
                (_utc(at), by, key_id, str(principal_id)),
            )
        found = self.get(key_id)
        return found if found is not None and found.principal_id == str(principal_id) else None

    def get(self, key_id: str) -> ApiKey | None:
        with self.transaction(commit=False) as tx:
            rows = tx.rows(f"SELECT {', '.join(COLUMNS)} FROM {self.table} WHERE key_id = ?",
                           (key_id,))
        return ApiKey(*rows[0]) if rows else None

    def exists(self, key_id: str) -> bool:
        """Whether a key (active, revoked or expired) has this id."""
        return self.get(key_id) is not None

    def accepts(self, token: str, now: datetime) -> bool:
        """Whether the token is an active key (``verify`` without the reason)."""
        try:
            self.verify(token, now)
        except KeyRefused:
            return False
        return True

    def listing(self, principal_id: UUID | None = None) -> list[ApiKey]:
        where, params = ("", ()) if principal_id is None else (
            " WHERE principal_id = ?", (str(principal_id),))
        with self.transaction(commit=False) as tx:
            rows = tx.rows(f"SELECT {', '.join(COLUMNS)} FROM {self.table}{where} "
                           "ORDER BY created_at, key_id", params)
        return [ApiKey(*row) for row in rows]

    def verify(self, token: str, now: datetime) -> ApiKey:
        """The active key this token is, or KeyRefused (the same work whether the key id
        exists or not, and the secret compared in constant time)."""
        body = token.removeprefix(PREFIX)
        key_id, _, secret = body.partition("_")
        if not KEY_ID.match(key_id) or not SECRET.match(secret):
            raise KeyRefused("malformed API key")
        with self.transaction(commit=False) as tx:
            rows = tx.rows(f"SELECT {', '.join(COLUMNS)}, secret_sha256 FROM {self.table} "
                           "WHERE key_id = ?", (key_id,))
        stored = rows[0][-1] if rows else _NOWHERE
        matches = hmac.compare_digest(_digest(secret), stored)
        if not rows or not matches:
            raise KeyRefused(f"unknown key id {key_id} or wrong secret")
        key = ApiKey(*rows[0][:-1])
        state = key.state(now)
        if state != "active":
            raise KeyRefused(f"key {key_id} is {state}", key)
        return key


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()
