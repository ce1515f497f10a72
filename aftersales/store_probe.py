"""One direct connection to a PostgreSQL event store before its pool opens, so that what the
server refuses for good (a wrong password, a user or database that does not exist, no
pg_hba.conf entry) is said at once with PostgreSQL's own reason. The pool would try again
for its whole timeout and then say only that it got no connection, which reads as an outage
of a database that is up. A server that does not answer, or answers "starting up" or "too
many clients", is left to the pool and its timeout (it may come back)."""

from __future__ import annotations

from collections.abc import Mapping

from eventsourcing.persistence import OperationalError

REFUSED_FOR_GOOD = ("password authentication failed", "does not exist", "no pg_hba.conf entry",
                    "permission denied", "authentication failed", "is not permitted to log in")
PROBE_TIMEOUT_S = 5


class StoreRefusedError(OperationalError):
    """PostgreSQL answered and refused the store's connection: a setting to correct."""


def probe_postgres(env: Mapping[str, str]) -> None:
    """Raise StoreRefusedError when the server refuses the store's credentials or database."""
    if env.get("PERSISTENCE_MODULE") != "eventsourcing.postgres":
        return
    import psycopg

    try:
        psycopg.connect(host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"],
                        dbname=env["POSTGRES_DBNAME"], user=env["POSTGRES_USER"],
                        password=env.get("POSTGRES_PASSWORD", ""),
                        connect_timeout=PROBE_TIMEOUT_S).close()
    except psycopg.OperationalError as error:
        said = " ".join(str(error).split())
        if "FATAL:" in said and any(mark in said for mark in REFUSED_FOR_GOOD):
            reason = said[said.index("FATAL:"):].split(" connection to server")[0]  # once
            raise StoreRefusedError(
                f"PostgreSQL at {env['POSTGRES_HOST']}:{env['POSTGRES_PORT']} refused the "
                f"connection ({reason}): check the user, password and database name in "
                "AFTERSALES_DATABASE_URL") from None
