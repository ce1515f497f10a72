"""On PostgreSQL a batch's fast path is pipelined (projections/db.py): statements go out
without waiting for each answer, so a statement the server refuses is reported later than it
ran. The batch must still be all or nothing, and then go event by event as before: what the
database refuses (server side: a constraint; client side: a NUL in text) is left out alone,
everything else of the batch applied once, positions at the batch's end. Two runners that
deadlock on shared rows both get their batch applied (the loser's again, at once)."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest

from projections import positions
from projections.apply import Delivery, Failure, apply_batch, apply_events, ensure_schema
from projections.base import Event, Projection, handles
from projections.db import ReadDatabase, Transaction

pytestmark = pytest.mark.postgres


class Strict(Projection):
    """One row per event, refused by the server when the amount is negative."""

    name = "strict_rows"
    tables = {"strict_rows": """
        CREATE TABLE {strict_rows} (
            id TEXT PRIMARY KEY,
            note TEXT NOT NULL,
            amount INTEGER NOT NULL CHECK (amount >= 0)
        )"""}

    @handles("test.Row")
    def row(self, event: Event, tx: Transaction) -> None:
        d = event["data"]
        tx.execute(self.sql("INSERT INTO {strict_rows} (id, note, amount) VALUES (?, ?, ?)"),
                   (event["subject"], d["note"], d["amount"]))
        tx.execute(self.sql("UPDATE {strict_rows} SET note = note || '.' WHERE id = ?"),
                   (event["subject"],))


def _event(position: int, amount: int, note: str = "ok") -> Event:
    return {"type": "test.Row", "subject": f"row-{position}", "position": position,
            "version": 1, "time": "2026-12-01T10:00:00+00:00",
            "data": {"amount": amount, "note": note}}


@pytest.fixture
def db(pg_schema: tuple[str, str]) -> Any:
    url, schema = pg_schema
    database = ReadDatabase(f"{url}?options=-csearch_path%3D{schema}")
    ensure_schema(database, [Strict()])
    yield database
    database.close()


def _rows(db: ReadDatabase) -> dict[str, str]:
    return {r["id"]: r["note"] for r in db.query("SELECT id, note FROM strict_rows")}


def test_a_refused_statement_in_a_pipelined_batch_leaves_out_only_its_event(
        db: ReadDatabase) -> None:
    events = [_event(1, 5), _event(2, -1), _event(3, 7), _event(4, 1, "nul\x00here"),
              _event(5, 0)]
    deliveries = [Delivery("case-events", 0, offset, e) for offset, e in enumerate(events)]
    heard: list[Failure] = []
    applied = apply_batch(db, [Strict()], deliveries, on_failures=heard.extend)
    assert applied == 3
    assert _rows(db) == {"row-1": "ok.", "row-3": "ok.", "row-5": "ok."}
    assert sorted(f.delivery.event["position"] for f in heard if f.delivery.event) == [2, 4]
    assert any("strict_rows_amount_check" in f.error for f in heard)
    with db.transaction() as tx:
        where = positions.load(tx, "strict_rows")
    assert where.parts[("case-events", 0)] == (5, 5)
    again = apply_batch(db, [Strict()], deliveries)  # a re-send changes nothing
    assert again == 0 and _rows(db) == {"row-1": "ok.", "row-3": "ok.", "row-5": "ok."}


def test_a_clean_pipelined_batch_applies_every_statement_in_order(db: ReadDatabase) -> None:
    deliveries = [Delivery("case-events", p % 3, p // 3, _event(p, p)) for p in range(1, 301)]
    assert apply_batch(db, [Strict()], deliveries) == 300
    assert _rows(db) == {f"row-{p}": "ok." for p in range(1, 301)}


def test_a_rebuild_page_with_a_refused_statement_is_applied_again_event_by_event(
        db: ReadDatabase) -> None:
    with pytest.raises(Exception, match="strict_rows_amount_check"), \
            db.transaction(pipelined=True) as tx:
        apply_events(tx, [Strict()], [_event(1, 1), _event(2, -2), _event(3, 3)])
    assert _rows(db) == {}  # nothing of the pipelined page stayed
    with db.transaction() as tx:
        failed = apply_events(tx, [Strict()], [_event(1, 1), _event(2, -2), _event(3, 3)],
                              careful=True)
    assert [f.delivery.event["position"] for f in failed if f.delivery.event] == [2]
    assert _rows(db) == {"row-1": "ok.", "row-3": "ok."}


class Crossing(Projection):
    """Two shared counters; a batch's events add to both, in the order its event names them.
    The first event each runner applies waits at a barrier while it holds its first row, so
    two runners taking the rows in opposite orders deadlock for certain."""

    name = "crossing"
    tables = {"crossing": "CREATE TABLE {crossing} (id TEXT PRIMARY KEY, n INTEGER NOT NULL)"}

    def __init__(self, barrier: threading.Barrier, broken: list[BaseException]) -> None:
        super().__init__()
        self.barrier, self.broken, self.waited = barrier, broken, False

    @handles("test.Cross")
    def cross(self, event: Event, tx: Transaction) -> None:
        first, second = event["data"]["order"]
        tx.one(self.sql("UPDATE {crossing} SET n = n + 1 WHERE id = ? RETURNING n"), (first,))
        if not self.waited:  # only the first try: the retry must get through
            self.waited = True
            try:
                self.barrier.wait(timeout=30)
            except threading.BrokenBarrierError as error:  # the runners never met
                self.broken.append(error)
                raise
        tx.execute(self.sql("UPDATE {crossing} SET n = n + 1 WHERE id = ?"), (second,))


def test_two_runners_that_deadlock_on_shared_rows_both_get_their_batch_applied(
        pg_schema: tuple[str, str], caplog: pytest.LogCaptureFixture) -> None:
    url, schema = pg_schema
    url = f"{url}?options=-csearch_path%3D{schema}"
    barrier, broken = threading.Barrier(2), list[BaseException]()
    setup = ReadDatabase(url)
    failures: list[BaseException] = []
    applied: list[int] = []

    def runner(part: int, order: list[str]) -> None:
        db = ReadDatabase(url)
        event = {"type": "test.Cross", "subject": f"s-{part}", "position": part + 1,
                 "version": 1, "time": "2026-12-01T10:00:00+00:00", "data": {"order": order}}
        try:
            applied.append(apply_batch(db, [Crossing(barrier, broken)],
                                       [Delivery("case-events", part, 0, event)]))
        except BaseException as error:
            failures.append(error)
        finally:
            db.close()

    try:
        ensure_schema(setup, [Crossing(barrier, broken)])
        setup.execute("INSERT INTO crossing (id, n) VALUES ('a', 0), ('b', 0)")
        threads = [threading.Thread(target=runner, args=(0, ["a", "b"]), daemon=True),
                   threading.Thread(target=runner, args=(1, ["b", "a"]), daemon=True)]
        with caplog.at_level(logging.INFO, logger="projections.apply"):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads)
        assert not broken, "the two runners never held their first rows at once"
        assert not failures, failures
        assert applied == [1, 1]
        assert sum("lost a race" in r.getMessage() for r in caplog.records) == 1
        assert {r["id"]: r["n"] for r in setup.query("SELECT id, n FROM crossing")} == {
            "a": 2, "b": 2}
        with setup.transaction() as tx:
            where = positions.load(tx, "crossing")
        assert where.parts == {("case-events", 0): (1, 1), ("case-events", 1): (1, 2)}
    finally:
        setup.close()
