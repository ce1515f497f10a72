"""Return commands: request, decide, label, receive, inspect, resolve, close."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from aftersales_core.application.base import CommandResult, result
from aftersales_core.application.customs import receive_goods
from aftersales_core.application.refunds import RefundServices
from aftersales_core.decisions import PolicyDecision
from aftersales_core.domain.base import require_aware
from aftersales_core.domain.order import Order
from aftersales_core.domain.return_status import ReturnStatus
from aftersales_core.domain.returns import ReturnCase
from aftersales_core.errors import AlreadyExistsError, InvalidCommandError
from aftersales_core.money import Money
from aftersales_core.personal import PersonalData


def returned_lines(order: Order, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The requested lines with what the order says about them; unknown lines are errors."""
    if not lines:
        raise InvalidCommandError("lines: a return needs at least one line")
    out = []
    for wanted in lines:
        line = order.line(str(wanted["line_id"]))
        if line is None:
            raise InvalidCommandError(
                f"lines: order {order.order_id} has no line {wanted['line_id']!r}"
            )
        quantity = int(wanted["quantity"])
        if not 0 < quantity <= int(line["quantity"]):
            raise InvalidCommandError(
                f"lines: quantity {quantity} of line {line['line_id']} "
                f"must be 1 to {line['quantity']}"
            )
        out.append({**line, "quantity": quantity, "unit_price": str(line["unit_price"])})
    return out


