"""Upstream facts (orders.v1, shipments.v1): applied once per event id, with their effects on
cases (returns shipped back or received, logistics exceptions that open cases by policy).

Each fact is an operation of the permission matrix (``OrderPlaced``, ``OrderPaid``,
``OrderCancelled``, ``ShipmentScanned``): an ``upstream`` principal delivers them, a ``carrier``
return-shipment scans only. Each fact the order records names who delivered it: the principal
the entry point authenticated and the role it acted in (``by``, ``role``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from aftersales_core.application.access import Access, Caller
from aftersales_core.application.customs import (
    book_quota_use,
    rebook_quota_use,
    receive_goods,
    release_quota_use,
)
from aftersales_core.application.logistics import EXCEPTIONS, LogisticsExceptions
from aftersales_core.application.refunds import RefundService
from aftersales_core.application.returns import returned_lines
from aftersales_core.application.store import Store
from aftersales_core.application.unit_of_work import UnitOfWork
from aftersales_core.domain.actor import POLICY, Actor
from aftersales_core.domain.base import require_aware
from aftersales_core.domain.ids import (
    case_id_for,
    check_customer_id,
    check_merchant_id,
    order_aggregate_id,
    order_subject,
    upstream_event_aggregate_id,
)
from aftersales_core.domain.order import Order, scan_kind
from aftersales_core.domain.returns import ReturnCase
from aftersales_core.domain.upstream_ids import UpstreamEventId
from aftersales_core.errors import AlreadyExistsError, InvalidCommandError
from aftersales_core.money import Money, check_currency
from aftersales_core.personal import PersonalData
from aftersales_core.policies.calendar import zone


@dataclass
class UpstreamResult:
    """What one upstream event did: nothing (a redelivery) or the facts and effects listed;
    ``held``: applied to an order not placed (yet), so nothing follows from it until it is."""

    event_id: str
    order_id: str
    applied: bool
    effects: list[str] = field(default_factory=list)
    held: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "order_id": self.order_id,
            "applied": self.applied,
            "effects": self.effects,
        }


def buyers(customer_id: str | None, extra: str, order_id: str) -> str | PersonalData:
    """The unknown fields a fact carried, as the personal data of the order's buyer (they may
    name them, an address, a phone), erased with them; while the buyer is not known yet (a fact
    before the order's placement), the personal data of the order itself (``order_subject``:
    linked to the buyer by the placement, erased with them); empty text when there are none."""
    if not extra:
        return extra
    return PersonalData(customer_id or order_subject(order_id), extra)


def held(order_id: str) -> str:
    """The effect that says a fact is kept for an order not placed (yet): upstream topics are
    not ordered with each other, so a shipment scan may come first, and a payment or a
    cancellation whose OrderPlaced was refused waits for the corrected one. Nothing follows
    from it (no refund, no case, no quota) until the order is placed; then it counts."""
    return (f"held: order {order_id} has not been placed (no OrderPlaced accepted for it), "
            "so nothing follows from this fact until it is")


def before_placement(kind: str, order_id: str, at: datetime, placed_at: datetime) -> str:
    """Why a fact dated before its order's placement is refused: no cancellation, shipment or
    customs scan happens to an order before it exists, and the cases such a fact opens would be
    dated before their order, their deadlines breached at once. A payment is not checked: a
    checkout may capture it before the order service records the order, and it opens no case."""
    return (f"occurred_at: {at.isoformat()} is before order {order_id} was placed "
            f"({placed_at.isoformat()}): this {kind} fact cannot predate its order")


def fact_digest(kind: str, order_id: str, occurred_at: datetime, body: dict[str, Any]) -> str:
    """A digest of a fact's known fields (its unknown ones, ``extra``, are left out: they may
    be the buyer's personal data), to tell a redelivery from another message under its id."""
    known = {k: v for k, v in body.items() if k != "extra"}
    text = json.dumps({"kind": kind, "order_id": order_id, "occurred_at": occurred_at.isoformat(),
                       "fields": known}, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


#: Facts not checked against the placement's time: the placement itself, and a payment (a
#: checkout may capture it before the order service records the order; it opens no case).
UNDATED_BY_PLACEMENT = frozenset({"OrderPlaced", "OrderPaid"})

#: What a fact does to its order, given who delivered it; appends its effects, returns the
#: other aggregates it changed.
Change = Callable[[Order, Actor, list[str]], list[Aggregate]]


class UpstreamService:
    def __init__(
        self,
        store: Store,
        work: UnitOfWork,
        access: Access,
        refunds: RefundService,
        logistics: LogisticsExceptions,
    ) -> None:
        self.store, self.work, self.access = store, work, access
        self.refunds, self.logistics = refunds, logistics

    def _receive(self, caller: Caller, operation: str, facts: dict[str, Any], event_id: str,
                 order_id: str, occurred_at: datetime, apply: Change, kind: str,
                 body: dict[str, Any]) -> UpstreamResult:
        """The one way a fact is received: the principal may deliver it; its event id is
        looked up in the whole store (``UpstreamEventId``): a redelivery of the fact that took
        it (the same order, kind and known fields) changes nothing, any other message under it
        is refused naming the order that took it; else the order (or a new one) is loaded, a
        fact of a placed order dated before its placement is refused, ``apply`` changes the
        order and says what else changed, and everything, the id's claim with it, is saved in
        one unit of work (a concurrent claim of the same id fails it as a concurrent change)."""
        grant = self.access.require(caller, operation, facts)
        require_aware(occurred_at, "occurred_at")
        digest = fact_digest(kind, order_id, occurred_at, body)
        claim = self.store.find(UpstreamEventId, upstream_event_aggregate_id(event_id))
        if claim is not None:
            if claim.same_fact(order_id, kind, digest):
                return UpstreamResult(event_id, order_id, applied=False)
            # event ids are unique in the store (SPEC §4.1): the same id on another order, on
            # a fact of another kind or with other fields is no redelivery, and is refused
            # (dead-lettered) rather than dropped unseen, so a carrier (who may send return
            # scans only) cannot make the order's placement, a payment or its delivery pass
            # for "already seen" by sending a scan under its id first, nor an id reused on
            # another order leave that order's fact (and the case it opens) unapplied
            raise InvalidCommandError(
                f"event_id: {event_id!r} was already used for order {claim.order_id} (its "
                f"{claim.kind} fact); event ids are unique, and this {kind} fact of order "
                f"{order_id} is no redelivery of it")
        order = self.store.find(Order, order_aggregate_id(order_id)) or Order(
            order_id=order_id, timestamp=occurred_at
        )
        if order.has_seen(event_id, kind):  # stored before ids were claimed store-wide
            return UpstreamResult(event_id, order_id, applied=False)
        used = order.kind_of(event_id)
        if used is not None:
            raise InvalidCommandError(
                f"event_id: {event_id!r} was already used for order {order_id} (its {used} "
                f"fact); event ids are unique, and this {kind} fact is no redelivery of it")
        if (kind not in UNDATED_BY_PLACEMENT and order.placed_at is not None
                and occurred_at < order.placed_at):
            raise InvalidCommandError(before_placement(kind, order_id, occurred_at,
                                                       order.placed_at))
        effects: list[str] = []
        also = apply(order, grant.actor, effects)
        if not order.placed:
            effects.append(held(order_id))
        taken = UpstreamEventId(event_id=event_id, order_id=order_id, kind=kind,
                                digest=digest, timestamp=occurred_at)
        self.work.commit(order, taken, *also)
        return UpstreamResult(event_id, order_id, applied=True, effects=effects,
                              held=not order.placed)

    def order_placed(
        self,
        caller: Caller,
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
        buyer_timezone: str | None = None,
        buyer_informed_of_return_cost: bool | None = None,
        extra: str = "",
        estimated_delivery_at: str | None = None,
    ) -> UpstreamResult:
        def place(order: Order, actor: Actor, effects: list[str]) -> list[Aggregate]:
            if buyer_timezone is not None:
                zone(buyer_timezone)  # an IANA name, or an error naming it
            if merchant_id is not None:
                check_merchant_id(merchant_id)  # its policy book must be reachable
            check_customer_id(customer_id)  # never the marker erased rows read as
            if order.placed:
                raise AlreadyExistsError(
                    f"order {order_id} was placed already (another event id)")
            check_currency(currency)
            order.check_currency(currency)
            amounts = [Money.exact(a, currency, name) for name, a in (
                ("shipping_fee", shipping_fee), ("duties", duties), ("taxes", taxes),
                ("discount", discount), ("total", total))]
            for number, line in enumerate(lines):
                Money.exact(line["unit_price"], currency, f"lines.{number}.unit_price")
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
                extra=buyers(customer_id, extra, order_id),
                by=actor.principal_id,
                role=actor.role,
                timestamp=max(occurred_at, order.modified_on),
                buyer_timezone=buyer_timezone,
                buyer_informed_of_return_cost=buyer_informed_of_return_cost,
                estimated_delivery_at=estimated_delivery_at,
            )
            customer = self.store.customer(customer_id, occurred_at)
            customer.add_order(order_id, max(occurred_at, customer.modified_on))
            effects.append("order placed")
            caught_up = self.logistics.catch_up(order, effects, customer)
            return [customer, *caught_up, *book_quota_use(self.store, order, effects)]

        body = {"customer_id": customer_id, "market": market, "currency": currency,
                "fulfilment": fulfilment, "lines": lines, "shipping_fee": shipping_fee,
                "duties": duties, "taxes": taxes, "total": total, "discount": discount,
                "merchant_id": merchant_id, "channel": channel,
                "buyer_timezone": buyer_timezone,
                "buyer_informed_of_return_cost": buyer_informed_of_return_cost,
                "estimated_delivery_at": estimated_delivery_at}
        return self._receive(caller, "OrderPlaced", {"order_id": order_id}, event_id, order_id,
                             occurred_at, place, "OrderPlaced", body)

    def order_paid(
        self,
        caller: Caller,
        event_id: str,
        occurred_at: datetime,
        order_id: str,
        payment_id: str,
        method: str,
        amount: Decimal,
        currency: str,
        extra: str = "",
    ) -> UpstreamResult:
        def pay(order: Order, actor: Actor, effects: list[str]) -> list[Aggregate]:
            order.check_currency(check_currency(currency))
            money = Money.exact(amount, currency, "amount")
            if money.is_negative():
                raise InvalidCommandError(f"order {order_id}: a payment cannot be negative")
            order.pay(
                event_id=event_id,
                payment_id=payment_id,
                method=method,
                amount=money.amount,
                currency=currency,
                paid_at=occurred_at,
                by=actor.principal_id,
                role=actor.role,
                timestamp=max(occurred_at, order.modified_on),
                extra=buyers(order.customer_id, extra, order_id),
            )
            effects.append(f"paid {money}" if order.placed else
                           f"payment {payment_id} of {money}")
            caught_up = self.logistics.catch_up(order, effects)
            return [*caught_up, *book_quota_use(self.store, order, effects)]

        body = {"payment_id": payment_id, "method": method, "amount": amount,
                "currency": currency}
        return self._receive(caller, "OrderPaid", {"order_id": order_id}, event_id, order_id,
                             occurred_at, pay, "OrderPaid", body)

    def order_cancelled(
        self,
        caller: Caller,
        event_id: str,
        occurred_at: datetime,
        order_id: str,
        reason: str,
        extra: str = "",
    ) -> UpstreamResult:
        """A cancelled, paid order is owed what is left to refund: a RefundCase opens."""

        def cancel(order: Order, actor: Actor, effects: list[str]) -> list[Aggregate]:
            order.cancel(
                event_id=event_id,
                reason=reason,
                cancelled_at=occurred_at,
                by=actor.principal_id,
                role=actor.role,
                timestamp=max(occurred_at, order.modified_on),
                extra=buyers(order.customer_id, extra, order_id),
            )
            effects.append("order cancelled")
            released = release_quota_use(self.store, order, effects)
            if not (order.placed and order.payments and not order.refundable.is_zero()):
                return released
            delivered = order.delivered_parcels()
            refund = self.refunds.open(
                case_id_for("refund", f"cancellation:{order_id}"),
                order,
                source="cancellation",
                source_case_id=None,
                lines=[],
                amount=None,
                reason=reason,
                actor=POLICY,
                at=occurred_at,
                # goods delivered before the cancellation are with the buyer: whether to refund
                # the whole order without them coming back is a person's call
                review=(f"the order was cancelled after its parcel {', '.join(delivered)} was "
                        "delivered: the goods are with the buyer, so a supervisor decides "
                        "whether to refund without them coming back") if delivered else None,
            )
            effects.append(f"refund {refund.id} {refund.status.value}")
            return [refund, *released]

        return self._receive(caller, "OrderCancelled", {"order_id": order_id}, event_id,
                             order_id, occurred_at, cancel, "OrderCancelled", {"reason": reason})

    def shipment_scanned(
        self,
        caller: Caller,
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
        def scan(order: Order, actor: Actor, effects: list[str]) -> list[Aggregate]:
            known = order.shipments.get(shipment_id)
            if known is not None and known["direction"] != direction:
                # a carrier may report return scans only: one naming the outbound shipment
                # would rewrite what the delivery watchdog and the customs clocks read
                raise InvalidCommandError(
                    f"shipment_id: {shipment_id!r} of order {order_id} is its "
                    f"{known['direction']} shipment; a {direction} scan cannot name it")
            order.record_shipment(
                event_id=event_id,
                shipment_id=shipment_id,
                carrier=carrier,
                direction=direction,
                scan=event_type,
                occurred_at=occurred_at,
                location=location,
                detail=detail,
                by=actor.principal_id,
                role=actor.role,
                timestamp=max(occurred_at, order.modified_on),
                extra=buyers(order.customer_id, extra, order_id),
            )
            effects.append(f"{direction} shipment {shipment_id} {event_type}")
            if direction == "return":
                moved = self._return_moved(order, shipment_id, carrier, event_type,
                                           occurred_at, effects, actor)
                if event_type in EXCEPTIONS and order.placed:  # a lost return parcel
                    moved += self.logistics.open_cases(order, event_id, event_type,
                                                       occurred_at, effects,
                                                       direction="return")
                return moved
            if event_type == "CustomsReleased":  # after a cancellation gave the quota back
                return rebook_quota_use(self.store, order, effects)
            if event_type in EXCEPTIONS and order.placed:
                return self.logistics.open_cases(order, event_id, event_type, occurred_at,
                                                 effects)
            return []

        body = {"shipment_id": shipment_id, "carrier": carrier, "direction": direction,
                "event_type": event_type, "location": location, "detail": detail}
        return self._receive(caller, "ShipmentScanned",
                             {"order_id": order_id, "direction": direction}, event_id, order_id,
                             occurred_at, scan, scan_kind(direction, event_type), body)

    def _return_moved(
        self,
        order: Order,
        shipment_id: str,
        carrier: str,
        scan: str,
        at: datetime,
        effects: list[str],
        actor: Actor,
    ) -> list[Aggregate]:
        """Move the return the scanned parcel belongs to (``ReturnCase.carries``: its label's
        tracking number, or the shipment it was recorded shipped back under); a parcel no
        return carries is the one return that can take the scan among those with no known
        parcel (no label, no shipment recorded: a buyer shipping with their own carrier),
        since a labelled return's parcel carries its label's number; with none such, the one
        return that can take it; and, when several could, none: one parcel is not the way
        back of two returns, so the scan stays recorded on the order and the effects say so."""
        cases = [self.store.load(ReturnCase, UUID(case_id))
                 for case_id in order.case_ids("return")]
        own = [case for case in cases if case.carries(shipment_id)]
        could = [case for case in own or cases if case.takes_scan(scan)]
        if not own:
            could = [case for case in could if case.parcel_unknown()] or could
        if not own and len(could) > 1:
            effects.append(
                f"return shipment {shipment_id} {scan} matches no single return: "
                f"{len(could)} returns could take it "
                f"({', '.join(str(case.id) for case in could)}) and none carries it as its "
                "label's tracking number, so none is moved (the scan stays recorded on the "
                "order)")
            return []
        changed: list[Aggregate] = []
        for case in could:
            stamp = max(at, case.modified_on)
            if scan == "Delivered":
                items = returned_lines(order, case.lines)
                changed += receive_goods(self.store, case, order, items, actor, shipment_id,
                                         stamp)
            else:
                case.shipped_back(shipment_id=shipment_id, carrier=carrier, actor=actor, at=stamp)
            effects.append(f"return {case.id} {case.status.value}")
            changed.append(case)
        return changed
