"""Upstream facts (orders.v1, shipments.v1): applied once per event id, with their effects on
cases (returns shipped back or received, logistics exceptions that open cases by policy)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from aftersales_core import policies
from aftersales_core.application.complaints import ComplaintServices
from aftersales_core.domain.base import require_aware
from aftersales_core.domain.customer import Customer
from aftersales_core.domain.ids import case_id_for, order_aggregate_id
from aftersales_core.domain.order import Order
from aftersales_core.domain.returns import ReturnCase, ReturnStatus
from aftersales_core.errors import InvalidCommandError
from aftersales_core.money import Money, check_currency

EXCEPTIONS = ("Lost", "Damaged", "DeliveryFailed", "CustomsHeld")
CATEGORY_OF = {"logistics_delay": "logistics_delay", "damaged": "damaged", "customs": "customs"}


@dataclass
class UpstreamResult:
    """What one upstream event did: nothing (a redelivery) or the facts and effects listed."""

    event_id: str
    order_id: str
    applied: bool
    effects: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "order_id": self.order_id,
            "applied": self.applied,
            "effects": self.effects,
        }


class UpstreamServices(ComplaintServices):
    def _order_for(self, order_id: str, at: datetime) -> Order:
        require_aware(at, "occurred_at")
        return self.find(Order, order_aggregate_id(order_id)) or Order(
            order_id=order_id, timestamp=at
        )

    def order_placed(
        self,
        event_id: str,
        occurred_at: datetime,
        order_id: str,
        customer_id: str,
        market: str,
        currency: str,
        fulfilment: str,
        lines: list[dict[str, Any]],
        shipping_fee: Decimal,
        duties: Decimal,
        taxes: Decimal,
        total: Decimal,
        discount: Decimal = Decimal(0),
        merchant_id: str | None = None,
        channel: str | None = None,
        extra: str = "",
    ) -> UpstreamResult:
        order = self._order_for(order_id, occurred_at)
        if order.has_seen(event_id):
            return UpstreamResult(event_id, order_id, applied=False)
        if order.placed:
            raise InvalidCommandError(f"order {order_id} was placed already (another event id)")
        check_currency(currency)
        order.check_currency(currency)
        amounts = [Money.exact(a, currency) for a in (shipping_fee, duties, taxes, discount, total)]
        for line in lines:
            Money.exact(line["unit_price"], currency)
        if any(a.is_negative() for a in amounts):
            raise InvalidCommandError(f"order {order_id}: amounts must not be negative")
        order.place(
            event_id=event_id,
            customer_id=customer_id,
            market=market,
            currency=currency,
            fulfilment=fulfilment,
            lines=lines,
            shipping_fee=amounts[0].amount,
            duties=amounts[1].amount,
            taxes=amounts[2].amount,
            discount=amounts[3].amount,
            total=amounts[4].amount,
            placed_at=occurred_at,
            merchant_id=merchant_id,
            channel=channel,
            extra=extra,
            timestamp=max(occurred_at, order.modified_on),
        )
        customer = self.customer(customer_id, occurred_at)
        customer.add_order(order_id, max(occurred_at, customer.modified_on))
        effects = ["order placed"]
        caught_up = self._catch_up_exceptions(order, effects, customer)
        self.save_all(order, customer, *caught_up)
        return UpstreamResult(event_id, order_id, applied=True, effects=effects)

    def order_paid(
        self,
        event_id: str,
        occurred_at: datetime,
        order_id: str,
        payment_id: str,
        method: str,
        amount: Decimal,
        currency: str,
        extra: str = "",
    ) -> UpstreamResult:
        order = self._order_for(order_id, occurred_at)
        if order.has_seen(event_id):
            return UpstreamResult(event_id, order_id, applied=False)
        order.check_currency(check_currency(currency))
        money = Money.exact(amount, currency)
        if money.is_negative():
            raise InvalidCommandError(f"order {order_id}: a payment cannot be negative")
        order.pay(
            event_id=event_id,
            payment_id=payment_id,
            method=method,
            amount=money.amount,
            currency=currency,
            paid_at=occurred_at,
            timestamp=max(occurred_at, order.modified_on),
            extra=extra,
        )
        effects = [f"paid {money}"]
        caught_up = self._catch_up_exceptions(order, effects)
        self.save_all(order, *caught_up)
        return UpstreamResult(event_id, order_id, applied=True, effects=effects)

    def order_cancelled(
        self,
        event_id: str,
        occurred_at: datetime,
        order_id: str,
        reason: str,
        extra: str = "",
    ) -> UpstreamResult:
        """A cancelled, paid order is owed what is left to refund: a RefundCase opens."""
        order = self._order_for(order_id, occurred_at)
        if order.has_seen(event_id):
            return UpstreamResult(event_id, order_id, applied=False)
        order.cancel(
            event_id=event_id,
            reason=reason,
            cancelled_at=occurred_at,
            timestamp=max(occurred_at, order.modified_on),
            extra=extra,
        )
        effects: list[str] = ["order cancelled"]
        to_save: list[Aggregate] = [order]
        if order.placed and order.payments and not order.refundable.is_zero():
            refund = self.build_refund(
                case_id_for("refund", f"cancellation:{order_id}"),
                order,
                source="cancellation",
                source_case_id=None,
                lines=[],
                amount=None,
                reason=reason,
                requested_by="system",
                at=occurred_at,
            )
            effects.append(f"refund {refund.id} {refund.status.value}")
            to_save.append(refund)
        self.save_all(*to_save)
        return UpstreamResult(event_id, order_id, applied=True, effects=effects)

    def shipment_scanned(
        self,
        event_id: str,
        occurred_at: datetime,
        order_id: str,
        shipment_id: str,
        carrier: str,
        direction: str,
        event_type: str,
        location: str | None = None,
        detail: str | None = None,
        extra: str = "",
    ) -> UpstreamResult:
        order = self._order_for(order_id, occurred_at)
        if order.has_seen(event_id):
            return UpstreamResult(event_id, order_id, applied=False)
        order.record_shipment(
            event_id=event_id,
            shipment_id=shipment_id,
            carrier=carrier,
            direction=direction,
            scan=event_type,
            occurred_at=occurred_at,
            location=location,
            detail=detail,
            timestamp=max(occurred_at, order.modified_on),
            extra=extra,
        )
        effects = [f"{direction} shipment {shipment_id} {event_type}"]
        to_save: list[Aggregate] = [order]
        if direction == "return":
            to_save += self._return_moved(
                order, shipment_id, carrier, event_type, occurred_at, effects
            )
        elif event_type in EXCEPTIONS and order.placed:
            to_save += self._logistics_exception(order, event_id, event_type, occurred_at, effects)
        self.save_all(*to_save)
        return UpstreamResult(event_id, order_id, applied=True, effects=effects)

    def _return_moved(
        self,
        order: Order,
        shipment_id: str,
        carrier: str,
        scan: str,
        at: datetime,
        effects: list[str],
    ) -> list[Aggregate]:
        changed: list[Aggregate] = []
        for case_id in order.case_ids("return"):
            case = self.load(ReturnCase, UUID(case_id))
            stamp = max(at, case.modified_on)
            if scan == "Delivered" and case.status in (
                ReturnStatus.APPROVED,
                ReturnStatus.LABEL_ISSUED,
                ReturnStatus.SHIPPED_BACK,
            ):
                case.receive(by="warehouse", shipment_id=shipment_id, at=stamp)
            elif scan != "Delivered" and case.can_record_shipped():
                case.shipped_back(shipment_id=shipment_id, carrier=carrier, at=stamp)
            else:
                continue
            effects.append(f"return {case.id} {case.status.value}")
            changed.append(case)
        return changed

    def _catch_up_exceptions(
        self, order: Order, effects: list[str], customer: Customer | None = None
    ) -> list[Aggregate]:
        """Exceptions scanned before the order was placed or paid (the topics are not ordered
        with each other) open their cases now; cases opened already are left alone."""
        if not order.placed:
            return []
        changed: list[Aggregate] = []
        for scan in order.outbound_scans(EXCEPTIONS):
            at = max(datetime.fromisoformat(scan["at"]), order.modified_on)
            changed += self._logistics_exception(
                order, scan["event_id"], scan["scan"], at, effects, customer
            )
        unique = {id(c): c for c in changed if c is not customer}  # aggregates are unhashable
        return list(unique.values())

    def _logistics_exception(
        self,
        order: Order,
        event_id: str,
        scan: str,
        at: datetime,
        effects: list[str],
        customer: Customer | None = None,
    ) -> list[Aggregate]:
        """Open the cases the logistics policy asks for, before the customer complains.

        Case ids derive from the scan's event id, so a case is never opened twice."""
        assert order.customer_id is not None
        complaint_id = case_id_for("complaint", f"logistics:{event_id}")
        refund_id = case_id_for("refund", f"logistics:{event_id}")
        owed = bool(order.payments) and not order.refundable.is_zero()
        if self.exists(complaint_id) and (self.exists(refund_id) or not owed):
            return []
        decision = policies.evaluate(
            "logistics.exception",
            {
                "event_type": scan,
                "direction": "outbound",
                "occurred_at": at.isoformat(),
                "since": at.isoformat() if scan == "CustomsHeld" else None,
                "market": order.market,
                "fulfilment": order.fulfilment,
                "currency": order.currency,
                "order_value": str(order.total),
            },
        )
        if decision.outcome == "none":
            return []
        changed: list[Aggregate] = []
        if not self.exists(complaint_id):
            customer = customer or self.customer(order.customer_id, at)
            complaint = self.build_complaint(
                complaint_id,
                order,
                customer,
                channel="platform" if order.channel == "platform" else "email",
                category=CATEGORY_OF.get(
                    decision.details.get("complaint_category", ""), "logistics_delay"
                ),
                description=f"Proactive case: parcel {scan} ({'; '.join(decision.reasons)})",
                filed_by="logistics-watchdog",
                at=at,
                cause=decision,
            )
            effects.append(f"complaint {complaint.id} opened")
            changed += [complaint, customer]
        if decision.details.get("refund") and owed and not self.exists(refund_id):
            refund = self.build_refund(
                refund_id,
                order,
                source="logistics_exception",
                source_case_id=str(complaint_id),
                lines=[],
                amount=None,
                reason=f"parcel {scan}",
                requested_by="system",
                at=at,
            )
            effects.append(f"refund {refund.id} {refund.status.value}")
            changed.append(refund)
        return changed
