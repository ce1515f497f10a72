"""Group commit (issue 15): commands ready together are decided in memory and written in one
transaction; each gets the outcome it would get alone, in order; a refused, denied or invalid
one never affects its batch-mates; a conflict with another process runs the batch again on
fresh state (after three such losses, its commands one by one); concurrent callers are
acknowledged after their batch is durable. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from aftersales.bootstrap import open_app
from aftersales.settings import eventsourcing_env
from aftersales_core.application.principals import principal_id_of
from aftersales_core.application.results import CommandResult
from aftersales_core.application.services import Services
from aftersales_core.domain.ids import requested_case_id
from aftersales_core.errors import ConcurrentChangeError, DomainError
from dispatch.commands import submit
from dispatch.group_commit import GroupCommitter, run_together
from tests.crash_helpers import LINES
from tests.factories import T0, caller, delivered_order

AT = T0 + timedelta(days=5)


def case(n: int, customer: str = "c-1") -> str:
    """The id of the customer's return requested under key ``case-n``."""
    return str(requested_case_id("return", principal_id_of(f"customer-{customer}"),
                                 f"case-{n}"))


def request(n: int, order: str = "o-1", **extra: Any) -> dict[str, Any]:
    return {"command": "RequestReturn", "idempotency_key": f"case-{n}", "order_id": order,
            "reason": "defective", "lines": [{"line_id": "2", "quantity": 1}],
            "at": AT.isoformat(), **extra}


def cancel(n: int) -> dict[str, Any]:
    return {"command": "CancelReturn", "case_id": case(n), "at": (AT + timedelta(hours=1))
            .isoformat()}


def jobs(app: Services, work: list[tuple[str, dict[str, Any]]]
         ) -> list[Callable[[], CommandResult]]:
    callers = {name: caller(app, name) for name, _ in work}
    now = datetime.now(UTC)
    return [lambda name=name, body=body: submit(app, callers[name], body, now)  # type: ignore[misc]
            for name, body in work]


def outcome(done: Any) -> tuple[str, str]:
    if done.error is not None:
        return ("error", type(done.error).__name__)
    return ("ok", f"{done.value.status} v{done.value.version}")


def history(app: Services) -> list[tuple[str, int, str]]:
    return [(str(n.originator_id), n.originator_version, n.topic)
            for n in app.store.recorder.select_notifications(1, 100_000)]


WORK = [
    ("customer-c-1", request(1)),
    ("customer-c-1", cancel(1)),  # the same case, in the same batch: after its request
    ("customer-c-1", cancel(2)),  # no such case yet: refused alone
    ("customer-c-1", request(2)),
    ("customer-c-1", request(2)),  # the same case again: exists already, refused
    ("customer-c-2", request(3)),  # another customer's order: not found, alone
    ("analyst-1", request(4)),  # a role that may not: denied, alone
    ("customer-c-1", {"command": "RequestReturn", "order_id": "o-1"}),  # invalid
    ("customer-c-1", request(5, note="x" * 10)),
    ("customer-c-1", cancel(5)),
]


EXPECTED = ["ok", "ok", "error", "ok", "error", "error", "error", "error", "ok", "ok"]


def test_a_batch_gives_each_command_the_outcome_it_gets_alone_in_one_transaction(
        store_settings: Any, tmp_path: Path) -> None:
    together = open_app(eventsourcing_env(store_settings.database_url,
                                          store_settings.postgres_schema))
    alone = open_app(eventsourcing_env(f"sqlite:///{tmp_path / 'alone.sqlite'}"))
    try:
        for app in (together, alone):
            delivered_order(app, "o-1", lines=LINES, customer_id="c-1")
        inserts: list[int] = []
        recorder = together.store.recorder
        insert = recorder.insert_events

        def counted(stored: Any, **kwargs: Any) -> Any:  # counts the real writes
            inserts.append(len(stored))
            return insert(stored, **kwargs)

        ready, ready_alone = jobs(together, WORK), jobs(alone, WORK)  # principals first
        start = together.store.recorder.max_notification_id() or 0
        base = alone.store.recorder.max_notification_id() or 0
        recorder.insert_events = counted  # type: ignore[method-assign]
        batched = [outcome(d) for d in run_together(together.store, ready)]
        recorder.insert_events = insert  # type: ignore[method-assign]
        written = history(together)[start:]
        assert inserts == [len(written)], "one transaction for the batch"
        one_by_one = [outcome(d) for job in ready_alone
                      for d in run_together(alone.store, [job])]
        assert [b for b, _ in batched] == EXPECTED, batched
        assert batched == one_by_one
        assert [t for _, _, t in written] == [t for _, _, t in history(alone)[base:]]
    finally:
        together.close()
        alone.close()


