"""Refund commands: request (calculate, reserve against the order), approve, issue, settle."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from aftersales_core.application.base import CommandResult, ServiceBase, result
from aftersales_core.domain.base import require_aware
from aftersales_core.domain.ids import order_aggregate_id
from aftersales_core.domain.order import Order
from aftersales_core.domain.refunds import RefundCase
from aftersales_core.domain.returns import ReturnCase
from aftersales_core.errors import AlreadyExistsError, InvalidCommandError
from aftersales_core.money import Money

SOURCES = ("return", "complaint", "logistics_exception", "cancellation", "goodwill", "exchange")


class RefundServices(ServiceBase):
    def request_refund(
        self,
        case_id: UUID,
        order_id: str,
        source: str,
        reason: str,
        requested_by: str,
        at: datetime,
        source_case_id: str | None = None,
        lines: list[dict[str, Any]] | None = None,
        amount: Decimal | None = None,
        goodwill: Decimal | None = None,
    ) -> CommandResult:
        order = self.placed_order(order_id, opening_at=at)
        refund = self.build_refund(
            case_id,
            order,
            source=source,
            source_case_id=source_case_id,
            lines=lines or [],
            amount=amount,
            reason=reason,
            requested_by=requested_by,
            at=at,
            goodwill=goodwill,
        )
        self.save_all(refund, order)
        return result(refund, list(refund.decisions))

    def build_refund(
        self,
        case_id: UUID,
        order: Order,
        *,
        source: str,
        source_case_id: str | None,
        lines: list[dict[str, Any]],
        amount: Decimal | None,
        reason: str,
        requested_by: str,
        at: datetime,
        goodwill: Decimal | None = None,
        source_case: ReturnCase | None = None,
    ) -> RefundCase:
        """Open, calculate and reserve a refund against ``order`` (the caller saves both).

        ``source_case`` is the return being resolved, as changed in this command."""
        require_aware(at)
        if source not in SOURCES:
            raise InvalidCommandError(f"source must be one of {', '.join(SOURCES)}: {source!r}")
        if self.exists(case_id):
            raise AlreadyExistsError(f"refund case {case_id} exists already")
        assert order.currency is not None and order.customer_id is not None
        for line in lines:
            if order.line(str(line["line_id"])) is None:
                raise InvalidCommandError(
                    f"lines: order {order.order_id} has no line {line['line_id']!r}"
                )
        requested = None if amount is None else Money.exact(amount, order.currency)
        if requested is not None and requested.is_negative():
            raise InvalidCommandError("amount: a refund amount cannot be negative")
        rules = self.rules_for(order)
        calculation = rules.evaluate(
            "refund.calculation",
            {
                **order.facts(),
                "source": source,
                **self._source_facts(source, source_case_id, source_case),
                "refund_lines": [
                    {"line_id": str(x["line_id"]), "quantity": int(x["quantity"])} for x in lines
                ],
                "amount": None if requested is None else str(requested.amount),
                "goodwill": None
                if goodwill is None
                else str(Money.exact(goodwill, order.currency).amount),
            },
        )
        total = Money.of(calculation.details["total"], order.currency)
        approval = rules.evaluate(
            "refund.approval",
            {
                "amount": str(total.amount),
                "currency": order.currency,
                "requested_by": requested_by,
                "approver": None,
                "approver_role": None,
            },
        )
        refund = RefundCase(
            id=case_id,
            order_id=order.order_id,
            customer_id=order.customer_id,
            source=source,
            source_case_id=source_case_id,
            lines=lines,
            amount=requested,
            reason=reason,
            requested_by=requested_by,
            timestamp=at,
        )
        refund.calculate(calculation, approval, at)
        stamp = max(at, order.modified_on)
        if not total.is_zero():
            order.reserve_refund(refund.id, total, stamp)
        order.link_case(case_id=str(refund.id), kind="refund", timestamp=stamp)
        return refund

    def _source_facts(
        self, source: str, source_case_id: str | None, given: ReturnCase | None = None
    ) -> dict[str, Any]:
        """What the source case says that changes the calculation (regime, fault, grade, and
        for a cross-border return whether it was a valid customs return)."""
        facts: dict[str, Any] = {
            "regime": None,
            "merchant_fault": False,
            "is_withdrawal": False,
            "tax_refundable": False,
            "inspection_grade": None,
            "return_shipping_payer": None,
            "return_shipping_cost": None,
        }
        if source != "return" or source_case_id is None:
            return facts
        case = given if given is not None else self.load(ReturnCase, UUID(source_case_id))
        eligibility = case.latest("return.eligibility")
        if eligibility is not None:
            for key in ("regime", "merchant_fault", "is_withdrawal", "tax_refundable"):
                facts[key] = eligibility.details.get(key, facts[key])
        customs = case.latest("return.customs_return")
        if customs is not None:  # arrived back in the bonded zone in time, or not
            facts["tax_refundable"] = bool(customs.details.get("tax_refundable"))
        cost = case.label["cost"] if case.label else None
        facts.update(
            inspection_grade=case.grade,
            return_shipping_payer=case.return_shipping_payer,
            return_shipping_cost=None if cost is None else str(cost.amount),
        )
        return facts

    def approve_refund(
        self, case_id: UUID, approver: str, at: datetime, approver_role: str = "agent"
    ) -> CommandResult:
        refund = self.load(RefundCase, case_id)
        assert refund.amount is not None
        order = self.load(Order, order_aggregate_id(refund.order_id))
        decision = self.rules_for(order).evaluate(
            "refund.approval",
            {
                "amount": str(refund.amount.amount),
                "currency": refund.amount.currency,
                "requested_by": refund.requested_by,
                "approver": approver,
                "approver_role": approver_role,
            },
        )
        refund.approve(approver=approver, decision=decision, at=at)
        self.save_all(refund)
        return result(refund, [decision])

    def reject_refund(self, case_id: UUID, by: str, reason: str, at: datetime) -> CommandResult:
        refund = self.load(RefundCase, case_id)
        order = self.load(Order, order_aggregate_id(refund.order_id))
        refund.reject(by=by, reason=reason, at=at)
        order.release_refund(refund.id, max(at, order.modified_on))
        self.save_all(refund, order)
        return result(refund)

    def issue_refund(self, case_id: UUID, by: str, at: datetime) -> CommandResult:
        refund = self.load(RefundCase, case_id)
        refund.issue(by=by, at=at)
        self.save_all(refund)
        return result(refund, idempotency_key=refund.idempotency_key)

    def confirm_refund_settled(
        self, case_id: UUID, provider_ref: str, at: datetime
    ) -> CommandResult:
        refund = self.load(RefundCase, case_id)
        order = self.load(Order, order_aggregate_id(refund.order_id))
        refund.settle(provider_ref=provider_ref, at=at)
        assert refund.amount is not None
        order.settle_refund(
            refund_id=str(refund.id),
            amount=refund.amount.amount,
            timestamp=max(at, order.modified_on),
        )
        self.save_all(refund, order)
        return result(refund)

    def record_refund_failed(self, case_id: UUID, error: str, at: datetime) -> CommandResult:
        refund = self.load(RefundCase, case_id)
        refund.fail(error=error, at=at)
        self.save_all(refund)
        return result(refund)
