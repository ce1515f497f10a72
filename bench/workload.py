"""A realistic after-sales workload: delivered orders, then returns, refunds and complaints,
each command sent by the principal who would send it (the customer, agents, the warehouse, the
payment provider), so its time includes the access check.

Shared by the benchmarks that need a populated store (commands, relay, replay)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from aftersales.bootstrap import open_app
from aftersales.settings import eventsourcing_env
from aftersales_core.application.access import Caller
from aftersales_core.application.principals import principal_id_of
from aftersales_core.application.services import Services
from aftersales_core.domain.ids import case_id_for, requested_case_id
from aftersales_core.errors import AlreadyExistsError, PrincipalExistsError
from bench.messages import T0, customer_of, delivered_order_messages, order_id_of
from dispatch.group_commit import run_together
from dispatch.upstream import apply_upstream
from schemas.inbound import ANY_INBOUND

ADMIN = "bench-admin"
STAFF = {"agent-3": "agent", "agent-7": "agent", "wh-1": "warehouse", "psp-1": "payments"}

#: Business time of the first command: two days after delivery, inside every return window.
COMMANDS_AT = T0 + timedelta(days=5)


def new_app(path: Path) -> Services:
    """The application on a fresh SQLite file, composed as aftersales.bootstrap does, with the
    bench's administrator and staff principals."""
    return with_staff(open_app(eventsourcing_env(f"sqlite:///{path}")))


def with_staff(app: Services) -> Services:
    """The bench's administrator and staff principals, in a new store (untimed)."""
    app.principals.bootstrap(ADMIN, T0)
    for name, role in STAFF.items():
        app.principals.add(as_principal(ADMIN), name, [role], T0)
    return app


def as_principal(name: str) -> Caller:
    return Caller(principal_id_of(name), T0, "bench")


def customer_principal(app: Services, customer_id: str) -> Caller:
    """The customer's own principal (created the first time)."""
    name = f"customer-{customer_id}"
    if not app.store.exists(principal_id_of(name)):
        app.principals.add(as_principal(ADMIN), name, ["customer"], T0, customer_id=customer_id)
    return as_principal(name)


def ingest_orders(app: Services, count: int, prefix: str = "bo", start: datetime = T0
                  ) -> list[str]:
    """Place (at ``start``), pay, ship and deliver ``count`` orders (five upstream messages
    each), as the inbound consumer does (principal system.upstream)."""
    upstream = Caller(app.principals.ensure_system("system.upstream", T0), T0, "bench")
    order_ids = []
    for index in range(count):
        order_id = order_id_of(index, prefix)
        for message in delivered_order_messages(order_id, customer_of(index), start):
            apply_upstream(app, upstream, ANY_INBOUND.validate_python(message))
        customer_principal(app, customer_of(index))
        order_ids.append(order_id)
    return order_ids


def ingest_in_batches(app: Services, count: int, prefix: str = "bo", batch: int = 500
                      ) -> list[str]:
    """``ingest_orders`` as group commit does it: the upstream messages and the customers'
    principals of ``batch`` at a time in one transaction (for stores that are slow to fill one
    transaction at a time, such as PostgreSQL). Principals that exist already are kept."""
    upstream = Caller(app.principals.ensure_system("system.upstream", T0), T0, "bench")
    if not app.store.exists(principal_id_of(ADMIN)):
        with_staff(app)
    jobs: list[Callable[[], object]] = []
    order_ids = []
    for index in range(count):
        order_id = order_id_of(index, prefix)
        order_ids.append(order_id)
        jobs += [partial(apply_upstream, app, upstream, ANY_INBOUND.validate_python(message))
                 for message in delivered_order_messages(order_id, customer_of(index))]
        jobs.append(partial(app.principals.add, as_principal(ADMIN),
                            f"customer-{customer_of(index)}", ["customer"], T0,
                            customer_id=customer_of(index)))
    for start in range(0, len(jobs), batch):
        failed = [done.error for done in run_together(app.store, jobs[start:start + batch])
                  if done.error is not None
                  and not isinstance(done.error, (AlreadyExistsError, PrincipalExistsError))]
        if failed:
            raise RuntimeError(f"ingest: {failed[0]}")
    return order_ids


@dataclass(frozen=True)
class Command:
    """One application call, prepared in advance so that building it is not timed."""

    name: str
    method: Callable[..., Any]
    caller: Caller
    kwargs: dict[str, Any]
    #: A customer opens a case under an idempotency key (never a case id of its choosing):
    #: over the wire the key is sent and ``case_id`` is what the engine derives from it.
    idempotency_key: str | None = None

    def __call__(self) -> Any:
        return self.method(self.caller, **self.kwargs)