def complaint(n: int) -> dict[str, Any]:
    """Customer c-1's complaint #n (its case: ``filed(n)``)."""
    return {"command": "FileComplaint", "idempotency_key": f"complaint-{n}", "order_id": "o-1",
            "channel": "chat", "category": "not_as_described", "description": f"#{n}",
            "at": AT.isoformat()}


def filed_case(n: int) -> str:
    return str(requested_case_id("complaint", principal_id_of("customer-c-1"),
                                 f"complaint-{n}"))


def test_a_conflict_with_another_process_reruns_the_batch_on_fresh_state(
        store_settings: Any) -> None:
    env = eventsourcing_env(store_settings.database_url, store_settings.postgres_schema)
    app, other = open_app(env), open_app(env)
    try:
        delivered_order(app, "o-1", lines=LINES, customer_id="c-1")
        first = run_together(app.store, jobs(app, [("customer-c-1", request(1))]))
        assert first[0].error is None
        work = jobs(app, [("customer-c-1", request(2)), ("customer-c-1", cancel(1)),
                          ("customer-c-1", request(3))])
        meddle = jobs(other, [("customer-c-1", cancel(1))])[0]
        meddled: list[CommandResult] = []

        def cancel_while_another_process_does() -> CommandResult:
            result = work[1]()
            if not meddled:  # another process cancels case 1 before the batch is written
                meddled.append(meddle())
            return result

        outcomes = run_together(app.store, [work[0], cancel_while_another_process_does,
                                            work[2]])
        assert [outcome(d)[0] for d in outcomes] == ["ok", "error", "ok"], outcomes
        assert isinstance(outcomes[1].error, DomainError)  # cancelled already, seen afresh
        assert not isinstance(outcomes[1].error, ConcurrentChangeError)
        topics = [t for a, _, t in history(app) if a == case(1)]
        assert topics.count("aftersales.return.Cancelled") == 1
        assert {case(2), case(3)} <= {a for a, _, _ in history(app)}
    finally:
        app.close()
        other.close()


