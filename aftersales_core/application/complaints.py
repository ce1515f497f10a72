"""Complaint commands: file (triage), acknowledge, messages, proposals, escalate, resolve."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from aftersales_core.application.base import CommandResult, result
from aftersales_core.application.refunds import RefundServices
from aftersales_core.decisions import PolicyDecision
from aftersales_core.domain.base import require_aware
from aftersales_core.domain.complaints import ComplaintCase
from aftersales_core.domain.customer import Customer
from aftersales_core.domain.ids import case_id_for
from aftersales_core.domain.order import Order
from aftersales_core.errors import AlreadyExistsError, InvalidCommandError, UnknownOrderError
from aftersales_core.money import Money
from aftersales_core.personal import PersonalData


def triage_inputs(
    channel: str, category: str, at: datetime, order: Order | None, prior_complaints: int
) -> dict[str, Any]:
    return {
        "channel": channel,
        "category": category,
        "filed_at": at.isoformat(),
        "market": order.market if order else None,
        "order_value": str(order.total) if order else None,
        "currency": order.currency if order else None,
        "prior_complaints": prior_complaints,
    }


class ComplaintServices(RefundServices):
    def file_complaint(
        self,
        case_id: UUID,
        customer_id: str,
        channel: str,
        category: str,
        description: str,
        filed_by: str,
        at: datetime,
        order_id: str | None = None,
    ) -> CommandResult:
        order = self.placed_order(order_id, opening_at=at) if order_id else None
        customer = self.customer(customer_id, at)
        complaint = self.build_complaint(
            case_id,
            order,
            customer,
            channel=channel,
            category=category,
            description=description,
            filed_by=filed_by,
            at=at,
        )
        self.save_all(complaint, customer, *([order] if order else []))
        return result(complaint, list(complaint.decisions))

    def build_complaint(
        self,
        case_id: UUID,
        order: Order | None,
        customer: Customer,
        *,
        channel: str,
        category: str,
        description: str,
        filed_by: str,
        at: datetime,
        cause: PolicyDecision | None = None,
    ) -> ComplaintCase:
        """File and triage a complaint; a proactive one records the decision that opened it.

        The caller saves the complaint with ``customer`` and ``order`` (both are changed)."""
        require_aware(at)
        if self.exists(case_id):
            raise AlreadyExistsError(f"complaint case {case_id} exists already")
        if order is not None and order.customer_id != customer.customer_id:
            # the same answer as for an order that does not exist: nothing leaks
            raise UnknownOrderError(f"customer {customer.customer_id} has no order "
                                    f"{order.order_id!r}")
        triage = self.rules_for(order).evaluate(
            "complaint.triage", triage_inputs(channel, category, at, order, customer.complaints)
        )
        complaint = ComplaintCase(
            id=case_id,
            customer_id=customer.customer_id,
            order_id=order.order_id if order else None,
            channel=channel,
            category=category,
            description=PersonalData(customer.customer_id, description),
            filed_by=filed_by,
            proactive=cause is not None,
            timestamp=at,
        )
        if cause is not None:
            complaint.record_decision(decision=cause, timestamp=at)
        complaint.triage(triage, at)
        customer.add_complaint(case_id=str(case_id), timestamp=max(at, customer.modified_on))
        if order is not None:
            order.link_case(
                case_id=str(case_id), kind="complaint", timestamp=max(at, order.modified_on)
            )
        return complaint

    def acknowledge_complaint(
        self, case_id: UUID, agent: str, at: datetime, message: str | None = None
    ) -> CommandResult:
        complaint = self.load(ComplaintCase, case_id)
        text = PersonalData(complaint.customer_id, message) if message else None
        complaint.acknowledge(agent=agent, message=text, at=at)
        self.save_all(complaint)
        return result(complaint)

    def add_complaint_message(
        self,
        case_id: UUID,
        direction: str,
        author: str,
        text: str,
        at: datetime,
        channel: str | None = None,
        awaiting_customer: bool = False,
    ) -> CommandResult:
        complaint = self.load(ComplaintCase, case_id)
        complaint.add_message(
            direction=direction,
            channel=channel or complaint.channel,
            author=author,
            text=PersonalData(complaint.customer_id, text),
            at=at,
            awaiting_customer=awaiting_customer,
        )
        self.save_all(complaint)
        return result(complaint)

    def propose_resolution(
        self,
        case_id: UUID,
        agent: str,
        resolution: str,
        at: datetime,
        amount: Decimal | None = None,
        note: str | None = None,
    ) -> CommandResult:
        complaint = self.load(ComplaintCase, case_id)
        money = None
        if amount is not None:
            if complaint.order_id is None:
                raise InvalidCommandError("amount: a complaint without an order has no currency")
            currency = self.placed_order(complaint.order_id).currency
            assert currency is not None
            money = Money.exact(amount, currency)
        complaint.propose(agent=agent, resolution=resolution, amount=money, note=note, at=at)
        self.save_all(complaint)
        return result(complaint)

    def respond_to_proposal(
        self, case_id: UUID, accepted: bool, by: str, at: datetime
    ) -> CommandResult:
        """An accepted refund proposal opens its RefundCase in the same transaction."""
        complaint = self.load(ComplaintCase, case_id)
        proposal = complaint.proposal
        complaint.respond(accepted=accepted, by=by, at=at)
        if not (accepted and proposal and proposal["resolution"] in ("refund", "partial_refund")):
            self.save_all(complaint)
            return result(complaint)
        assert complaint.order_id is not None
        refund_id = case_id_for("refund", f"complaint:{complaint.id}:{complaint.version}")
        order = self.placed_order(complaint.order_id)
        refund = self.build_refund(
            refund_id,
            order,
            source="complaint",
            source_case_id=str(complaint.id),
            lines=[],
            amount=proposal["amount"].amount,
            reason=f"complaint {complaint.category}",
            requested_by=by,
            at=at,
        )
        self.save_all(complaint, refund, order)
        return result(complaint, list(refund.decisions), refund_case_id=str(refund_id))

    def escalate_complaint(
        self, case_id: UUID, by: str, level: str, reason: str, at: datetime
    ) -> CommandResult:
        complaint = self.load(ComplaintCase, case_id)
        complaint.escalate(by=by, level=level, reason=reason, at=at)
        self.save_all(complaint)
        return result(complaint)

    def resolve_complaint(
        self, case_id: UUID, by: str, summary: str, at: datetime, refund_case_id: str | None = None
    ) -> CommandResult:
        complaint = self.load(ComplaintCase, case_id)
        complaint.resolve(by=by, summary=summary, refund_case_id=refund_case_id, at=at)
        self.save_all(complaint)
        return result(complaint)

    def close_complaint(
        self, case_id: UUID, by: str, at: datetime, satisfaction: int | None = None
    ) -> CommandResult:
        complaint = self.load(ComplaintCase, case_id)
        complaint.close(by=by, satisfaction=satisfaction, at=at)
        self.save_all(complaint)
        return result(complaint)

    def reopen_complaint(self, case_id: UUID, by: str, reason: str, at: datetime) -> CommandResult:
        complaint = self.load(ComplaintCase, case_id)
        complaint.reopen(by=by, reason=reason, at=at)
        order = self.placed_order(complaint.order_id) if complaint.order_id else None
        prior = self.customer(complaint.customer_id, at).complaints
        triage = self.rules_for(order).evaluate(
            "complaint.triage",
            triage_inputs(complaint.channel, complaint.category, at, order, prior),
        )
        complaint.triage(triage, at)
        self.save_all(complaint)
        return result(complaint, [triage])
