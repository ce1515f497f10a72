"""Refund commands: request (calculate, reserve against the order), approve, issue, settle."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from aftersales_core.application.access import Access, Caller
from aftersales_core.application.results import CommandResult, already_recorded, result
from aftersales_core.application.store import Store, check_opening, unknown_order
from aftersales_core.application.unit_of_work import UnitOfWork
from aftersales_core.decisions import PolicyDecision
from aftersales_core.domain.actor import Actor
from aftersales_core.domain.base import require_aware
from aftersales_core.domain.complaints import ComplaintCase
from aftersales_core.domain.ids import order_aggregate_id
from aftersales_core.domain.order import Order
from aftersales_core.domain.refunds import RefundCase, RefundStatus
from aftersales_core.domain.returns import ReturnCase
from aftersales_core.errors import (
    AlreadyExistsError,
    InvalidCommandError,
    InvalidFieldError,
    RefundCapExceededError,
)
from aftersales_core.money import Money
from aftersales_core.outcomes import RefundCalculation
from aftersales_core.policies.refund_ledger import (
    INPUT,
    RETURN_UNITS_LEFT,
    refunded_by_component,
    refused_counts,
    units_left,
)
from aftersales_core.policies.return_eligibility_v2 import seal_checked_lines

C = TypeVar("C", ReturnCase, ComplaintCase)  # a case a refund may name as its source

CASE_SOURCES = ("return", "complaint")  # sources that are cases of the engine: named by id
SOURCES = ("return", "complaint", "logistics_exception", "cancellation", "goodwill", "exchange")


def capped_to_nothing(refund: RefundCase) -> bool:
    """``refund`` was rejected at request because the order's cap left it nothing (its
    calculation capped to nothing): a return resolved with it is owed its refund again once
    a refund of the order is rejected (``RefundService.reject``)."""
    calculation = next((d for d in refund.decisions if d.policy_id == "refund.calculation"),
                       None)
    return refund.status == RefundStatus.REJECTED and calculation is not None and \
        calculation.outcome == RefundCalculation.NOTHING_TO_REFUND and \
        "refund.cap" in calculation.rules


def seal_broken_units(case: ReturnCase) -> list[dict[str, Any]] | None:
    """``seal_broken`` of ``refund.calculation`` v6: the units of the return's lines whose
    return depended on an unbroken seal, once the inspection found it broken; None when it did
    not (or the return depended on no seal). A faulty good's line never depends on it."""
    if case.seal_intact is not False:
        return None
    checked = seal_checked_lines(case.latest("return.eligibility"),
                                 [str(line["line_id"]) for line in case.lines])
    return [{"line_id": str(line["line_id"]), "quantity": int(line["quantity"])}
            for line in case.lines if str(line["line_id"]) in checked] or None


