"""``Idempotency-Key``: a retried command gets the first answer, whatever happened between.

Answers are kept per principal and key in ``api_idempotency``, beside the event store in its
database, for at least ``AFTERSALES_IDEMPOTENCY_HOURS`` (24 by default). A key first claims its
row (``pending``); the answer replaces the claim once the command is done. The same key again:

* with the same request (method, path, ``If-Match`` and the body, compared as parsed JSON) and
  an answer kept: that answer, replayed (``Idempotent-Replayed: true``);
* with the same request still running: 409, try again shortly (a claim older than
  ``STALE`` is taken over: its request died with its process);
* with a different request: 422, the key belongs to another request.

Kept: commands done (2xx) and commands the domain refused (422): running them again would give
the same answer or a different one by accident. Not kept, so a retry runs afresh: invalid
input, authorisation failures, a case that moved on (412), conflicts and outages.

A process that dies between storing a command's events and storing its answer leaves a claim
that a retry takes over after ``STALE``: the command then runs again, and the domain (states,
case ids derived from idempotency keys) keeps it from doing anything twice; the answer says
what it found (e.g. the refund is settled already)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from database.tables import StoreTable, is_duplicate
from server.problems import Problem

STALE = timedelta(minutes=2)
MAX_KEY = 255
KEY_RULE = f"1 to {MAX_KEY} printable ASCII characters"
PURGE_EVERY = 500  # claims between two purges of expired answers


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


def check_key(key: str) -> str:
    """The key as sent, or a 400 with one field name and one wording for every bad form
    (empty, too long, not printable ASCII)."""
    if not 1 <= len(key) <= MAX_KEY or not key.isascii() or not key.isprintable():
        raise Problem(400, "invalid", f"Idempotency-Key: {KEY_RULE}",
                      fields=(("Idempotency-Key", KEY_RULE),))
    return key


def fingerprint(method: str, path: str, if_match: str | None, body: Any) -> str:
    canonical = orjson.dumps([method, path, if_match, body], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


class IdempotentAnswers(StoreTable):
    name = "api_idempotency"
    create = (
        "CREATE TABLE IF NOT EXISTS {table} (principal_id TEXT NOT NULL, key TEXT NOT NULL, "
        "fingerprint TEXT NOT NULL, state TEXT NOT NULL, status INTEGER, headers TEXT, "
        "body TEXT, created_at TEXT NOT NULL, completed_at TEXT, "
        "PRIMARY KEY (principal_id, key))"
    )

    def __init__(self, recorder: Any, keep: timedelta) -> None:
        super().__init__(recorder)
        self.keep = keep
        self._claims = 0

    def claim(self, principal_id: str, key: str, print_: str, now: datetime) -> Answer | None:
        """Claim the key for this request (None), or the answer kept for it; raises a 409 or
        422 Problem as the module says."""
        self._claims += 1
        if self._claims % PURGE_EVERY == 1:
            self.purge(now)
        for _ in range(3):
            try:
                with self.transaction() as tx:
                    tx.execute(f"INSERT INTO {self.table} (principal_id, key, fingerprint, "
                               "state, created_at) VALUES (?, ?, ?, 'pending', ?)",
                               (principal_id, key, print_, _utc(now)))
                return None
            except Exception as error:
                if not is_duplicate(error):
                    raise
            found = self._row(principal_id, key)
            if found is None:
                continue  # purged meanwhile: claim again
            kept_print, state, status, headers, body, created = found
            if datetime.fromisoformat(created) < now - self.keep:
                self._delete(principal_id, key, created)
                continue
            if kept_print != print_:
                raise Problem(422, "idempotency_key_reused", "this Idempotency-Key was used "
                              "for a different request; use a new key for a new request")
            if state == "done":
                return Answer(int(status), orjson.loads(headers), orjson.loads(body))
            if datetime.fromisoformat(created) < now - STALE and \
                    self._take_over(principal_id, key, created, now):
                return None
            raise Problem(409, "idempotency_key_in_use", "a request with this Idempotency-Key "
                          "is still running; retry shortly", headers={"Retry-After": "1"})
        raise Problem(409, "idempotency_key_in_use", "this Idempotency-Key is changing hands; "
                      "retry shortly", headers={"Retry-After": "1"})

    def keep_answer(self, principal_id: str, key: str, answer: Answer, now: datetime) -> None:
        with self.transaction() as tx:
            tx.execute(f"UPDATE {self.table} SET state = 'done', status = ?, headers = ?, "
                       "body = ?, completed_at = ? WHERE principal_id = ? AND key = ?",
                       (answer.status, orjson.dumps(answer.headers).decode(),
                        orjson.dumps(answer.body).decode(), _utc(now), principal_id, key))

    def release(self, principal_id: str, key: str) -> None:
        """Forget the claim: a retry with this key runs afresh."""
        with self.transaction() as tx:
            tx.execute(f"DELETE FROM {self.table} WHERE principal_id = ? AND key = ? AND "
                       "state = 'pending'", (principal_id, key))

    def purge(self, now: datetime) -> int:
        with self.transaction() as tx:
            return tx.execute(f"DELETE FROM {self.table} WHERE created_at < ?",
                              (_utc(now - self.keep),))

    def _row(self, principal_id: str, key: str) -> tuple[Any, ...] | None:
        with self.transaction(commit=False) as tx:
            rows = tx.rows(f"SELECT fingerprint, state, status, headers, body, created_at FROM "
                           f"{self.table} WHERE principal_id = ? AND key = ?", (principal_id, key))
        return rows[0] if rows else None

    def _delete(self, principal_id: str, key: str, created: str) -> None:
        with self.transaction() as tx:
            tx.execute(f"DELETE FROM {self.table} WHERE principal_id = ? AND key = ? AND "
                       "created_at = ?", (principal_id, key, created))

    def _take_over(self, principal_id: str, key: str, created: str, now: datetime) -> bool:
        with self.transaction() as tx:
            return tx.execute(f"UPDATE {self.table} SET created_at = ? WHERE principal_id = ? "
                              "AND key = ? AND state = 'pending' AND created_at = ?",
                              (_utc(now), principal_id, key, created)) == 1


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()