class ReturnServices(RefundServices):
    def request_return(
        self,
        case_id: UUID,
        order_id: str,
        lines: list[dict[str, Any]],
        reason: str,
        outcome: str,
        requested_by: str,
        at: datetime,
        channel: str = "web",
        note: str | None = None,
        evidence: list[str] | None = None,
        non_returnable_line_ids: list[str] | None = None,
        goods_intact: bool | None = None,
        buyer_informed_of_return_cost: bool = True,
        return_shipping_estimate: Decimal | None = None,
    ) -> CommandResult:
        require_aware(at)
        order = self.placed_order(order_id, opening_at=at)
        assert order.customer_id is not None
        if self.exists(case_id):
            raise AlreadyExistsError(f"return case {case_id} exists already")
        items = returned_lines(order, lines)
        customer = self.customer(order.customer_id, at)
        facts = order.facts()
        rules = self.rules_for(order)
        eligibility = rules.evaluate(
            "return.eligibility",
            {
                "market": facts["market"],
                "fulfilment": facts["fulfilment"],
                "currency": facts["currency"],
                "reason": reason,
                "wanted_outcome": outcome,
                "requested_at": at.isoformat(),
                "delivered_at": facts["delivered_at"],
                "customs_released_at": facts["customs_released_at"],
                "lines": items,
                "non_returnable_line_ids": list(non_returnable_line_ids or []),
                "goods_intact": goods_intact,
                "buyer_timezone": facts["buyer_timezone"],
                "already_returned": order.returned_before([i["line_id"] for i in items]),
            },
        )
        recent_orders, recent_returns = customer.recent(
            rules.settings("buyer.abuse_signal").window_orders)
        abuse = rules.evaluate(
            "buyer.abuse_signal",
            {
                "customer_id": order.customer_id,
                "recent_orders": recent_orders,
                "recent_returns": recent_returns,
            },
        )
        case = ReturnCase(
            id=case_id,
            order_id=order_id,
            customer_id=order.customer_id,
            lines=[{"line_id": i["line_id"], "quantity": i["quantity"]} for i in items],
            reason=reason,
            wanted_outcome=outcome,
            note=PersonalData(order.customer_id, note) if note else None,
            evidence=[PersonalData(order.customer_id, link) for link in evidence or []],
            channel=channel,
            requested_by=requested_by,
            timestamp=at,
        )
        shipping = self._shipping_decision(
            order, case, eligibility, items, buyer_informed_of_return_cost, return_shipping_estimate
        )
        case.decide(eligibility, abuse, shipping, at)
        customer.add_return(order_id, at)
        stamp = max(at, order.modified_on)
        if case.status != ReturnStatus.REJECTED:
            units = {str(i["line_id"]): int(i["quantity"]) for i in items}
            order.reserve_return(case.id, units, stamp)
        order.link_case(case_id=str(case.id), kind="return", timestamp=stamp)
        self.save_all(case, customer, order)
        return result(case, list(case.decisions))

    def _shipping_decision(
        self,
        order: Order,
        case: ReturnCase,
        eligibility: PolicyDecision | None,
        items: list[dict[str, Any]],
        informed: bool,
        estimate: Decimal | None,
    ) -> PolicyDecision:
        facts = order.facts()
        eligibility = eligibility or case.latest("return.eligibility")
        value = sum((Decimal(i["unit_price"]) * i["quantity"] for i in items), Decimal(0))
        return self.rules_for(order).evaluate(
            "return.shipping",
            {
                "market": facts["market"],
                "fulfilment": facts["fulfilment"],
                "currency": facts["currency"],
                "reason": case.reason,
                "regime": eligibility.details.get("regime") if eligibility else None,
                "item_value": str(Money.of(value, facts["currency"]).amount),
                "return_shipping_estimate": None if estimate is None else str(estimate),
                "buyer_informed_of_return_cost": informed,
                "wanted_outcome": case.wanted_outcome,
            },
        )

    def approve_return(
        self,
        case_id: UUID,
        by: str,
        at: datetime,
        buyer_informed_of_return_cost: bool = True,
        return_shipping_estimate: Decimal | None = None,
    ) -> CommandResult:
        case = self.load(ReturnCase, case_id)
        order = self.placed_order(case.order_id)
        shipping = self._shipping_decision(
            order,
            case,
            None,
            returned_lines(order, case.lines),
            buyer_informed_of_return_cost,
            return_shipping_estimate,
        )
        case.approve(by=by, shipping=shipping, at=at)
        self.save_all(case)
        return result(case, [shipping])

    def reject_return(self, case_id: UUID, by: str, reason: str, at: datetime) -> CommandResult:
        case = self.load(ReturnCase, case_id)
        case.reject(by=by, reason=reason, at=at)
        order = self.placed_order(case.order_id)
        order.release_return(case.id, "rejected", max(at, order.modified_on))
        self.save_all(case, order)
        return result(case)

    def cancel_return(
        self, case_id: UUID, by: str, at: datetime, reason: str = "cancelled by the customer"
    ) -> CommandResult:
        case = self.load(ReturnCase, case_id)
        case.cancel(by=by, reason=reason, at=at)
        order = self.placed_order(case.order_id)
        order.release_return(case.id, "cancelled", max(at, order.modified_on))
        self.save_all(case, order)
        return result(case)

    def issue_return_label(
        self,
        case_id: UUID,
        by: str,
        carrier: str,
        tracking_number: str,
        at: datetime,
        cost: Decimal | None = None,
    ) -> CommandResult:
        case = self.load(ReturnCase, case_id)
        order = self.placed_order(case.order_id)
        assert order.currency is not None
        label_cost = None if cost is None else Money.exact(cost, order.currency)
        if label_cost is not None and label_cost.is_negative():
            raise InvalidCommandError("cost: a label cost cannot be negative")
        case.issue_label(
            by=by, carrier=carrier, tracking_number=tracking_number, cost=label_cost, at=at
        )
        self.save_all(case)
        return result(case)

    def receive_return(
        self, case_id: UUID, by: str, at: datetime, shipment_id: str | None = None
    ) -> CommandResult:
        case = self.load(ReturnCase, case_id)
        order = self.placed_order(case.order_id)
        changed = receive_goods(self, case, order, returned_lines(order, case.lines), by,
                                shipment_id, at)
        self.save_all(case, *changed)
        customs = case.latest("return.customs_return")
        return result(case, [customs] if customs is not None else [])

    def inspect_return(
        self, case_id: UUID, by: str, grade: str, at: datetime, findings: str = ""
    ) -> CommandResult:
        case = self.load(ReturnCase, case_id)
        disposition = self.rules_for(self.placed_order(case.order_id)).evaluate(
            "return.disposition",
            {
                "grade": grade,
                "reason": case.reason,
                "wanted_outcome": case.wanted_outcome,
            },
        )
        case.inspect(by=by, grade=grade, findings=findings, disposition=disposition, at=at)
        self.save_all(case)
        return result(case, [disposition])

    def close_return(self, case_id: UUID, by: str, at: datetime) -> CommandResult:
        case = self.load(ReturnCase, case_id)
        case.close(by=by, at=at)
        self.save_all(case)
        return result(case)
