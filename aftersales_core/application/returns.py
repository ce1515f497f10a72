"""Return commands: request, decide, label, receive, inspect, close (resolving: resolutions.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from aftersales_core.application.access import Access, Caller
from aftersales_core.application.customs import receive_goods
from aftersales_core.application.refunds import capped_to_nothing
from aftersales_core.application.results import CommandResult, result
from aftersales_core.application.store import Store, check_opening, unknown_order
from aftersales_core.application.unit_of_work import UnitOfWork
from aftersales_core.decisions import PolicyDecision
from aftersales_core.domain.base import require_aware
from aftersales_core.domain.order import Order
from aftersales_core.domain.refunds import RefundCase
from aftersales_core.domain.return_status import ReturnStatus
from aftersales_core.domain.returns import ReturnCase
from aftersales_core.errors import AlreadyExistsError, InvalidCommandError, InvalidFieldError
from aftersales_core.money import Money
from aftersales_core.personal import PersonalData
from aftersales_core.policies.categories import classify
from aftersales_core.policies.return_eligibility_v2 import seal_checked_lines
from aftersales_core.policybook.rulebook import Rules


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


def shipping_decision(
    rules: Rules,
    order: Order,
    case: ReturnCase,
    eligibility: PolicyDecision | None,
    items: list[dict[str, Any]],
    informed: bool | None,
    estimate: Decimal | None,
) -> PolicyDecision:
    """Who pays the return shipping of ``case`` (``return.shipping``).

    Whether the buyer was told beforehand that they bear the return cost is what staff state
    on the command, else what the storefront said when the order was placed, else no: nobody
    is assumed to have been told. The estimate is a carrier's quote staff give, else the
    policy's rate table. Customers set neither (the permission matrix denies it)."""
    facts = order.facts()
    if informed is None:
        informed = bool(order.buyer_informed_of_return_cost)
    if estimate is not None:
        assert order.currency is not None
        estimate = Money.exact(estimate, order.currency, "return_shipping_estimate").amount
    eligibility = eligibility or case.latest("return.eligibility")
    value = sum((Decimal(i["unit_price"]) * i["quantity"] for i in items), Decimal(0))
    return rules.evaluate(
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


def sealed_lines(case: ReturnCase, order: Order) -> list[str]:
    """The return's lines of goods returnable without a fault only while sealed (audio, video,
    software: their category's exclusion), whatever the return's reason."""
    found = []
    for line in case.lines:
        ordered = order.line(str(line["line_id"]))
        category = classify(str((ordered or {}).get("category") or "")).category
        if category is not None and category.exclusion == "unless_sealed":
            found.append(str(line["line_id"]))
    return found


def check_seal(case: ReturnCase, order: Order, seal_intact: bool | None) -> None:
    """``seal_intact`` is stated when the return's eligibility let it depend on the seal
    (``return.eligibility`` said so of a line), and only for a return holding sealed goods."""
    checked = seal_checked_lines(case.latest("return.eligibility"),
                                 [str(line["line_id"]) for line in case.lines])
    if seal_intact is None and checked:
        raise InvalidFieldError(
            "seal_intact", f"line {', '.join(checked)} is returnable only with its seal "
            "unbroken (the return's eligibility says so): the inspection states whether it is")
    if seal_intact is not None and not sealed_lines(case, order):
        raise InvalidFieldError("seal_intact", "the return holds no sealed goods (audio, video, "
                                "software): there is no seal to record")


class ReturnService:
    def __init__(self, store: Store, work: UnitOfWork, access: Access) -> None:
        self.store, self.work, self.access = store, work, access

    def request(
        self,
        caller: Caller,
        case_id: UUID,
        order_id: str,
        lines: list[dict[str, Any]],
        reason: str,
        outcome: str,
        at: datetime,
        channel: str = "web",
        note: str | None = None,
        evidence: list[str] | None = None,
        non_returnable_line_ids: list[str] | None = None,
        goods_intact: bool | None = None,
        buyer_informed_of_return_cost: bool | None = None,
        return_shipping_estimate: Decimal | None = None,
        staff_fields: Sequence[str] = (),
    ) -> CommandResult:
        """Request a return; ``staff_fields`` names the fields of the command only staff may
        set (a customer's request carrying one is denied)."""
        require_aware(at)
        principal = self.access.may_try(caller, "RequestReturn")
        order = self.access.placed_order(caller, principal, "RequestReturn", order_id, {
            "staff_fields": list(staff_fields)})
        assert order.customer_id is not None
        grant = self.access.require(
            caller,
            "RequestReturn",
            {"customer_id": order.customer_id, "order_id": order_id,
             "staff_fields": list(staff_fields)},
            hidden=lambda: unknown_order(order_id),
            principal=principal,
        )
        check_opening(order, at)
        if self.store.exists(case_id):
            raise AlreadyExistsError(f"return case {case_id} exists already")
        items = returned_lines(order, lines)
        customer = self.store.customer(order.customer_id, at)
        facts = order.facts()
        rules = self.store.rules_for(order)
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
            by=grant.actor.principal_id,
            role=grant.actor.role,
            timestamp=at,
        )
        shipping = shipping_decision(
            rules, order, case, eligibility, items, buyer_informed_of_return_cost,
            return_shipping_estimate
        )
        case.decide(eligibility, abuse, shipping, at)
        stamp = max(at, order.modified_on)
        if case.status != ReturnStatus.REJECTED:
            # a request the rules refused outright returns nothing: the abuse signal's return
            # rate counts the orders with a return under way or done, not every request
            customer.add_return(order_id, at)
            units = {str(i["line_id"]): int(i["quantity"]) for i in items}
            order.reserve_return(case.id, units, stamp)
        order.link_case(case_id=str(case.id), kind="return", timestamp=stamp)
        self.work.commit(case, customer, order)
        return result(case, list(case.decisions))

    def approve(
        self,
        caller: Caller,
        case_id: UUID,
        at: datetime,
        buyer_informed_of_return_cost: bool | None = None,
        return_shipping_estimate: Decimal | None = None,
    ) -> CommandResult:
        grant, case = self.access.case(caller, "ApproveReturn", case_id, ReturnCase)
        order = self.store.placed_order(case.order_id)
        shipping = shipping_decision(
            self.store.rules_for(order),
            order,
            case,
            None,
            returned_lines(order, case.lines),
            buyer_informed_of_return_cost,
            return_shipping_estimate,
        )
        case.approve(actor=grant.actor, shipping=shipping, at=at)
        self.work.commit(case)
        return result(case, [shipping])

    def reject(self, caller: Caller, case_id: UUID, reason: str, at: datetime) -> CommandResult:
        grant, case = self.access.case(caller, "RejectReturn", case_id, ReturnCase)
        case.reject(actor=grant.actor, reason=reason, at=at)
        order = self.store.placed_order(case.order_id)
        order.release_return(case.id, "rejected", max(at, order.modified_on))
        self.work.commit(case, order)
        return result(case)

    def cancel(
        self,
        caller: Caller,
        case_id: UUID,
        at: datetime,
        reason: str = "cancelled by the customer",
    ) -> CommandResult:
        grant, case = self.access.case(caller, "CancelReturn", case_id, ReturnCase)
        case.cancel(actor=grant.actor, reason=PersonalData(case.customer_id, reason), at=at)
        order = self.store.placed_order(case.order_id)
        order.release_return(case.id, "cancelled", max(at, order.modified_on))
        self.work.commit(case, order)
        return result(case)

    def issue_label(
        self,
        caller: Caller,
        case_id: UUID,
        carrier: str,
        tracking_number: str,
        at: datetime,
        cost: Decimal | None = None,
    ) -> CommandResult:
        grant, case = self.access.case(caller, "IssueReturnLabel", case_id, ReturnCase)
        order = self.store.placed_order(case.order_id)
        assert order.currency is not None
        label_cost = None if cost is None else Money.exact(cost, order.currency, "cost")
        if label_cost is not None and label_cost.is_negative():
            raise InvalidCommandError("cost: a label cost cannot be negative")
        case.issue_label(
            actor=grant.actor,
            carrier=carrier,
            tracking_number=tracking_number,
            cost=label_cost,
            at=at,
        )
        self.work.commit(case)
        return result(case)

    def receive(
        self, caller: Caller, case_id: UUID, at: datetime, shipment_id: str | None = None
    ) -> CommandResult:
        grant, case = self.access.case(caller, "ReceiveReturn", case_id, ReturnCase)
        order = self.store.placed_order(case.order_id)
        changed = receive_goods(self.store, case, order, returned_lines(order, case.lines),
                                grant.actor, shipment_id, at)
        self.work.commit(case, *changed)
        customs = case.latest("return.customs_return")
        return result(case, [customs] if customs is not None else [])

    def inspect(
        self, caller: Caller, case_id: UUID, grade: str, at: datetime, findings: str = "",
        seal_intact: bool | None = None,
    ) -> CommandResult:
        """Grade the goods; for sealed audio, video or software, record whether the seal is
        unbroken (``seal_intact``): required when the return's eligibility said a line is
        returnable only with its seal unbroken (a broken seal then leaves those units
        unrefunded: ``refund.calculation`` v6), refused when the return holds no such goods."""
        grant, case = self.access.case(caller, "InspectReturn", case_id, ReturnCase)
        order = self.store.placed_order(case.order_id)
        check_seal(case, order, seal_intact)
        disposition = self.store.rules_for(order).evaluate(
            "return.disposition",
            {
                "grade": grade,
                "reason": case.reason,
                "wanted_outcome": case.wanted_outcome,
            },
        )
        case.inspect(
            actor=grant.actor, grade=grade, findings=findings, disposition=disposition, at=at,
            seal_intact=seal_intact,
        )
        self.work.commit(case)
        return result(case, [disposition])

    def close(self, caller: Caller, case_id: UUID, at: datetime) -> CommandResult:
        grant, case = self.access.case(caller, "CloseReturn", case_id, ReturnCase)
        case.close(actor=grant.actor, at=at, refunds=self._counted_on(case))
        self.work.commit(case)
        return result(case)

    def _counted_on(self, case: ReturnCase) -> dict[str, str]:
        """The refunds a return resolved by a refund counts on, by id, with their status: a
        rejection of any of them reopens it (``RefundService.reject``). Its resolution's and
        those requested for it; when the order's cap left its resolution nothing (its refund
        rejected at request, capped), every refund of the order still holding part of the
        cap, since the rejection of any one frees what the return is owed."""
        counted: dict[str, str] = {}
        for refund_id in case.refunds_counted_on():
            refund = self.store.load(RefundCase, UUID(refund_id))
            counted[refund_id] = refund.status.value
            if capped_to_nothing(refund):
                order = self.store.placed_order(case.order_id)
                for held in order.refunds:
                    counted[held] = self.store.load(RefundCase, UUID(held)).status.value
        return counted
