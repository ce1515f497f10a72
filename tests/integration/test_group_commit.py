"""Group commit (issue 15): commands ready together are decided in memory and written in one
transaction; each gets the outcome it would get alone, in order; a refused, denied or invalid
one never affects its batch-mates; a conflict with another process re-runs the batch's
commands one by one on fresh state; concurrent callers are acknowledged after their batch is
durable. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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


def case(n: int) -> str:
    """The id of customer c-1's return requested under key ``case-n``."""
    return str(requested_case_id("return", principal_id_of("customer-c-1"), f"case-{n}"))


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


def test_a_conflict_with_another_process_reruns_the_batch_one_by_one(
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
