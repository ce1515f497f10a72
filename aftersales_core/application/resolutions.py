"""How a return is resolved: a refund, an exchange (with what its price difference settles), or
a repair followed through (sent to the repairer, diagnosed, repaired or not, shipped back), and
the remedy the buyer chooses when a repair fails, as the market's ladder allows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from aftersales_core.application.access import Access, Caller
from aftersales_core.application.customs import customs_return
from aftersales_core.application.refunds import RefundService
from aftersales_core.application.results import CommandResult, result
from aftersales_core.application.returns import returned_lines
from aftersales_core.application.store import Store
from aftersales_core.application.unit_of_work import UnitOfWork
from aftersales_core.decisions import PolicyDecision
from aftersales_core.domain.actor import Actor
from aftersales_core.domain.ids import case_id_for
from aftersales_core.domain.order import Order
from aftersales_core.domain.refunds import RefundCase, RefundStatus
from aftersales_core.domain.returns import ReturnCase
from aftersales_core.errors import IllegalTransitionError, InvalidCommandError
from aftersales_core.money import Money
from aftersales_core.personal import text_of

RESOLUTIONS = ("refund", "exchange", "repair")
REMEDIES = ("refund", "price_reduction", "replacement")


class ResolutionService:
    def __init__(
        self, store: Store, work: UnitOfWork, access: Access, refunds: RefundService
    ) -> None:
        self.store, self.work, self.access, self.refunds = store, work, access, refunds

    def resolve(
        self,
        caller: Caller,
        case_id: UUID,
        at: datetime,
        resolution: str | None = None,
        detail: str | None = None,
        replacement_sku: str | None = None,
        replacement_unit_price: Decimal | None = None,
        replacement_quantity: int | None = None,
    ) -> CommandResult:
        """Resolve with the wanted outcome (or another): a refund opens its RefundCase; an
        exchange names its replacement, and a price difference is refunded or owed."""
        grant, case = self.access.case(caller, "ResolveReturn", case_id, ReturnCase)
        by = grant.actor
        kind = resolution or case.wanted_outcome
        if kind not in RESOLUTIONS:
            raise InvalidCommandError(f"resolution must be refund, exchange or repair: {kind!r}")
        order = self.store.placed_order(case.order_id)
        if kind in ("exchange", "repair"):
            # a refund requested for it (RequestRefund naming it, not rejected) pays its units
            # back: goods on top of that money would be given twice, as a refund after an
            # exchange or a repair would (ReturnCase.check_refundable)
            refunded = self.refunds.refunds_of_return(case, order)
            if refunded:
                raise IllegalTransitionError(
                    case.KIND, case.id, f"be resolved by {kind}",
                    "refunded by refund " + ", ".join(str(r.id) for r in refunded)
                    + " (reject it first, or resolve by refund)")
        if kind == "repair":
            case.resolve(actor=by, resolution=kind, refund_case_id=None, detail=detail, at=at)
            self.work.commit(case)
            return result(case)
        if kind == "exchange":
            if replacement_sku is None or replacement_unit_price is None:
                raise InvalidCommandError("replacement_sku and replacement_unit_price: an "
                                          "exchange names the item sent and its price")
            return self._exchange(case, order, by, at, detail, replacement_sku,
                                  replacement_unit_price, replacement_quantity)
        if case.returnless:  # no goods come back: a cross-border return is no customs return
            decided = customs_return(self.store, case, order,
                                     returned_lines(order, case.lines), None, at)
            if decided is not None:
                case.record_customs(decided[0], at)
        return self._refund_resolution(case, order, by, at, "refund", detail,
                                       _again(case, f"return:{case.id}"), None)

    def _refund_resolution(self, case: ReturnCase, order: Order, by: Actor, at: datetime,
                           kind: str, detail: str | None, key: str,
                           amount: Decimal | None) -> CommandResult:
        refund_id = case_id_for("refund", key)
        standing = self.refunds.refunds_of_return(case, order) if amount is None else []
        refund = self.refunds.open(
            refund_id,
            order,
            source="return",
            source_case_id=str(case.id),
            lines=case.lines if amount is None else [],
            amount=amount,
            reason=case.reason if kind == "refund" else f"{kind.replace('_', ' ')}: "
                                                         f"{case.reason}",
            actor=by,
            at=at,
            source_case=case,
        )
        if standing and refund.status == RefundStatus.REJECTED and case.units_refunded():
            # its units are refunded already (RequestRefunds naming it): those refunds are its
            # resolution, and no second one is opened for the same units (SPEC 3.1). When
            # they cover only some of its units, nothing left is the order's cap (other
            # refunds, a goodwill one say, took what was paid): the refund of the rest is its
            # resolution, rejected with the calculation's reasons, as for a return without
            # earlier refunds; naming a refund of a part would say the whole was refunded
            case.resolve(actor=by, resolution=kind, refund_case_id=standing[-1].id,
                         detail=detail, at=at)
            self.work.commit(case)
            return result(case, refund_case_id=str(standing[-1].id))
        case.resolve(actor=by, resolution=kind, refund_case_id=refund_id, detail=detail, at=at)
        self.work.commit(case, refund, order)
        return result(case, list(refund.decisions), refund_case_id=str(refund_id))

    def _exchange(self, case: ReturnCase, order: Order, by: Actor, at: datetime,
                  detail: str | None, sku: str, price: Decimal, quantity: int | None,
                  key: str | None = None, remedy: bool = False) -> CommandResult:
        """An exchange the buyer chose settles its price difference; a replacement that is
        the remedy after a failed repair (``remedy``) is free of charge to the buyer."""
        assert order.currency is not None
        units = quantity or sum(int(line["quantity"]) for line in case.lines)
        facts = order.facts()
        settlement = self.store.rules_for(order).evaluate("exchange.settlement", {
            "currency": order.currency,
            "order_lines": facts["order_lines"],
            "discount": facts["discount"],
            "returned_lines": [{"line_id": str(x["line_id"]), "quantity": int(x["quantity"])}
                               for x in case.lines],
            "replacement_sku": sku,
            "replacement_quantity": units,
            "replacement_unit_price": str(Money.exact(price, order.currency,
                                                      "replacement_unit_price").amount),
            "remedy": remedy,
        })
        exchange: dict[str, Any] = {
            "replacement_sku": sku, "replacement_quantity": units,
            "replacement_unit_price": str(Money.exact(price, order.currency).amount),
            "settlement": settlement.outcome,
            "refund": settlement.details["refund"],
            "owed_by_buyer": settlement.details["owed_by_buyer"],
            "currency": order.currency,
        }
        difference = settlement.details["refund"]
        refund: RefundCase | None = None
        if difference is not None:
            refund = self.refunds.open(
                case_id_for("refund", key or f"exchange:{case.id}"), order, source="exchange",
                source_case_id=str(case.id), lines=[], amount=Decimal(difference),
                reason=f"price difference of the exchange for {sku}", actor=by, at=at)
        case.resolve(actor=by, resolution="exchange",
                      refund_case_id=None if refund is None else refund.id, detail=detail,
                      at=at, exchange=exchange, settlement=settlement)
        if refund is None:
            self.work.commit(case)
            return result(case, [settlement])
        self.work.commit(case, refund, order)
        return result(case, [settlement, *refund.decisions], refund_case_id=str(refund.id))

    # ---- the repair lifecycle ------------------------------------------------------------------
    def send_to_repair(self, caller: Caller, case_id: UUID, repairer: str, at: datetime
                       ) -> CommandResult:
        grant, case = self.access.case(caller, "SendToRepair", case_id, ReturnCase)
        case.send_to_repair(actor=grant.actor, repairer=repairer, at=at)
        self.work.commit(case)
        return result(case)

    def diagnose_repair(self, caller: Caller, case_id: UUID, fault: str, repairable: bool,
                        at: datetime, note: str = "") -> CommandResult:
        grant, case = self.access.case(caller, "DiagnoseRepair", case_id, ReturnCase)
        case.diagnose(actor=grant.actor, fault=fault, repairable=repairable, note=note, at=at)
        self.work.commit(case)
        return result(case)

    def complete_repair(self, caller: Caller, case_id: UUID, repaired: bool, at: datetime,
                        note: str = "") -> CommandResult:
        """Repaired, or not: a failed repair records what the market's ladder opens."""
        grant, case = self.access.case(caller, "CompleteRepair", case_id, ReturnCase)
        remedies = None if repaired else self._remedies(
            case, text_of(case.repair.get("fault")), case.repair.get("repairable") is not False)
        case.complete_repair(actor=grant.actor, repaired=repaired, note=note, remedies=remedies,
                             at=at)
        self.work.commit(case)
        return result(case, [] if remedies is None else [remedies])

    def ship_repaired_item(self, caller: Caller, case_id: UUID, carrier: str,
                           tracking_number: str, at: datetime) -> CommandResult:
        grant, case = self.access.case(caller, "ShipRepairedItem", case_id, ReturnCase)
        case.ship_repaired(actor=grant.actor, carrier=carrier, tracking_number=tracking_number,
                           at=at)
        self.work.commit(case)
        return result(case)

    def report_repair_failed(self, caller: Caller, case_id: UUID, fault: str, at: datetime
                             ) -> CommandResult:
        """The fault came back after the repair: the ladder decides what that opens."""
        grant, case = self.access.case(caller, "ReportRepairFailed", case_id, ReturnCase)
        remedies = self._remedies(case, fault, True)
        case.report_repair_failed(actor=grant.actor, fault=fault, remedies=remedies, at=at)
        self.work.commit(case)
        return result(case, [remedies])

    def choose_remedy(self, caller: Caller, case_id: UUID, remedy: str, at: datetime,
                      amount: Decimal | None = None, detail: str | None = None,
                      staff_fields: Sequence[str] = ()) -> CommandResult:
        """The buyer's choice after a failed repair: a refund of the returned goods, a price
        reduction of ``amount``, or a replacement of the same item (another repair is
        ``SendToRepair``). A price reduction's amount is the merchant's offer: staff record it
        (``staff_fields`` names what only staff may set; a customer's carrying one is denied)."""
        if remedy not in REMEDIES:
            raise InvalidCommandError(f"remedy must be one of {', '.join(REMEDIES)}: {remedy!r}")
        grant, case = self.access.case(caller, "ChooseRemedy", case_id, ReturnCase,
                                       {"staff_fields": list(staff_fields)})
        by = grant.actor
        if remedy == "price_reduction" and amount is None and by.role == "customer":
            raise InvalidCommandError(
                "amount: a price reduction's amount is the merchant's offer: ask customer "
                "service to record it, or choose a refund or a replacement")
        case.check_remedy(remedy)
        order = self.store.placed_order(case.order_id)
        attempt = int(case.repair.get("attempts", 0))
        key = _again(case, f"return:{case.id}:remedy:{attempt}")
        if remedy == "price_reduction":
            if amount is None:
                raise InvalidCommandError("amount: a price reduction names its amount")
            return self._refund_resolution(case, order, by, at, "price_reduction", detail, key,
                                           amount)
        if remedy == "refund":
            return self._refund_resolution(case, order, by, at, "refund", detail, key, None)
        if len(case.lines) != 1:
            raise InvalidCommandError("remedy: a replacement of several lines is an exchange: "
                                      "ResolveReturn names what is sent")
        line = order.line(str(case.lines[0]["line_id"]))
        assert line is not None
        return self._exchange(case, order, by, at, detail, str(line["sku"]),
                              Decimal(str(line["unit_price"])), None, key, remedy=True)

    def _remedies(self, case: ReturnCase, fault: str, repairable: bool) -> PolicyDecision:
        """The ladder's decision, from counts only: the fault is compared here, never
        recorded (a buyer's words are their personal data)."""
        order = self.store.placed_order(case.order_id)
        eligibility = case.latest("return.eligibility")
        market = eligibility.inputs.get("market") if eligibility else order.market
        failed, same = case.failed_repairs(fault or "unnamed fault")
        return self.store.rules_for(order).evaluate("repair.remedies", {
            "market": market,
            "repairable": repairable,
            "failed_repairs": failed,
            "same_fault_failures": same,
        })


def _again(case: ReturnCase, key: str) -> str:
    """The key of the refund a resolution opens: ``key``, or once a rejected refund reopened
    the return, a key of its own for each reopening (the refund rejected keeps the first)."""
    return key if case.reopenings == 0 else f"{key}:reopened:{case.reopenings}"
