"""How a return is resolved: a refund, an exchange (with what its price difference settles), or
a repair followed through (sent to the repairer, diagnosed, repaired or not, shipped back), and
the remedy the buyer chooses when a repair fails, as the market's ladder allows."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from aftersales_core.application.base import CommandResult, result
from aftersales_core.application.customs import customs_return
from aftersales_core.application.returns import ReturnServices, returned_lines
from aftersales_core.decisions import PolicyDecision
from aftersales_core.domain.ids import case_id_for
from aftersales_core.domain.order import Order
from aftersales_core.domain.refunds import RefundCase
from aftersales_core.domain.returns import ReturnCase
from aftersales_core.errors import InvalidCommandError
from aftersales_core.money import Money

RESOLUTIONS = ("refund", "exchange", "repair")
REMEDIES = ("refund", "price_reduction", "replacement")


class ResolutionServices(ReturnServices):
    def resolve_return(
        self,
        case_id: UUID,
        by: str,
        at: datetime,
        resolution: str | None = None,
        detail: str | None = None,
        replacement_sku: str | None = None,
        replacement_unit_price: Decimal | None = None,
        replacement_quantity: int | None = None,
    ) -> CommandResult:
        """Resolve with the wanted outcome (or another): a refund opens its RefundCase; an
        exchange names its replacement, and a price difference is refunded or owed."""
        case = self.load(ReturnCase, case_id)
        kind = resolution or case.wanted_outcome
        if kind not in RESOLUTIONS:
            raise InvalidCommandError(f"resolution must be refund, exchange or repair: {kind!r}")
        order = self.placed_order(case.order_id)
        if kind == "repair":
            case.resolve(by=by, resolution=kind, refund_case_id=None, detail=detail, at=at)
            self.save_all(case)
            return result(case)
        if kind == "exchange":
            if replacement_sku is None or replacement_unit_price is None:
                raise InvalidCommandError("replacement_sku and replacement_unit_price: an "
                                          "exchange names the item sent and its price")
            return self._exchange(case, order, by, at, detail, replacement_sku,
                                  replacement_unit_price, replacement_quantity)
        if case.returnless:  # no goods come back: a cross-border return is no customs return
            decided = customs_return(self, case, order, returned_lines(order, case.lines), None,
                                     at)
            if decided is not None:
                case.record_customs(decided[0], at)
        return self._refund_resolution(case, order, by, at, "refund", detail,
                                       f"return:{case.id}", None)

    def _refund_resolution(self, case: ReturnCase, order: Order, by: str, at: datetime,
                           kind: str, detail: str | None, key: str,
                           amount: Decimal | None) -> CommandResult:
        refund_id = case_id_for("refund", key)
        case.resolve(by=by, resolution=kind, refund_case_id=refund_id, detail=detail, at=at)
        refund = self.build_refund(
            refund_id,
            order,
            source="return",
            source_case_id=str(case.id),
            lines=case.lines if amount is None else [],
            amount=amount,
            reason=case.reason if kind == "refund" else f"{kind.replace('_', ' ')}: "
                                                         f"{case.reason}",
            requested_by=by,
            at=at,
            source_case=case,
        )
        self.save_all(case, refund, order)
        return result(case, list(refund.decisions), refund_case_id=str(refund_id))

    def _exchange(self, case: ReturnCase, order: Order, by: str, at: datetime,
                  detail: str | None, sku: str, price: Decimal, quantity: int | None,
                  key: str | None = None) -> CommandResult:
        assert order.currency is not None
        units = quantity or sum(int(line["quantity"]) for line in case.lines)
        facts = order.facts()
        settlement = self.rules_for(order).evaluate("exchange.settlement", {
            "currency": order.currency,
            "order_lines": facts["order_lines"],
            "discount": facts["discount"],
            "returned_lines": [{"line_id": str(x["line_id"]), "quantity": int(x["quantity"])}
                               for x in case.lines],
            "replacement_sku": sku,
            "replacement_quantity": units,
            "replacement_unit_price": str(Money.exact(price, order.currency).amount),
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
            refund = self.build_refund(
                case_id_for("refund", key or f"exchange:{case.id}"), order, source="exchange",
                source_case_id=str(case.id), lines=[], amount=Decimal(difference),
                reason=f"price difference of the exchange for {sku}", requested_by=by, at=at)
        case.resolve(by=by, resolution="exchange",
                      refund_case_id=None if refund is None else refund.id, detail=detail,
                      at=at, exchange=exchange, settlement=settlement)
        if refund is None:
            self.save_all(case)
            return result(case, [settlement])
        self.save_all(case, refund, order)
        return result(case, [settlement, *refund.decisions], refund_case_id=str(refund.id))

    # ---- the repair lifecycle ------------------------------------------------------------------
    def send_to_repair(self, case_id: UUID, by: str, repairer: str, at: datetime
                       ) -> CommandResult:
        case = self.load(ReturnCase, case_id)
        case.send_to_repair(by=by, repairer=repairer, at=at)
        self.save_all(case)
        return result(case)

    def diagnose_repair(self, case_id: UUID, by: str, fault: str, repairable: bool,
                        at: datetime, note: str = "") -> CommandResult:
        case = self.load(ReturnCase, case_id)
        case.diagnose(by=by, fault=fault, repairable=repairable, note=note, at=at)
        self.save_all(case)
        return result(case)

    def complete_repair(self, case_id: UUID, by: str, repaired: bool, at: datetime,
                        note: str = "") -> CommandResult:
        """Repaired, or not: a failed repair records what the market's ladder opens."""
        case = self.load(ReturnCase, case_id)
        remedies = None if repaired else self._remedies(
            case, str(case.repair.get("fault", "")), case.repair.get("repairable") is not False)
        case.complete_repair(by=by, repaired=repaired, note=note, remedies=remedies, at=at)
        self.save_all(case)
        return result(case, [] if remedies is None else [remedies])

    def ship_repaired_item(self, case_id: UUID, by: str, carrier: str, tracking_number: str,
                           at: datetime) -> CommandResult:
        case = self.load(ReturnCase, case_id)
        case.ship_repaired(by=by, carrier=carrier, tracking_number=tracking_number, at=at)
        self.save_all(case)
        return result(case)

    def report_repair_failed(self, case_id: UUID, by: str, fault: str, at: datetime
                             ) -> CommandResult:
        """The fault came back after the repair: the ladder decides what that opens."""
        case = self.load(ReturnCase, case_id)
        remedies = self._remedies(case, fault, True)
        case.report_repair_failed(by=by, fault=fault, remedies=remedies, at=at)
        self.save_all(case)
        return result(case, [remedies])

    def choose_remedy(self, case_id: UUID, by: str, remedy: str, at: datetime,
                      amount: Decimal | None = None, detail: str | None = None
                      ) -> CommandResult:
        """The buyer's choice after a failed repair: a refund of the returned goods, a price
        reduction of ``amount``, or a replacement of the same item (another repair is
        ``SendToRepair``)."""
        if remedy not in REMEDIES:
            raise InvalidCommandError(f"remedy must be one of {', '.join(REMEDIES)}: {remedy!r}")
        case = self.load(ReturnCase, case_id)
        case.check_remedy(remedy)
        order = self.placed_order(case.order_id)
        attempt = int(case.repair.get("attempts", 0))
        key = f"return:{case.id}:remedy:{attempt}"
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
                              Decimal(str(line["unit_price"])), None, key)

    def _remedies(self, case: ReturnCase, fault: str, repairable: bool) -> PolicyDecision:
        order = self.placed_order(case.order_id)
        eligibility = case.latest("return.eligibility")
        market = eligibility.inputs.get("market") if eligibility else order.market
        return self.rules_for(order).evaluate("repair.remedies", {
            "market": market,
            "fault": fault or "unnamed fault",
            "repairable": repairable,
            "earlier_failed_faults": list(case.repair.get("failed_faults", [])),
        })