class RefundService:
    def __init__(self, store: Store, work: UnitOfWork, access: Access) -> None:
        self.store, self.work, self.access = store, work, access

    def request(
        self,
        caller: Caller,
        case_id: UUID,
        order_id: str,
        source: str,
        reason: str,
        at: datetime,
        source_case_id: str | None = None,
        lines: list[dict[str, Any]] | None = None,
        amount: Decimal | None = None,
        goodwill: Decimal | None = None,
    ) -> CommandResult:
        principal = self.access.may_try(caller, "RequestRefund")
        if not lines and amount is None and goodwill is None and source != "return":
            # SPEC 4.3: "lines or amount"; a request naming neither refunded nothing (it was
            # stored as a rejected refund of 0.00). A return's refund without them refunds
            # the return's units not refunded yet
            raise InvalidCommandError("lines, amount or goodwill: a refund request names what "
                                      "to refund (lines of the order, an amount, or a "
                                      "goodwill amount)")
        order = self.access.placed_order(caller, principal, "RequestRefund", order_id)
        grant = self.access.require(
            caller,
            "RequestRefund",
            {"customer_id": order.customer_id, "order_id": order_id},
            hidden=lambda: unknown_order(order_id),
            principal=principal,
        )
        check_opening(order, at)
        if self.store.exists(case_id):  # a retry: not answered by what the return has left
            raise AlreadyExistsError(f"refund case {case_id} exists already")
        returned = None
        if source == "return" and source_case_id is not None:
            # SPEC 3.1/3.2: the refund of a return is of its lines, at most the units it
            # returns that its other refunds did not take; the return records it
            returned = self._source_return(source_case_id, order)
            if amount is not None and not lines:
                # an amount takes the units it is for: without lines it took every unit the
                # return had left, so a small compensation counted as the return's refund
                raise InvalidFieldError("amount", "name the lines the amount is for; a "
                                        "compensation is a goodwill or complaint refund")
            returned.check_refundable()
            lines = self._return_lines(returned, order, lines or [])
        refund = self.open(
            case_id,
            order,
            source=source,
            source_case_id=source_case_id,
            lines=lines or [],
            amount=amount,
            reason=reason,
            actor=grant.actor,
            at=at,
            goodwill=goodwill,
            source_case=returned,
        )
        if returned is None or refund.status == RefundStatus.REJECTED:
            self.work.commit(refund, order)
        else:
            returned.refund_opened(grant.actor, refund.id, lines or [], at)
            self.work.commit(refund, order, returned)
        return result(refund, list(refund.decisions))

    def _standing(self, order: Order) -> list[RefundCase]:
        """The refunds of ``order`` not rejected (the order's refund ledger names them)."""
        return [self.store.load(RefundCase, UUID(refund_id)) for refund_id in order.refunds]

    def _refused_counted(self, order: Order) -> list[RefundCase]:
        """The refunds of ``order`` rejected at request that count in its ledger
        (``refund_ledger.refused_counts``)."""
        refused: list[RefundCase] = []
        for refund_id in order.case_ids("refund"):
            if refund_id in order.refunds:
                continue
            refund = self.store.load(RefundCase, UUID(refund_id))
            if any(refused_counts(d) for d in refund.decisions):
                refused.append(refund)
        return refused

    def refunds_of_return(self, case: ReturnCase, order: Order,
                          standing: list[RefundCase] | None = None) -> list[RefundCase]:
        """The refunds of ``order`` not rejected that name the return ``case`` as their source
        (those its resolution opened among them)."""
        return [refund for refund in (self._standing(order) if standing is None else standing)
                if refund.source == "return" and refund.source_case_id == str(case.id)]

    def return_units_left(self, case: ReturnCase, order: Order,
                          standing: list[RefundCase] | None = None) -> dict[str, Any]:
        """``return_units_left`` of ``refund.calculation`` v5: per component, the units of the
        return's lines its refunds not rejected did not take."""
        assert order.currency is not None
        earlier = self.refunds_of_return(case, order, standing)
        return units_left(case.lines, order.currency,
                          (d for refund in earlier for d in refund.decisions))

    def _return_lines(self, case: ReturnCase, order: Order,
                      asked: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The lines a refund of the return ``case`` takes: those asked for, each a line of the
        return and at most its units that the return's other refunds did not take (else
        refused, naming the line and the units); none asked for (and no amount): all those
        units."""
        left = {x["line_id"]: x["quantity"] for x in self.return_units_left(case, order)["items"]}
        returned = {str(x["line_id"]): int(x["quantity"]) for x in case.lines}
        if not asked:
            rest = [{"line_id": line_id, "quantity": left[line_id]}
                    for line_id in returned if left.get(line_id)]
            if not rest:
                raise RefundCapExceededError(
                    f"return {case.id}: every unit it returns is refunded already (refunds "
                    f"{self._named(case, order)}); nothing is left to refund for it")
            return rest
        wanted: dict[str, int] = {}
        for line in asked:
            line_id = str(line["line_id"])
            wanted[line_id] = wanted.get(line_id, 0) + int(line["quantity"])
        for line_id, count in wanted.items():
            if order.line(line_id) is None:
                continue  # not a line of the order: refused as such when the refund opens
            units, free = returned.get(line_id, 0), left.get(line_id, 0)
            if count > free:
                named = self._named(case, order)
                earlier = f"its refunds not rejected took {units - free} ({named})" \
                    if units > free else "none of them is refunded yet"
                raise RefundCapExceededError(
                    f"lines: line {line_id}: {count} asked for, but return {case.id} returns "
                    f"{units} of it and {earlier}: at most {free} left to refund")
        return asked

    def _named(self, case: ReturnCase, order: Order) -> str:
        return ", ".join(str(refund.id) for refund in self.refunds_of_return(case, order))

    def open(
        self,
        case_id: UUID,
        order: Order,
        *,
        source: str,
        source_case_id: str | None,
        lines: list[dict[str, Any]],
        amount: Decimal | None,
        reason: str,
        actor: Actor,
        at: datetime,
        goodwill: Decimal | None = None,
        source_case: ReturnCase | None = None,
        review: str | None = None,
    ) -> RefundCase:
        """Open, calculate and reserve a refund against ``order`` (the caller commits both).

        ``source_case`` is the return being resolved, as changed in this command; ``review``
        says why the decision that opens it wants a supervisor to decide it, whatever the
        amount (``refund.approval`` v4)."""
        require_aware(at)
        if source not in SOURCES:
            raise InvalidCommandError(f"source must be one of {', '.join(SOURCES)}: {source!r}")
        if source in CASE_SOURCES and source_case_id is None:
            # SPEC 3.1: a refund comes "with the source case id"; without one nothing checked
            # the case was the order's, nor read its regime, fault or grade
            raise InvalidFieldError("source_case_id", f"a refund from a {source} names its "
                                    f"source case (the {source}'s case id)")
        if self.store.exists(case_id):
            raise AlreadyExistsError(f"refund case {case_id} exists already")
        if source == "complaint" and source_case_id is not None:
            self._source_complaint(source_case_id, order)  # one of this order's
        assert order.currency is not None and order.customer_id is not None
        for line in lines:
            if order.line(str(line["line_id"])) is None:
                raise InvalidCommandError(
                    f"lines: order {order.order_id} has no line {line['line_id']!r}"
                )
        requested = None if amount is None else Money.exact(amount, order.currency, "amount")
        if requested is not None and requested.is_negative():
            raise InvalidCommandError("amount: a refund amount cannot be negative")
        rules = self.store.rules_for(order)
        calculation = self.calculation(order, source, source_case_id, lines, requested,
                                       goodwill, source_case)
        total = Money.of(calculation.details["total"], order.currency)
        # nothing to refund: rejected by the calculation alone, nothing for the approval
        # authority to decide (its auto_approve was recorded beside the rejection)
        approval = None if calculation.outcome == RefundCalculation.NOTHING_TO_REFUND \
            else rules.evaluate(
                "refund.approval",
                {
                    "amount": str(total.amount),
                    "currency": order.currency,
                    "order_refunded": str(order.refunded_besides(case_id).amount),
                    "requested_by": actor.principal_id,
                    "approver": None,
                    "approver_role": None,
                    "review": review,
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
            by=actor.principal_id,
            role=actor.role,
            timestamp=at,
        )
        refund.calculate(calculation, approval, at)
        stamp = max(at, order.modified_on)
        if not total.is_zero():
            order.reserve_refund(refund.id, total, stamp)
        order.link_case(case_id=str(refund.id), kind="refund", timestamp=stamp)
        return refund

    def calculation(self, order: Order, source: str, source_case_id: str | None,
                    lines: list[dict[str, Any]], requested: Money | None,
                    goodwill: Decimal | None = None,
                    source_case: ReturnCase | None = None) -> PolicyDecision:
        """The ``refund.calculation`` decision a refund of the order would get now (stored by
        ``open``; a complaint's proposal asks it what a refund of its amount would pay)."""
        assert order.currency is not None
        # loaded once for both ledgers below: the refunds not rejected, and those rejected at
        # request whose units' shares came to nothing (their units took their share)
        standing = [*self._standing(order), *self._refused_counted(order)]
        return self.store.rules_for(order).evaluate(
            "refund.calculation",
            {
                **order.facts(),
                "source": source,
                **self._source_facts(source, source_case_id, order, source_case),
                "refund_lines": [
                    {"line_id": str(x["line_id"]), "quantity": int(x["quantity"])} for x in lines
                ],
                "amount": None if requested is None else str(requested.amount),
                "goodwill": None
                if goodwill is None
                else str(Money.exact(goodwill, order.currency, "goodwill").amount),
                # what the order's refunds not rejected took of each component
                INPUT: refunded_by_component(order.facts()["order_lines"], order.currency,
                                             (d for refund in standing
                                              for d in refund.decisions)),
                RETURN_UNITS_LEFT: self._units_left(source, source_case_id, order, source_case,
                                                    standing),
            },
        )

    def _units_left(self, source: str, source_case_id: str | None, order: Order,
                    given: ReturnCase | None, standing: list[RefundCase]
                    ) -> dict[str, Any] | None:
        if source != "return" or source_case_id is None:
            return None
        case = given if given is not None else self._source_return(source_case_id, order)
        return self.return_units_left(case, order, standing)

    def _source_facts(
        self, source: str, source_case_id: str | None, order: Order,
        given: ReturnCase | None = None,
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
            "seal_broken": None,
        }
        if source != "return" or source_case_id is None:
            return facts
        case = given if given is not None else self._source_return(source_case_id, order)
        eligibility = case.latest("return.eligibility")
        if eligibility is not None:
            for key in ("regime", "merchant_fault", "is_withdrawal", "tax_refundable"):
                facts[key] = eligibility.details.get(key, facts[key])
        customs = case.latest("return.customs_return")
        if customs is not None:  # arrived back in the bonded zone in time, or not
            facts["tax_refundable"] = bool(customs.details.get("tax_refundable"))
        elif eligibility is not None and eligibility.details.get("customs_return_required"):
            # not decided yet (the goods are not back): the cross-border tax is refunded only
            # once they arrive in the bonded zone in time; a later refund of the same units
            # then takes it, the ledger of components knowing the items are refunded already
            facts["tax_refundable"] = False
        cost = case.label["cost"] if case.label else None
        facts.update(
            inspection_grade=case.grade,
            return_shipping_payer=case.return_shipping_payer,
            return_shipping_cost=None if cost is None else str(cost.amount),
            seal_broken=seal_broken_units(case),
        )
        return facts

    def _source_return(self, source_case_id: str, order: Order) -> ReturnCase:
        """The return a refund of ``order`` names as its source: one of that order's."""
        return self._source_case(ReturnCase, source_case_id, order, "return {} is not one of "
                                 "order {}'s")

    def _source_complaint(self, source_case_id: str, order: Order) -> ComplaintCase:
        """The complaint a refund of ``order`` names as its source: one about that order."""
        return self._source_case(ComplaintCase, source_case_id, order, "complaint {} is not "
                                 "about order {}")

    def _source_case(self, cls: type[C], source_case_id: str, order: Order, foreign: str) -> C:
        """The case of kind ``cls`` named by ``source_case_id``: a UUID (else invalid), an
        existing case (else unknown: exit 3, as any unknown case), of ``order`` (else invalid,
        ``foreign`` naming the case and the order)."""
        try:
            case_id = UUID(source_case_id)
        except ValueError:
            raise InvalidCommandError(f"source_case_id: {source_case_id!r} is not a case id "
                                      "(a UUID)") from None
        case = self.store.load(cls, case_id)
        if case.order_id != order.order_id:
            raise InvalidCommandError("source_case_id: " + foreign.format(case_id,
                                                                          order.order_id))
        return case

    def approve(self, caller: Caller, case_id: UUID, at: datetime) -> CommandResult:
        grant, refund = self.access.case(caller, "ApproveRefund", case_id, RefundCase)
        assert refund.amount is not None
        order = self.store.load(Order, order_aggregate_id(refund.order_id))
        decision = self.store.rules_for(order).evaluate(
            "refund.approval",
            {
                "amount": str(refund.amount.amount),
                "currency": refund.amount.currency,
                "order_refunded": str(order.refunded_besides(refund.id).amount),
                "requested_by": refund.requested_by,
                "approver": grant.actor.principal_id,
                "approver_role": grant.actor.role,
                "review": self._review(refund),
            },
        )
        refund.approve(actor=grant.actor, decision=decision, at=at)
        self.work.commit(refund)
        return result(refund, [decision])

    @staticmethod
    def _review(refund: RefundCase) -> str | None:
        """The review the refund was opened under (its request's ``refund.approval``), which
        its approval keeps: a supervisor decides it."""
        requested = next((d for d in refund.decisions if d.policy_id == "refund.approval"), None)
        review = None if requested is None else requested.inputs.get("review")
        return review if isinstance(review, str) else None

    def reject(self, caller: Caller, case_id: UUID, reason: str, at: datetime) -> CommandResult:
        grant, refund = self.access.case(caller, "RejectRefund", case_id, RefundCase)
        order = self.store.load(Order, order_aggregate_id(refund.order_id))
        refund.reject(actor=grant.actor, reason=reason, at=at)
        order.release_refund(refund.id, max(at, order.modified_on))
        changed: list[ReturnCase] = []
        returned = self._source_return_of(refund)
        if returned is not None:
            # the return it was requested for (or resolved with) learns it in the same
            # transaction: its units are refundable again and its refund deadline, carried by
            # this refund, is owed again; a return resolved by it is reopened
            returned.refund_rejected(grant.actor, refund.id, at,
                                     self._resolution_lines(returned, refund.id))
            if returned.pending_events:
                changed.append(returned)
        # what it held of the order's cap is free again: a return resolved with nothing to
        # refund for want of it (its resolution's refund rejected at request, capped) is owed
        # its refund again, and is reopened
        for case in self._resolved_under_the_cap(order, besides=changed):
            case.reopen(grant.actor, refund.id, at, self._resolution_lines(case, refund.id))
            changed.append(case)
        self.work.commit(refund, order, *changed)
        return result(refund)

    def _source_return_of(self, refund: RefundCase) -> ReturnCase | None:
        """The return a refund of a return names as its source (it recorded the refund as
        requested for it, ``RefundOpened``, or was resolved with it), if any."""
        if refund.source != "return" or refund.source_case_id is None:
            return None
        return self.store.load(ReturnCase, UUID(refund.source_case_id))

    def _resolution_lines(self, case: ReturnCase, rejected: UUID
                          ) -> list[dict[str, Any]] | None:
        """The units the refund that resolved ``case`` took, when it is not ``rejected`` and
        still stands (a return reopened keeps counting it); None otherwise."""
        resolved_by = case.resolved_by_refund()
        if resolved_by is None or resolved_by == str(rejected) or \
                any(r["refund_case_id"] == resolved_by for r in case.refunds):
            return None
        refund = self.store.load(RefundCase, UUID(resolved_by))
        if refund.status == RefundStatus.REJECTED:
            return None
        calculation = next((d for d in refund.decisions
                            if d.policy_id == "refund.calculation"), None)
        units = (calculation.details.get("units") or {}).get("items") if calculation else None
        return list(units) if units is not None else list(refund.lines)

    def _resolved_under_the_cap(self, order: Order, besides: list[ReturnCase]
                                ) -> list[ReturnCase]:
        """The order's returns resolved by a refund that the order's cap left nothing to
        (rejected at request, its calculation capped to nothing), but those in ``besides``."""
        found: list[ReturnCase] = []
        skip = {str(case.id) for case in besides}
        for case_id in order.case_ids("return"):
            if case_id in skip:
                continue
            case = self.store.load(ReturnCase, UUID(case_id))
            resolved_by = case.resolved_by_refund()
            if resolved_by is None or resolved_by in order.refunds:
                continue
            if capped_to_nothing(self.store.load(RefundCase, UUID(resolved_by))):
                found.append(case)
        return found

    def issue(self, caller: Caller, case_id: UUID, at: datetime) -> CommandResult:
        grant, refund = self.access.case(caller, "IssueRefund", case_id, RefundCase)
        repeated = refund.issued_already()
        if repeated is not None:  # a retry (after a timeout): acknowledged, nothing stored
            return already_recorded(refund, repeated, idempotency_key=refund.idempotency_key)
        refund.issue(actor=grant.actor, at=at)
        self.work.commit(refund)
        return result(refund, idempotency_key=refund.idempotency_key)

    def confirm_settled(
        self, caller: Caller, case_id: UUID, provider_ref: str, at: datetime
    ) -> CommandResult:
        grant, refund = self.access.case(caller, "ConfirmRefundSettled", case_id, RefundCase)
        repeated = refund.settled_already(provider_ref)
        if repeated is not None:  # the same settlement again: acknowledged, nothing stored
            return already_recorded(refund, repeated)
        order = self.store.load(Order, order_aggregate_id(refund.order_id))
        refund.settle(provider_ref=provider_ref, actor=grant.actor, at=at)
        assert refund.amount is not None
        order.settle_refund(
            refund_id=str(refund.id),
            amount=refund.amount.amount,
            timestamp=max(at, order.modified_on),
        )
        self.work.commit(refund, order)
        return result(refund)

    def record_failed(
        self, caller: Caller, case_id: UUID, error: str, at: datetime
    ) -> CommandResult:
        grant, refund = self.access.case(caller, "RecordRefundFailed", case_id, RefundCase)
        refund.fail(error=error, actor=grant.actor, at=at)
        self.work.commit(refund)
        return result(refund)
