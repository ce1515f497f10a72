"""Which relay leads: at most one publishes a store's events to a topic at a time.

Several relays may run (on several machines, for availability); each tries to become the
leader, and the others stand by, trying again every second. Leadership is a lock the operating
system or the database server releases by itself when its holder dies, so a relay killed with
kill -9 hands over within about a second, without any lease to expire:

* PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) held by a connection of
  its own, keyed by the store's schema and the topic. The lock lives exactly as long as that
  session; a leader checks its session is alive before each batch it publishes, and stands by
  when it is not (the server released the lock, another relay may lead now). TCP keepalives on
  the session make the server notice a vanished machine within seconds.
* SQLite (one machine by nature): an exclusive ``flock`` on a file beside the database.

A new leader reads the position from the store's tracking table, so it starts after the last
batch the broker acknowledged: at most that batch is sent again (same CloudEvents ids), nothing
is skipped and nothing is reordered."""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
from contextlib import suppress
from pathlib import Path
from typing import Any, Protocol

from projections.db import postgres_params, private_file

log = logging.getLogger(__name__)


class Leadership(Protocol):
    def acquire(self) -> bool:
        """Try once, without waiting; True when this process leads (now or already)."""
        ...

    def holds(self) -> bool:
        """True while this process still leads (False once the lock may be someone else's)."""
        ...

    def release(self) -> None: ...


def lock_key(*parts: str) -> int:
    """A stable signed 64-bit advisory-lock key for these names."""
    digest = hashlib.sha256("\x1f".join(("aftersales", *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PostgresLeadership:
    """A session-level advisory lock on a connection of its own."""

    def __init__(self, url: str, key: int, *, keepalive_seconds: int = 5) -> None:
        self.url, self.key, self.keepalive = url, key, keepalive_seconds
        self._conn: Any = None

    def acquire(self) -> bool:
        import psycopg  # here, not above: a SQLite store's relay (and `status`) needs none

        if self._conn is not None and self.holds():
            return True
        try:
            conn = psycopg.connect(autocommit=True, connect_timeout=10, keepalives=1,
                                   keepalives_idle=self.keepalive, keepalives_interval=2,
                                   keepalives_count=2, application_name="aftersales-relay",
                                   **postgres_params(self.url))
            # the server notices a vanished leader (machine gone, cable cut) within seconds
            conn.execute(f"SET tcp_keepalives_idle = {int(self.keepalive)}")
            conn.execute("SET tcp_keepalives_interval = 2")
            conn.execute("SET tcp_keepalives_count = 2")
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        except psycopg.Error as error:
            log.warning("relay leadership: the store cannot be reached (%s)",
                        type(error).__name__)
            return False
        if row is None or not row[0]:
            conn.close()
            return False
        self._conn = conn
        return True

    def holds(self) -> bool:
        import psycopg

        if self._conn is None:
            return False
        try:
            self._conn.execute("SELECT 1").fetchone()
        except psycopg.Error:
            self._close()
            return False
        return True

    def release(self) -> None:
        import psycopg

        if self._conn is not None:
            with suppress(psycopg.Error):  # closing the session releases it anyway
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
            self._close()

    def _close(self) -> None:
        import psycopg

        with suppress(psycopg.Error):
            self._conn.close()
        self._conn = None


class FileLeadership:
    """An exclusive flock on a file beside a SQLite store (released when the process dies)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        private_file(self.path)
        fd = os.open(self.path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def holds(self) -> bool:
        return self._fd is not None  # a flock cannot be taken away from a living holder

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def relay_leadership(database_url: str, schema: str | None, topic: str) -> Leadership:
    """The leadership of the relay publishing the store at ``database_url`` to ``topic``."""
    if database_url.startswith("sqlite:///"):
        store = Path(database_url.removeprefix("sqlite:///"))
        name = hashlib.sha256(topic.encode()).hexdigest()[:12]
        return FileLeadership(store.with_name(f"{store.name}.relay-{name}.lock"))
    return PostgresLeadership(database_url, lock_key("relay", schema or "public", topic))
