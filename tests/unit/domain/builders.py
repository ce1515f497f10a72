"""Hand-built policy decisions, business times and replay helpers for the domain unit tests.

The aggregates only read a decision's ``outcome`` and a few ``details``; the decisions here carry
exactly those, so a test says which outcome it wants without running a policy.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from eventsourcing.domain import Aggregate

from aftersales_core.decisions import PolicyDecision
from aftersales_core.domain.actor import Actor

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SHIP_BACK_BY = (T0 + timedelta(days=45)).isoformat()

A = TypeVar("A", bound=Aggregate)


def decision(
    policy_id: str,
    outcome: str,
    *,
    details: dict[str, Any] | None = None,
    reasons: tuple[str, ...] = ("because the test says so",),
) -> PolicyDecision:
    return PolicyDecision(
        policy_id=policy_id,
        policy_version=1,
        inputs={"test": True},
        outcome=outcome,
        reasons=reasons,
        rules=(f"{policy_id}.rule",),
        details=dict(details or {}),
    )


def eligibility(
    outcome: str = "approve", ship_back_by: str | None = SHIP_BACK_BY
) -> PolicyDecision:
    return decision(
        "return.eligibility",
        outcome,
        details={"regime": "eu_withdrawal", "ship_back_by": ship_back_by},
    )


def abuse(outcome: str = "ok") -> PolicyDecision:
    return decision("buyer.abuse_signal", outcome, details={"return_rate": "0.1"})


def shipping(payer: str = "merchant", returnless: bool = False) -> PolicyDecision:
    return decision("return.shipping", payer, details={"payer": payer, "returnless": returnless})


def disposition(outcome: str = "restock") -> PolicyDecision:
    return decision("return.disposition", outcome, details={"disposition": outcome})


def calculation(
    total: str = "42.00", outcome: str = "calculated", currency: str = "EUR"
) -> PolicyDecision:
    return decision(
        "refund.calculation",
        outcome,
        details={"total": total, "currency": currency, "components": {"items": total}},
    )


def approval(outcome: str) -> PolicyDecision:
    return decision("refund.approval", outcome)


def triage(priority: str = "normal") -> PolicyDecision:
    return decision("complaint.triage", priority, details={"priority": priority})


def state_of(aggregate: Aggregate) -> dict[str, Any]:
    """Everything an aggregate holds except its pending events."""
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def snapshot(aggregate: A) -> A:
    return copy.deepcopy(aggregate)


def replay(events: Iterable[Any]) -> Any:
    """A fresh aggregate built from events alone, the way a repository does it."""
    aggregate = None
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def who(name: str, role: str = "agent") -> Actor:
    """An actor: in the domain, a principal's id and the role it acted in."""
    return Actor(name, role)


SCHEDULER = who("system.scheduler", "scheduler")
AGENT = who("agent-1", "agent")
SUPERVISOR = who("supervisor-1", "supervisor")
CUSTOMER = who("c-1", "customer")
PAYMENTS = who("psp", "payments")
WAREHOUSE = who("warehouse", "warehouse")
CARRIER = who("carrier-1", "carrier")
UPSTREAM = who("orders-service", "upstream")
