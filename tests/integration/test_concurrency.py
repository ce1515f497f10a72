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
from aftersales_core.application.app import AfterSalesApp
from aftersales_core.domain.ids import order_aggregate_id
from aftersales_core.domain.order import Order
from aftersales_core.domain.returns import ReturnCase
from aftersales_core.errors import DomainError
from consumers.translate import execute
from schemas.commands import COMMAND
from tests.factories import T0, delivered_order

AT = T0 + timedelta(days=6)
WORKERS = 4


def _worker(env: dict[str, str], command: dict[str, Any], barrier: Any, out: Any) -> None:
    app = open_app(env)
    barrier.wait()
    try:
        result = execute(app, COMMAND.validate_python(command), AT)
        out.put(("ok", result.status))
    except DomainError as error:
        out.put((type(error).__name__, str(error)))
    finally:
        app.close()


def run_at_once(env: dict[str, str], commands: list[dict[str, Any]]) -> list[tuple[str, str]]:
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
    app: AfterSalesApp, store_settings: Settings
) -> None:
    delivered_order(app)
    refund_id = uuid4()
    app.request_refund(
        case_id=refund_id,
        order_id="o-1",
        source="goodwill",
        reason="sorry",
        requested_by="agent-1",
        at=AT,
        amount=Decimal("30.00"),
    )
    env = eventsourcing_env(store_settings.database_url, store_settings.postgres_schema)
    command = {
        "command": "IssueRefund",
        "case_id": str(refund_id),
        "by": "agent-2",
        "at": AT.isoformat(),
    }
    results = run_at_once(env, [command] * WORKERS)
    assert [r[0] for r in results].count("ok") == 1, results
    assert {r[0] for r in results} <= {"ok", "IllegalTransitionError", "ConcurrentChangeError"}
    issued = [e for e in app.events.get(refund_id) if type(e).__name__ == "Issued"]
    assert len(issued) == 1


def test_concurrent_refund_requests_never_reserve_more_than_was_paid(
    app: AfterSalesApp, store_settings: Settings
) -> None:
    delivered_order(app)  # 124.00 EUR paid
    env = eventsourcing_env(store_settings.database_url, store_settings.postgres_schema)
    commands = [
        {
            "command": "RequestRefund",
            "order_id": "o-1",
            "source": "goodwill",
            "reason": "sorry",
            "requested_by": f"agent-{i}",
            "amount": "50.00",
            "at": AT.isoformat(),
        }
        for i in range(WORKERS)
    ]
    results = run_at_once(env, commands)
    assert all(kind == "ok" for kind, _ in results), results
    order = app.load(Order, order_aggregate_id("o-1"))
    assert order.refunded.amount == Decimal("124.00")  # 50 + 50 + 24 (capped) + 0 (rejected)
    assert sorted(order.refunds.values()) == [Decimal("24.00"), Decimal("50.00"), Decimal("50.00")]


def test_concurrent_returns_of_one_line_never_reserve_more_units_than_were_ordered(
    app: AfterSalesApp, store_settings: Settings
) -> None:
    delivered_order(app)  # line 1: 2 mugs
    env = eventsourcing_env(store_settings.database_url, store_settings.postgres_schema)
    commands = [
        {
            "command": "RequestReturn",
            "order_id": "o-1",
            "lines": [{"line_id": "1", "quantity": 1}],
            "reason": "changed_mind",
            "requested_by": "c-1",
            "at": AT.isoformat(),
        }
        for _ in range(WORKERS)
    ]
    results = run_at_once(env, commands)
    assert all(kind == "ok" for kind, _ in results), results
    assert sorted(status for _, status in results) == ["approved", "approved", "rejected",
                                                       "rejected"]
    order = app.load(Order, order_aggregate_id("o-1"))
    assert order.units_in_returns("1") == 2
    for case_id in order.case_ids("return"):
        case = app.load(ReturnCase, UUID(case_id))
        if case.status == "rejected":  # with the reason recorded, and nothing reserved
            assert "return.quantity_left" in case.decisions[0].rules
            assert case_id not in order.returned
