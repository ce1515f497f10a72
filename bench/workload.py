"""A realistic after-sales workload: delivered orders, then returns, refunds and complaints.

Shared by the benchmarks that need a populated store (commands, relay, replay)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from consumers.translate import apply_upstream

from aftersales.settings import eventsourcing_env
from aftersales_core.application.services import Services
from aftersales_core.domain.ids import case_id_for
from bench.messages import T0, customer_of, delivered_order_messages, order_id_of
from schemas.inbound import ANY_INBOUND

#: Business time of the first command: two days after delivery, inside every return window.
COMMANDS_AT = T0 + timedelta(days=5)


def new_app(path: Path) -> Services:
    """The application on a fresh SQLite file, configured as aftersales.bootstrap does."""
    return Services(env=eventsourcing_env(f"sqlite:///{path}"))


def ingest_orders(app: Services, count: int, prefix: str = "bo") -> list[str]:
    """Place, pay, ship and deliver ``count`` orders (five upstream messages each)."""
    order_ids = []
    for index in range(count):
        order_id = order_id_of(index, prefix)
        for message in delivered_order_messages(order_id, customer_of(index)):
            apply_upstream(app, ANY_INBOUND.validate_python(message))
        order_ids.append(order_id)
    return order_ids


@dataclass(frozen=True)
class Command:
    """One application call, prepared in advance so that building it is not timed."""

    name: str
    method: Callable[..., Any]
    kwargs: dict[str, Any]

    def __call__(self) -> Any:
        return self.method(**self.kwargs)


def _script(app: Services, order_id: str, customer_id: str) -> list[Command]:
    """The commands of one order's after-sales life, in order (18 commands, 3 cases + 1)."""
    ret, goodwill, complaint = uuid4(), uuid4(), uuid4()
    return_refund: UUID = case_id_for("refund", f"return:{ret}")

    def at(hours: float) -> datetime:
        return COMMANDS_AT + timedelta(hours=hours)

    def c(name: str, method: Callable[..., Any], **kwargs: Any) -> Command:
        return Command(name, method, kwargs)

    return [
        c("RequestReturn", app.request_return, case_id=ret, order_id=order_id,
          lines=[{"line_id": "2", "quantity": 1}], reason="defective", outcome="refund",
          requested_by=customer_id, at=at(0), note="the lamp flickers",
          evidence=["https://img.example/1.jpg"]),
        c("FileComplaint", app.file_complaint, case_id=complaint, customer_id=customer_id,
          order_id=order_id, channel="chat", category="not_as_described",
          description="the mugs are a different colour", filed_by=customer_id, at=at(0.5)),
        c("IssueReturnLabel", app.issue_return_label, case_id=ret, by="agent-7", carrier="DHL",
          tracking_number=f"RT-{order_id}", at=at(1), cost=Decimal("6.50")),
        c("AcknowledgeComplaint", app.acknowledge_complaint, case_id=complaint, agent="agent-3",
          at=at(1.5), message="Sorry to hear that, we are looking into it."),
        c("RequestRefund", app.request_refund, case_id=goodwill, order_id=order_id,
          source="goodwill", reason="late delivery", requested_by="agent-3", at=at(2),
          amount=Decimal("5.00")),
        c("AddComplaintMessage", app.add_complaint_message, case_id=complaint, direction="in",
          author=customer_id, text="photo attached", at=at(2.5)),
        c("IssueRefund", app.issue_refund, case_id=goodwill, by="agent-3", at=at(3)),
        c("ProposeResolution", app.propose_resolution, case_id=complaint, agent="agent-3",
          resolution="apology", at=at(3.5), note="a voucher for next time"),
        c("ConfirmRefundSettled", app.confirm_refund_settled, case_id=goodwill,
          provider_ref=f"psp-g-{order_id}", at=at(4)),
        c("RespondToProposal", app.respond_to_proposal, case_id=complaint, accepted=True,
          by=customer_id, at=at(4.5)),
        c("ReceiveReturn", app.receive_return, case_id=ret, by="wh-1", at=at(72)),
        c("ResolveComplaint", app.resolve_complaint, case_id=complaint, by="agent-3",
          summary="apology accepted", at=at(72.5)),
        c("InspectReturn", app.inspect_return, case_id=ret, by="wh-1", grade="B",
          findings="flickers, housing scratched", at=at(73)),
        c("CloseComplaint", app.close_complaint, case_id=complaint, by="agent-3", at=at(73.5),
          satisfaction=4),
        c("ResolveReturn", app.resolve_return, case_id=ret, by="agent-7", at=at(74)),
        c("IssueRefund", app.issue_refund, case_id=return_refund, by="agent-7", at=at(75)),
        c("ConfirmRefundSettled", app.confirm_refund_settled, case_id=return_refund,
          provider_ref=f"psp-r-{order_id}", at=at(76)),
        c("CloseReturn", app.close_return, case_id=ret, by="agent-7", at=at(77)),
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
    return app.recorder.max_notification_id() or 0
