"""Several processes acting on one case or order at once: one wins, no refund is issued or
reserved twice, no unit is returned twice."""

from __future__ import annotations

import multiprocessing as mp
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from aftersales.bootstrap import open_app
from aftersales.settings import Settings, eventsourcing_env
from aftersales_core.application.access import Caller
from aftersales_core.application.principals import principal_id_of
from aftersales_core.application.services import Services
from aftersales_core.domain.ids import order_aggregate_id
from aftersales_core.domain.order import Order
from aftersales_core.domain.returns import ReturnCase
from aftersales_core.errors import DomainError
from dispatch.commands import submit
from tests.factories import T0, caller, delivered_order

AT = T0 + timedelta(days=6)
WORKERS = 4


def _worker(
    env: dict[str, str], work: tuple[str, dict[str, Any]], barrier: Any, out: Any
) -> None:
    name, command = work
    app = open_app(env)
    barrier.wait()
    try:
        result = submit(app, Caller(principal_id_of(name), AT), command, AT)
        out.put(("ok" if result.applied else "already recorded", result.status))
    except DomainError as error:
        out.put((type(error).__name__, str(error)))
    finally:
        app.close()


def run_at_once(
    env: dict[str, str], commands: list[tuple[str, dict[str, Any]]]
) -> list[tuple[str, str]]:
    """Each (principal name, command body) in its own process, all released at once."""
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(len(commands)), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(env, c, barrier, out)) for c in commands]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    return results


def test_only_one_of_several_processes_issues_the_same_refund(
    app: Services, store_settings: Settings
) -> None:
    delivered_order(app)
    refund_id = uuid4()
    app.refunds.request(
        caller(app, "agent-1"),
        case_id=refund_id,
        order_id="o-1",
        source="goodwill",
        reason="sorry",
        at=AT,
        amount=Decimal("30.00"),
    )
    env = eventsourcing_env(store_settings.database_url, store_settings.postgres_schema)
    command = {
        "command": "IssueRefund",
        "case_id": str(refund_id),
        "at": AT.isoformat(),
    }
    results = run_at_once(env, [("payments-1", command)] * WORKERS)
    assert [r[0] for r in results].count("ok") == 1, results
    # the others, retried on fresh state, find it issued: acknowledged, nothing stored
    assert {r[0] for r in results} <= {"ok", "already recorded", "IllegalTransitionError",
                                       "ConcurrentChangeError"}
    issued = [e for e in app.store.events.get(refund_id) if type(e).__name__ == "Issued"]
    assert len(issued) == 1


def test_concurrent_refund_requests_never_reserve_more_than_was_paid(
    app: Services, store_settings: Settings
) -> None:
    delivered_order(app)  # 124.00 EUR paid
    env = eventsourcing_env(store_settings.database_url, store_settings.postgres_schema)
    caller(app, "agent-1")  # the cast of principals exists before the race
    commands = [
        (
            agent,
            {
                "command": "RequestRefund",
                "order_id": "o-1",
                "source": "goodwill",
                "reason": "sorry",
                "amount": "50.00",
                "at": AT.isoformat(),
            },
        )
        for agent in ("agent-1", "agent-2", "agent-3", "agent-7")[:WORKERS]
    ]
    results = run_at_once(env, commands)
    assert all(kind == "ok" for kind, _ in results), results
    order = app.store.load(Order, order_aggregate_id("o-1"))
    assert order.refunded.amount == Decimal("124.00")  # 50 + 50 + 24 (capped) + 0 (rejected)
    assert sorted(order.refunds.values()) == [Decimal("24.00"), Decimal("50.00"), Decimal("50.00")]


def test_concurrent_returns_of_one_line_never_reserve_more_units_than_were_ordered(
    app: Services, store_settings: Settings
) -> None:
    delivered_order(app)  # line 1: 2 mugs
    caller(app, "customer-c-1")  # the customer's principal exists before the race
    env = eventsourcing_env(store_settings.database_url, store_settings.postgres_schema)
    commands = [
        (
            "customer-c-1",
            {
                "command": "RequestReturn",
                "order_id": "o-1",
                "lines": [{"line_id": "1", "quantity": 1}],
                "reason": "changed_mind",
                "at": AT.isoformat(),
            },
        )
        for _ in range(WORKERS)
    ]
    results = run_at_once(env, commands)
    assert all(kind == "ok" for kind, _ in results), results
    assert sorted(status for _, status in results) == ["approved", "approved", "rejected",
                                                       "rejected"]
    order = app.store.load(Order, order_aggregate_id("o-1"))
    assert order.units_in_returns("1") == 2
    for case_id in order.case_ids("return"):
        case = app.store.load(ReturnCase, UUID(case_id))
        if case.status == "rejected":  # with the reason recorded, and nothing reserved
            assert "return.quantity_left" in case.decisions[0].rules
            assert case_id not in order.returned
