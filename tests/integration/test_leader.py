"""Leader (consumers/leader.py), the one implementation of the relay's and the case-state
publisher's turns, over the real locks: a lock file beside a SQLite store, a PostgreSQL
advisory lock held by a session of its own."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest

from consumers.leader import Leader, Turn
from consumers.leadership import Leadership, lock_key, relay_leadership

TOPIC = "aftersales.case-events.v1"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def leaderships(backend: str, tmp_path: Path, request: pytest.FixtureRequest
                ) -> tuple[Leadership, Leadership]:
    if backend == "sqlite":
        url, schema = f"sqlite:///{tmp_path / 'events.sqlite'}", None
    else:
        url, schema = request.getfixturevalue("pg_schema")
    return relay_leadership(url, schema, TOPIC), relay_leadership(url, schema, TOPIC)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_one_leads_at_a_time_and_the_other_takes_over_when_it_lets_go(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    clock = Clock()
    first, second = (Leader(lock, 1.0, clock) for lock in leaderships(backend, tmp_path, request))
    assert first.lead() is Turn.TOOK_OVER
    assert second.lead() is Turn.STANDS_BY
    clock.now += 5
    assert first.lead() is Turn.LEADS and first.check() is Turn.LEADS
    assert second.lead() is Turn.STANDS_BY
    first.release()
    assert second.lead() is Turn.TOOK_OVER
    assert first.lead() is Turn.STANDS_BY
    second.release()


def test_without_a_leadership_it_is_the_only_one_and_always_leads() -> None:
    alone = Leader(None, 1.0)
    assert alone.lead() is Turn.LEADS and alone.check() is Turn.LEADS and alone.leading
    alone.release()
    assert alone.lead() is Turn.LEADS


def end_lock_session(url: str, key: int) -> None:
    """Terminate the session holding the advisory lock ``key`` (as a vanished leader's)."""
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT classid::bigint, objid::bigint, pid FROM pg_locks "
                            "WHERE locktype = 'advisory' AND objsubid = 1 AND granted").fetchall()
        pids = [pid for high, low, pid in rows if (high << 32) | low == unsigned]
        assert len(pids) == 1
        conn.execute("SELECT pg_terminate_backend(%s)", (pids[0],))


def test_a_leader_whose_lock_session_ended_stands_by_at_its_next_check_and_another_leads(
        pg_schema: tuple[str, str]) -> None:
    url, schema = pg_schema
    clock = Clock()
    first = Leader(relay_leadership(url, schema, TOPIC), 1.0, clock)
    second = Leader(relay_leadership(url, schema, TOPIC), 1.0, clock)
    assert first.lead() is Turn.TOOK_OVER
    end_lock_session(url, lock_key("relay", schema, TOPIC))
    assert first.lead() is Turn.LEADS  # checked less than a second ago
    clock.now += 1.0
    assert first.lead() is Turn.LOST and not first.leading
    assert second.lead() is Turn.TOOK_OVER
    assert first.lead() is Turn.STANDS_BY and first.check() is Turn.LOST
    second.release()


def test_a_round_publishes_only_while_it_leads() -> None:
    stop = threading.Event()
    stop.set()  # its waits return at once
    published: list[bool] = []
    leader = Leader(None, 1.0)

    def step() -> int:
        published.append(True)
        return 0

    leader.rounds(stop, lambda: False, step, 0.02)()
    assert published == []
    leader.rounds(stop, lambda: True, step, 0.02)()
    assert published == [True]
