"""Desk sessions, kept server-side in the store's database (``desk_sessions``).

The browser holds only a random session token (256 bits) in an HttpOnly, SameSite=Strict
cookie; the table keeps its SHA-256, so a copy of the table signs nobody in. A session names
the principal, how it signed in (an API key's id, or an OIDC token and its expiry), the roles
the credential allows, its CSRF token, language and time zone. It ends at sign-out, after the
absolute lifetime, or after a while without requests; every request also re-checks that the
principal is enabled and its API key neither revoked, expired nor refused as authentication
refuses it (desk/web.py, the desk's caller)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from database.tables import StoreTable

COLUMNS = ("principal_id", "principal", "credential", "key_id", "roles", "csrf", "locale",
           "timezone", "created_at", "last_seen_at", "expires_at")
TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often


@dataclass(frozen=True)
class DeskSession:
    digest: str
    principal_id: str
    principal: str
    credential: str  # "api_key" or "oidc"
    key_id: str | None
    roles: frozenset[str] | None  # the roles the credential allows (None: all it holds)
    csrf: str
    locale: str
    timezone: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime

    def csrf_matches(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.csrf.encode())


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


class DeskSessions(StoreTable):
    name = "desk_sessions"
    create = (
        "CREATE TABLE IF NOT EXISTS {table} (token_sha256 TEXT PRIMARY KEY, principal_id TEXT "
        "NOT NULL, principal TEXT NOT NULL, credential TEXT NOT NULL, key_id TEXT, roles TEXT, "
        "csrf TEXT NOT NULL, locale TEXT NOT NULL, timezone TEXT NOT NULL, created_at TEXT NOT "
        "NULL, last_seen_at TEXT NOT NULL, expires_at TEXT NOT NULL, ended_at TEXT)"
    )

    def start(self, *, principal_id: str, principal: str, credential: str,
              key_id: str | None, roles: frozenset[str] | None, locale: str, timezone: str,
              now: datetime, expires_at: datetime) -> tuple[str, DeskSession]:
        """A new session (always a new token: no session fixation); the token is returned
        once, for the cookie."""
        token = secrets.token_urlsafe(32)
        session = DeskSession(digest(token), principal_id, principal, credential, key_id,
                              roles, secrets.token_urlsafe(32), locale, timezone, now, now,
                              expires_at)
        with self.transaction() as tx:
            tx.execute(
                f"INSERT INTO {self.table} (token_sha256, {', '.join(COLUMNS)}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (session.digest, principal_id, principal, credential, key_id,
                 None if roles is None else orjson.dumps(sorted(roles)).decode(),
                 session.csrf, locale, timezone, _utc(now), _utc(now), _utc(expires_at)))
        return token, session

    def find(self, token: str | None, now: datetime, idle: timedelta,
             touch: bool = True) -> DeskSession | None:
        """The live session this cookie token names (None: none, ended, expired or idle).
        ``touch``: the request counts as the viewer's activity (a page's own background
        refresh does not, or an open queue would keep an unattended session alive for ever)."""
        if not token or len(token) > 100:
            return None
        with self.transaction(commit=False) as tx:
            rows = tx.rows(f"SELECT token_sha256, {', '.join(COLUMNS)} FROM {self.table} "
                           "WHERE token_sha256 = ? AND ended_at IS NULL", (digest(token),))
        if not rows:
            return None
        session = _session(rows[0])
        if now >= session.expires_at or now - session.last_seen_at >= idle:
            self.end(session, now)
            return None
        if touch and now - session.last_seen_at >= TOUCH_EVERY:
            with self.transaction() as tx:
                tx.execute(f"UPDATE {self.table} SET last_seen_at = ? WHERE token_sha256 = ?",
                           (_utc(now), session.digest))
            session = replace(session, last_seen_at=now)
        return session

    def prefer(self, session: DeskSession, locale: str, timezone: str) -> None:
        with self.transaction() as tx:
            tx.execute(f"UPDATE {self.table} SET locale = ?, timezone = ? WHERE token_sha256 = ?",
                       (locale, timezone, session.digest))

    def end(self, session: DeskSession, now: datetime) -> None:
        with self.transaction() as tx:
            tx.execute(f"UPDATE {self.table} SET ended_at = ? WHERE token_sha256 = ? AND "
                       "ended_at IS NULL", (_utc(now), session.digest))


def _session(row: tuple[Any, ...]) -> DeskSession:
    v: dict[str, Any] = dict(zip(("digest", *COLUMNS), row, strict=True))
    roles = v["roles"]
    return DeskSession(
        v["digest"], v["principal_id"], v["principal"], v["credential"], v["key_id"],
        None if roles is None else frozenset(orjson.loads(roles)), v["csrf"], v["locale"],
        v["timezone"], datetime.fromisoformat(v["created_at"]),
        datetime.fromisoformat(v["last_seen_at"]), datetime.fromisoformat(v["expires_at"]))


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()
