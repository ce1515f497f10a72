"""Complaint commands: file (triage), acknowledge, messages, proposals, escalate, resolve."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from aftersales_core.application.access import Access, Caller
from aftersales_core.application.refunds import RefundService
from aftersales_core.application.results import CommandResult, result
from aftersales_core.application.store import Store, check_opening, unknown_order
from aftersales_core.application.unit_of_work import UnitOfWork
from aftersales_core.decisions import PolicyDecision
from aftersales_core.domain.actor import Actor
from aftersales_core.domain.base import require_aware
from aftersales_core.domain.complaints import REFUNDS, ComplaintCase
from aftersales_core.domain.customer import Customer
from aftersales_core.domain.ids import case_id_for, check_customer_id
from aftersales_core.domain.order import Order
from aftersales_core.errors import (
    AlreadyExistsError,
    InvalidCommandError,
    NotAuthorisedError,
    RefundCapExceededError,
    UnknownOrderError,
)
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
        "buyer_timezone": order.buyer_timezone if order else None,  # v3 counts days in it
    }


class ComplaintService:
    def __init__(
        self, store: Store, work: UnitOfWork, access: Access, refunds: RefundService
    ) -> None:
        self.store, self.work, self.access, self.refunds = store, work, access, refunds

    def file(
        self,
        caller: Caller,
        case_id: UUID,
        channel: str,
        category: str,
        description: str,
        at: datetime,
        customer_id: str | None = None,
        order_id: str | None = None,
        staff_fields: Sequence[str] = (),
    ) -> CommandResult:
        """File a complaint for ``customer_id`` (a customer files for themselves: their own id
        when it is left out), about one of that customer's orders or none. ``staff_fields``
        names the fields of the command only staff may set (a customer's carrying one is
        denied)."""
        principal = self.access.may_try(caller, "FileComplaint")
        order = self.access.placed_order(caller, principal, "FileComplaint", order_id, {
            "staff_fields": list(staff_fields)}) if order_id else None
        subject = customer_id or (order.customer_id if order else None) or principal.customer_id
        facts = {"customer_id": order.customer_id if order else subject, "order_id": order_id,
                 "staff_fields": list(staff_fields)}
        grant = self.access.require(
            caller,
            "FileComplaint",
            facts,
            hidden=(lambda: unknown_order(order_id))
            if order_id
            else (lambda: NotAuthorisedError("customers file complaints for themselves only")),
            principal=principal,
        )
        if subject is None:
            raise InvalidCommandError("customer_id: name the customer the complaint is for")
        check_customer_id(subject)  # never the marker erased rows read as
        if grant.actor.role == "customer" and subject != principal.customer_id:
            raise NotAuthorisedError("customers file complaints for themselves only")
        if order is not None:
            check_opening(order, at)
        customer = self.store.customer(subject, at)
        complaint = self.open(
            case_id,
            order,
            customer,
            channel=channel,
            category=category,
            description=description,
            actor=grant.actor,
            at=at,
        )
        self.work.commit(complaint, customer, *([order] if order else []))
        return result(complaint, list(complaint.decisions))

    def open(
        self,
        case_id: UUID,
        order: Order | None,
        customer: Customer,
        *,
        channel: str,
        category: str,
        description: str,
        actor: Actor,
        at: datetime,
        cause: PolicyDecision | None = None,
    ) -> ComplaintCase:
        """File and triage a complaint; a proactive one records the decision that opened it.

        The caller commits the complaint with ``customer`` and ``order`` (both are changed)."""
        require_aware(at)
        if self.store.exists(case_id):
            raise AlreadyExistsError(f"complaint case {case_id} exists already")
        if order is not None and order.customer_id != customer.customer_id:
            # the same answer as for an order that does not exist: nothing leaks
            raise UnknownOrderError(f"customer {customer.customer_id} has no order "
                                    f"{order.order_id!r}")
        triage = self.store.rules_for(order).evaluate(
            "complaint.triage", triage_inputs(channel, category, at, order, customer.complaints)
        )
        complaint = ComplaintCase(
            id=case_id,
            customer_id=customer.customer_id,
            order_id=order.order_id if order else None,
            channel=channel,
            category=category,
            description=PersonalData(customer.customer_id, description),
            by=actor.principal_id,
            role=actor.role,
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

    def acknowledge(
        self, caller: Caller, case_id: UUID, at: datetime, message: str | None = None
    ) -> CommandResult:
        grant, complaint = self.access.case(caller, "AcknowledgeComplaint", case_id, ComplaintCase)
        text = PersonalData(complaint.customer_id, message) if message else None
        complaint.acknowledge(actor=grant.actor, message=text, at=at)
        self.work.commit(complaint)
        return result(complaint)

    def add_message(
        self,
        caller: Caller,
        case_id: UUID,
        direction: str,
        text: str,
        at: datetime,
        channel: str | None = None,
        awaiting_customer: bool = False,
    ) -> CommandResult:
        grant, complaint = self.access.case(
            caller, "AddComplaintMessage", case_id, ComplaintCase, {"direction": direction}
        )
        complaint.add_message(
            direction=direction,
            channel=channel or complaint.channel,
            actor=grant.actor,
            text=PersonalData(complaint.customer_id, text),
            at=at,
            awaiting_customer=awaiting_customer,
        )
        self.work.commit(complaint)
        return result(complaint)

    def propose(
        self,
        caller: Caller,
        case_id: UUID,
        resolution: str,
        at: datetime,
        amount: Decimal | None = None,
        note: str | None = None,
    ) -> CommandResult:
        grant, complaint = self.access.case(caller, "ProposeResolution", case_id, ComplaintCase)
        money = refundable = None
        if amount is not None:
            if complaint.order_id is None:
                raise InvalidCommandError("amount: a complaint without an order has no currency")
            order = self.store.placed_order(complaint.order_id)
            assert order.currency is not None
            money, refundable = Money.exact(amount, order.currency, "amount"), order.refundable
            if resolution in REFUNDS and not (money.is_zero() or money.is_negative()) \
                    and money <= refundable:
                self._refund_pays(complaint, order, resolution, money)
        complaint.propose(actor=grant.actor, resolution=resolution, amount=money, note=note, at=at,
                          refundable=refundable)
        self.work.commit(complaint)
        return result(complaint)

    def _refund_pays(self, complaint: ComplaintCase, order: Order, resolution: str,
                     amount: Money) -> None:
        """A refund proposal promises what its refund would pay once accepted: the refund
        calculation of a complaint's refund of that amount (the merchant's book decides its
        components: by default the goods left to refund, not shipping, duties or taxes)."""
        calculation = self.refunds.calculation(order, "complaint", str(complaint.id), [], amount)
        pays = Money.of(calculation.details["total"], amount.currency)
        if pays < amount:
            capped = [r for r in calculation.reasons if "capped at" in r]
            raise RefundCapExceededError(
                f"complaint {complaint.id}: a {resolution} of {amount} is more than a "
                f"complaint's refund would pay on order {order.order_id}: {pays}"
                + (f" ({capped[0]})" if capped else ""))

    def respond(
        self, caller: Caller, case_id: UUID, accepted: bool, at: datetime
    ) -> CommandResult:
        """An accepted refund proposal opens its RefundCase in the same transaction."""
        grant, complaint = self.access.case(caller, "RespondToProposal", case_id, ComplaintCase)
        proposal = complaint.proposal
        complaint.respond(accepted=accepted, actor=grant.actor, at=at)
        if not (accepted and proposal and proposal["resolution"] in ("refund", "partial_refund")):
            self.work.commit(complaint)
            return result(complaint)
        assert complaint.order_id is not None
        refund_id = case_id_for("refund", f"complaint:{complaint.id}:{complaint.version}")
        order = self.store.placed_order(complaint.order_id)
        refund = self.refunds.open(
            refund_id,
            order,
            source="complaint",
            source_case_id=str(complaint.id),
            lines=[],
            amount=proposal["amount"].amount,
            reason=f"complaint {complaint.category}",
            actor=grant.actor,
            at=at,
        )
        self.work.commit(complaint, refund, order)
        return result(complaint, list(refund.decisions), refund_case_id=str(refund_id))

    def escalate(
        self, caller: Caller, case_id: UUID, level: str, reason: str, at: datetime
    ) -> CommandResult:
        grant, complaint = self.access.case(caller, "EscalateComplaint", case_id, ComplaintCase)
        complaint.escalate(actor=grant.actor, level=level, reason=reason, at=at)
        self.work.commit(complaint)
        return result(complaint)

    def resolve(
        self,
        caller: Caller,
        case_id: UUID,
        summary: str,
        at: datetime,
        refund_case_id: str | None = None,
    ) -> CommandResult:
        grant, complaint = self.access.case(caller, "ResolveComplaint", case_id, ComplaintCase)
        complaint.resolve(actor=grant.actor, summary=summary, refund_case_id=refund_case_id, at=at)
        self.work.commit(complaint)
        return result(complaint)

    def close(
        self, caller: Caller, case_id: UUID, at: datetime, satisfaction: int | None = None
    ) -> CommandResult:
        grant, complaint = self.access.case(caller, "CloseComplaint", case_id, ComplaintCase)
        complaint.close(actor=grant.actor, satisfaction=satisfaction, at=at)
        self.work.commit(complaint)
        return result(complaint)

    def reopen(
        self, caller: Caller, case_id: UUID, reason: str, at: datetime
    ) -> CommandResult:
        grant, complaint = self.access.case(caller, "ReopenComplaint", case_id, ComplaintCase)
        complaint.reopen(actor=grant.actor, reason=PersonalData(complaint.customer_id, reason),
                         at=at)
        order = self.store.placed_order(complaint.order_id) if complaint.order_id else None
        # the customer's other complaints filed before this one (as at its filing), never
        # this one itself
        prior = self.store.customer(complaint.customer_id, at).complaints_before(str(complaint.id))
        triage = self.store.rules_for(order).evaluate(
            "complaint.triage",
            triage_inputs(complaint.channel, complaint.category, at, order, prior),
        )
        complaint.triage(triage, at)
        self.work.commit(complaint)
        return result(complaint, [triage])