def test_concurrent_callers_are_answered_once_their_batch_is_durable(
        store_settings: Any) -> None:
    env = eventsourcing_env(store_settings.database_url, store_settings.postgres_schema)
    app = open_app(env)
    committer = GroupCommitter(app.store, max_batch=8)
    results: dict[int, str] = {}
    try:
        delivered_order(app, "o-1", customer_id="c-1", lines=LINES)
        work = jobs(app, [("customer-c-1", request(n)) for n in range(24)])

        def call(n: int) -> None:
            result = committer.call(work[n])
            fresh = open_app(env)  # acknowledged: another process sees it
            try:
                results[n] = "durable" if fresh.store.exists(result.case_id) else "not yet"
            finally:
                fresh.close()

        threads = [threading.Thread(target=call, args=(n,)) for n in range(24)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert results == dict.fromkeys(range(24), "durable")
    finally:
        committer.close()
        app.close()


def test_a_batch_reads_what_another_process_wrote_before_it_began(store_settings: Any) -> None:
    """The batch's one catch-up with the store drops what this process cached of aggregates
    another process changed since, so the batch decides on their latest state (and is written
    in one transaction, with no conflict to re-run one by one)."""
    env = eventsourcing_env(store_settings.database_url, store_settings.postgres_schema)
    app, other = open_app(env), open_app(env)
    try:
        delivered_order(app, "o-1", lines=LINES, customer_id="c-1")
        setup = run_together(app.store, jobs(app, [("customer-c-1", request(1)),
                                                   ("customer-c-1", request(2))]))
        assert [d.error for d in setup] == [None, None]
        assert run_together(other.store, jobs(other, [("customer-c-1", cancel(1))]))[0].error \
            is None  # case 1, cached by app, cancelled elsewhere
        work = jobs(app, [("customer-c-1", cancel(1)), ("customer-c-1", cancel(2))])
        inserts: list[int] = []
        recorder = app.store.recorder
        insert = recorder.insert_events

        def counted(stored: Any, **kwargs: Any) -> Any:
            inserts.append(len(stored))
            return insert(stored, **kwargs)

        recorder.insert_events = counted  # type: ignore[method-assign]
        outcomes = run_together(app.store, work)
        recorder.insert_events = insert  # type: ignore[method-assign]
        assert isinstance(outcomes[0].error, DomainError), outcomes  # cancelled already
        assert outcomes[1].error is None
        assert len(inserts) == 1, "decided on fresh state: one transaction, no re-run"
        topics = [t for a, _, t in history(app) if a == case(1)]
        assert topics.count("aftersales.return.Cancelled") == 1
    finally:
        app.close()
        other.close()


def test_a_batch_writes_new_data_keys_in_its_own_transaction(store_settings: Any) -> None:
    """A customer's first personal datum makes their data key; in a batch the key is written
    in the batch's one transaction (no commit of its own), and when another process gave the
    customer a key meanwhile the batch's commands run again one by one under that key."""
    env = eventsourcing_env(store_settings.database_url, store_settings.postgres_schema)
    app, other = open_app(env), open_app(env)
    try:
        for n in (1, 2, 3):
            delivered_order(app, f"o-{n}", lines=LINES, customer_id=f"c-{n}")
        table = app.privacy.keys.table
        separate: list[str] = []
        insert = table.insert

        def counted(row: Any) -> Any:  # the key's own transaction, outside batches
            separate.append(row.subject)
            return insert(row)

        table.insert = counted  # type: ignore[method-assign]
        work = jobs(app, [("customer-c-1", request(1, "o-1", note="the lamp flickers")),
                          ("customer-c-2", request(2, "o-2", note="scratched")),
                          ("customer-c-1", request(3, "o-1", note="again"))])
        assert [d.error for d in run_together(app.store, work)] == [None, None, None]
        assert separate == []
        assert table.counts()["keys"] == 2
        meddle = jobs(app, [("customer-c-3", request(4, "o-3", note="dented"))])[0]

        theirs: list[str] = []

        def while_another_process_keys_c3() -> CommandResult:
            result = meddle()  # sealed under a key made for this batch
            if not theirs:  # another process makes c-3's key first
                theirs.append(other.privacy.keys.key_for("c-3")[0])
            return result

        outcomes = run_together(app.store, [while_another_process_keys_c3])
        assert outcomes[0].error is None  # run again alone, under the other process's key
        current = table.current("c-3")
        assert current is not None and [current.key_id] == theirs
        assert separate == []
        fresh = open_app(env)
        try:
            owners = {1: "c-1", 2: "c-2", 3: "c-1", 4: "c-3"}
            notes = {n: fresh.store.load_any(  # type: ignore[union-attr]
                UUID(case(n, owner))).note.value for n, owner in owners.items()}
        finally:
            fresh.close()
        assert notes == {1: "the lamp flickers", 2: "scratched", 3: "again", 4: "dented"}
    finally:
        app.close()
        other.close()


def test_a_batch_that_keeps_losing_to_another_process_runs_one_by_one(
        store_settings: Any) -> None:
    """Another process writes the batch's order while every attempt decides: after three lost
    batches each command runs alone, and every command is done exactly once."""
    env = eventsourcing_env(store_settings.database_url, store_settings.postgres_schema)
    app, other = open_app(env), open_app(env)
    try:
        delivered_order(app, "o-1", lines=LINES, customer_id="c-1")
        mine = jobs(app, [("customer-c-1", complaint(1)), ("customer-c-1", complaint(2))])
        theirs = iter(jobs(other, [("customer-c-1", complaint(10 + n)) for n in range(9)]))
        meddled: list[CommandResult] = []

        def file_while_another_process_files_too() -> CommandResult:
            result = mine[1]()
            meddled.append(next(theirs)())  # the order moves on under the batch
            return result

        outcomes = run_together(app.store, [mine[0], file_while_another_process_files_too])
        assert [d.error for d in outcomes] == [None, None], outcomes
        assert len(meddled) == 4  # three lost batches, then alone
        filed = [a for a, _, t in history(app) if t == "aftersales.complaint.Filed"]
        assert sorted(filed) == sorted([filed_case(1), filed_case(2),
                                        *(filed_case(10 + n) for n in range(4))])
    finally:
        app.close()
        other.close()