def _script(app: Services, order_id: str, customer_id: str) -> list[Command]:
    """The commands of one order's after-sales life, in order (18 commands, 3 cases + 1)."""
    buyer = as_principal(f"customer-{customer_id}")
    ret_key, complaint_key = f"return-{uuid4()}", f"complaint-{uuid4()}"
    ret = requested_case_id("return", buyer.principal_id, ret_key)
    complaint = requested_case_id("complaint", buyer.principal_id, complaint_key)
    goodwill = uuid4()
    return_refund: UUID = case_id_for("refund", f"return:{ret}")

    def at(hours: float) -> datetime:
        return COMMANDS_AT + timedelta(hours=hours)

    def c(name: str, method: Callable[..., Any], who: Caller, key: str | None = None,
          **kwargs: Any) -> Command:
        return Command(name, method, who, kwargs, key)

    agent3, agent7, wh, psp = (as_principal(n) for n in ("agent-3", "agent-7", "wh-1", "psp-1"))
    returns, refunds, complaints = app.returns, app.refunds, app.complaints
    return [
        c("RequestReturn", returns.request, buyer, ret_key, case_id=ret, order_id=order_id,
          lines=[{"line_id": "2", "quantity": 1}], reason="defective", outcome="refund",
          at=at(0), note="the lamp flickers", evidence=["https://img.example/1.jpg"]),
        c("FileComplaint", complaints.file, buyer, complaint_key, case_id=complaint,
          order_id=order_id,
          channel="chat", category="not_as_described",
          description="the mugs are a different colour", at=at(0.5)),
        c("IssueReturnLabel", returns.issue_label, agent7, case_id=ret, carrier="DHL",
          tracking_number=f"RT-{order_id}", at=at(1), cost=Decimal("6.50")),
        c("AcknowledgeComplaint", complaints.acknowledge, agent3, case_id=complaint,
          at=at(1.5), message="Sorry to hear that, we are looking into it."),
        c("RequestRefund", refunds.request, agent3, case_id=goodwill, order_id=order_id,
          source="goodwill", reason="late delivery", at=at(2), amount=Decimal("5.00")),
        c("AddComplaintMessage", complaints.add_message, buyer, case_id=complaint,
          direction="in", text="photo attached", at=at(2.5)),
        c("IssueRefund", refunds.issue, psp, case_id=goodwill, at=at(3)),
        c("ProposeResolution", complaints.propose, agent3, case_id=complaint,
          resolution="apology", at=at(3.5), note="a voucher for next time"),
        c("ConfirmRefundSettled", refunds.confirm_settled, psp, case_id=goodwill,
          provider_ref=f"psp-g-{order_id}", at=at(4)),
        c("RespondToProposal", complaints.respond, buyer, case_id=complaint, accepted=True,
          at=at(4.5)),
        c("ReceiveReturn", returns.receive, wh, case_id=ret, at=at(72)),
        c("ResolveComplaint", complaints.resolve, agent3, case_id=complaint,
          summary="apology accepted", at=at(72.5)),
        c("InspectReturn", returns.inspect, wh, case_id=ret, grade="B",
          findings="flickers, housing scratched", at=at(73)),
        c("CloseComplaint", complaints.close, agent3, case_id=complaint, at=at(73.5),
          satisfaction=4),
        c("ResolveReturn", app.resolutions.resolve, agent7, case_id=ret, at=at(74)),
        c("IssueRefund", refunds.issue, psp, case_id=return_refund, at=at(75)),
        c("ConfirmRefundSettled", refunds.confirm_settled, psp, case_id=return_refund,
          provider_ref=f"psp-r-{order_id}", at=at(76)),
        c("CloseReturn", returns.close, agent7, case_id=ret, at=at(77)),
    ]  # fmt: skip


COMMANDS_PER_ORDER = 18


def command_mix(app: Services, order_ids: list[str]) -> list[Command]:
    """Every order's script, interleaved step by step: many cases in flight at once."""
    scripts = [_script(app, order_id, customer_of(i)) for i, order_id in enumerate(order_ids)]
    return [script[step] for step in range(COMMANDS_PER_ORDER) for script in scripts]


def populate(app: Services, orders: int, prefix: str = "bo") -> int:
    """Ingest ``orders`` orders and run their command mix (untimed); returns the events stored."""
    for command in command_mix(app, ingest_orders(app, orders, prefix)):
        command()
    return app.store.recorder.max_notification_id() or 0
