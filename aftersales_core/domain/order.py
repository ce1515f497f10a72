"""Order facts: what upstream services told us about an order, kept in the same store so every
decision can be re-derived from the store alone; each fact records who delivered it (``by``,
the authenticated principal's id, and ``role``: domain/actor.py). The unknown fields a fact
carried (``extra``, kept as upstream sent them: they may name the buyer, an address, a phone)
are the buyer's personal data: sealed under their key and erased with them (before the
placement names the buyer, under the order's own key, which the placement links to them:
``order_subject``). Also the ledgers against the
order: of refunds, which keeps cumulative refunds at or below what was paid, and of returned
units, which keeps the units of each line in returns at or below what was ordered, even under
concurrency."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from aftersales_core.decisions import PolicyDecision
from aftersales_core.domain.actor import upcast_actor_v1_v2
from aftersales_core.domain.deadlines import Deadline, deadline_events
from aftersales_core.domain.ids import order_aggregate_id
from aftersales_core.domain.watchdog import OrderWatchdog
from aftersales_core.errors import (
    CurrencyMismatchError,
    InvalidCommandError,
    RefundCapExceededError,
    ReturnQuantityExceededError,
)
from aftersales_core.money import Money
from aftersales_core.personal import PersonalData


def scan_kind(direction: str, scan: str) -> str:
    """The kind of a shipment scan's fact, as Order.has_seen counts it: "outbound Delivered"."""
    return f"{direction} {scan}"


class Order(OrderWatchdog, Aggregate):
    """Facts about one order. Upstream events may arrive in any order; each applies once."""

    KIND = "order"
    TOPIC = "aftersales.order"
    Created = None  # type: ignore[assignment]  # creation events have their own names

    class Event(Aggregate.Event):
        # v2: the facts from upstream record who delivered them (``by``, ``role``); v1 facts
        # read as delivered by ``unrecorded`` in the role ``unrecorded``
        # v3: ``extra`` (the unknown fields) is personal data of the order's buyer, redacted
        # on the wire; v2 facts keep theirs as text
        class_version = 3
        upcast_v1_v2 = classmethod(upcast_actor_v1_v2)

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            """Nothing to change: text stays a valid ``extra``."""

    @staticmethod
    def create_id(order_id: str, timestamp: datetime) -> UUID:
        return order_aggregate_id(order_id)

    @event("Registered", topic="aftersales.order.Registered")
    def __init__(self, order_id: str, timestamp: datetime) -> None:
        self.order_id = order_id
        self.placed = False
        self.customer_id: str | None = None
        self.market: str | None = None
        self.currency: str | None = None
        self.fulfilment: str | None = None
        self.lines: list[dict[str, Any]] = []
        self.shipping_fee = self.duties = self.taxes = self.discount = self.total = Decimal(0)
        self.placed_at: datetime | None = None
        self.payments: dict[str, Decimal] = {}
        self.first_paid_at: datetime | None = None
        self.cancelled_at: datetime | None = None
        self.shipments: dict[str, dict[str, Any]] = {}
        self.customs_released_at: datetime | None = None
        self.delivered_at: datetime | None = None
        self.seen_event_ids: set[str] = set()
        # the same ids per kind of fact ("OrderPlaced", "outbound Delivered"…): a
        # redelivery is the same fact again (has_seen)
        self.seen_by_kind: dict[str, set[str]] = {}
        self.refunds: dict[str, Decimal] = {}  # refund case id -> amount reserved
        self.returned: dict[str, dict[str, int]] = {}  # return case id -> line id -> units
        self.buyer_timezone: str | None = None
        # the storefront told the buyer before the order that they bear the cost of sending
        # back goods without a fault (None: it did not say, so nobody assumes it)
        self.buyer_informed_of_return_cost: bool | None = None
        self.cases: dict[str, list[str]] = {}  # kind -> case ids
        self.deadlines: dict[str, Deadline] = {}  # the logistics watchdog, per shipment

    # ---- facts from upstream ------------------------------------------------------------
    def has_seen(self, event_id: str, kind: str) -> bool:
        """Whether this fact was delivered already: its event id was seen on a fact of its
        kind ("OrderPlaced", "OrderPaid", "OrderCancelled", a scan_kind). A redelivery."""
        return event_id in self.seen_by_kind.get(kind, ())

    def kind_of(self, event_id: str) -> str | None:
        """The kind of the fact that holds this event id (None when none does)."""
        return next((kind for kind, ids in self.seen_by_kind.items() if event_id in ids), None)

    def _seen(self, event_id: str, kind: str) -> None:
        self.seen_event_ids.add(event_id)
        self.seen_by_kind.setdefault(kind, set()).add(event_id)

    @event("Placed", topic="aftersales.order.Placed")
    def place(
        self,
        event_id: str,
        customer_id: str,
        market: str,
        currency: str,
        fulfilment: str,
        lines: list[dict[str, Any]],
        shipping_fee: Decimal,
        duties: Decimal,
        taxes: Decimal,
        discount: Decimal,
        total: Decimal,
        placed_at: datetime,
        merchant_id: str | None,
        channel: str | None,
        extra: str | PersonalData,
        by: str,
        role: str,
        timestamp: datetime,
        buyer_timezone: str | None = None,
        buyer_informed_of_return_cost: bool | None = None,
        estimated_delivery_at: str | None = None,
    ) -> None:
        """``estimated_delivery_at``: the delivery promise, as upstream gave it among the
        unknown fields (text, read by the delivery analytics); kept apart from ``extra``, which
        is the buyer's personal data, because a promised date names nobody."""
        self._seen(event_id, "OrderPlaced")
        self.placed = True
        self.buyer_timezone = buyer_timezone
        self.buyer_informed_of_return_cost = buyer_informed_of_return_cost
        self.customer_id, self.market, self.currency = customer_id, market, currency
        self.fulfilment, self.lines = fulfilment, lines
        self.shipping_fee, self.duties, self.taxes = shipping_fee, duties, taxes
        self.discount, self.total, self.placed_at = discount, total, placed_at
        self.merchant_id, self.channel = merchant_id, channel

    def check_currency(self, currency: str) -> None:
        if self.currency is not None and currency != self.currency:
            raise CurrencyMismatchError(self.currency, currency)

    @event("Paid", topic="aftersales.order.Paid")
    def pay(
        self,
        event_id: str,
        payment_id: str,
        method: str,
        amount: Decimal,
        currency: str,
        paid_at: datetime,
        by: str,
        role: str,
        timestamp: datetime,
        extra: str | PersonalData = "",
    ) -> None:
        self._seen(event_id, "OrderPaid")
        self.payments[payment_id] = amount
        self.currency = self.currency or currency
        if self.first_paid_at is None or paid_at < self.first_paid_at:
            self.first_paid_at = paid_at

    @event("Cancelled", topic="aftersales.order.Cancelled")
    def cancel(
        self,
        event_id: str,
        reason: str,
        cancelled_at: datetime,
        by: str,
        role: str,
        timestamp: datetime,
        extra: str | PersonalData = "",
    ) -> None:
        self._seen(event_id, "OrderCancelled")
        self.cancelled_at = cancelled_at

    @event("ShipmentScanned", topic="aftersales.order.ShipmentScanned")
    def record_shipment(
        self,
        event_id: str,
        shipment_id: str,
        carrier: str,
        direction: str,
        scan: str,
        occurred_at: datetime,
        location: str | None,
        detail: str | None,
        by: str,
        role: str,
        timestamp: datetime,
        extra: str | PersonalData = "",
    ) -> None:
        self._seen(event_id, scan_kind(direction, scan))
        shipment = self.shipments.setdefault(
            shipment_id, {"carrier": carrier, "direction": direction, "scans": []}
        )
        shipment["scans"].append(
            {"scan": scan, "at": occurred_at.isoformat(), "event_id": event_id}
        )
        shipment["last_scan"], shipment["last_scan_at"] = scan, occurred_at.isoformat()
        # Upstream topics are not ordered with each other, so both facts are kept by business
        # time, never by arrival: the earliest customs release (the customs clocks run from
        # it), the latest outbound delivery (the periods run from the delivery of the last
        # good, Directive 2011/83/EU art. 9(2)(b)). Replay gives the same whatever the order.
        first_release = self.customs_released_at is None or occurred_at < self.customs_released_at
        if direction == "outbound" and scan == "CustomsReleased" and first_release:
            self.customs_released_at = occurred_at
        last_delivery = self.delivered_at is None or occurred_at > self.delivered_at
        if direction == "outbound" and scan == "Delivered" and last_delivery:
            self.delivered_at = occurred_at

    # ---- the refund ledger ----------------------------------------------------------------
    @property
    def paid(self) -> Money:
        assert self.currency is not None
        return Money(sum(self.payments.values(), Decimal(0)), self.currency)

    @property
    def refunded(self) -> Money:
        """Everything reserved for refunds that were not rejected: the cap counts these."""
        assert self.currency is not None
        return Money(sum(self.refunds.values(), Decimal(0)), self.currency)

    def refunded_besides(self, refund_id: UUID | None = None) -> Money:
        """What the order's refunds other than ``refund_id`` hold (the approval threshold
        counts them with the refund being decided)."""
        assert self.currency is not None
        others = (a for key, a in self.refunds.items() if key != str(refund_id))
        return Money(sum(others, Decimal(0)), self.currency)

    @property
    def refundable(self) -> Money:
        return self.paid - self.refunded

    def reserve_refund(self, refund_id: UUID, amount: Money, timestamp: datetime) -> None:
        self.check_currency(amount.currency)
        if amount.is_negative():
            raise InvalidCommandError(f"refund {refund_id}: amount {amount} is negative")
        if amount > self.refundable:
            raise RefundCapExceededError(
                f"order {self.order_id}: refund of {amount} exceeds what is left to refund "
                f"({self.refundable} of {self.paid} paid)"
            )
        self._refund_reserved(refund_id=str(refund_id), amount=amount.amount, timestamp=timestamp)

    @event("RefundReserved", topic="aftersales.order.RefundReserved")
    def _refund_reserved(self, refund_id: str, amount: Decimal, timestamp: datetime) -> None:
        self.refunds[refund_id] = amount

    def release_refund(self, refund_id: UUID, timestamp: datetime) -> None:
        if str(refund_id) in self.refunds:
            self._refund_released(refund_id=str(refund_id), timestamp=timestamp)

    @event("RefundReleased", topic="aftersales.order.RefundReleased")
    def _refund_released(self, refund_id: str, timestamp: datetime) -> None:
        self.refunds.pop(refund_id, None)

    @event("RefundSettled", topic="aftersales.order.RefundSettled")
    def settle_refund(self, refund_id: str, amount: Decimal, timestamp: datetime) -> None:
        """The money reached the buyer: a fact for the read models (``orders.refunded``);
        what the order may still refund was decided when the refund was reserved."""

    # ---- the returned-quantity ledger -------------------------------------------------------
    def units_in_returns(self, line_id: str, except_case: str | None = None) -> int:
        """Units of a line in open or completed returns (rejected, cancelled and expired ones
        were released)."""
        return sum(lines.get(line_id, 0) for case_id, lines in self.returned.items()
                   if case_id != except_case)

    def returned_before(self, line_ids: list[str]) -> list[dict[str, Any]]:
        """What the eligibility policy reads: each line's ordered units and units in returns."""
        facts = []
        for line_id in line_ids:
            line = self.line(line_id)
            if line is not None:
                facts.append({"line_id": line_id, "ordered": int(line["quantity"]),
                              "returned": self.units_in_returns(line_id)})
        return facts

    def reserve_return(self, case_id: UUID, lines: dict[str, int], timestamp: datetime) -> None:
        """Reserve the units of a return; more than was ordered, counting every other return
        of the same lines, is refused."""
        for line_id, units in lines.items():
            line = self.line(line_id)
            if line is None:
                raise InvalidCommandError(f"order {self.order_id} has no line {line_id!r}")
            if units < 1:
                raise InvalidCommandError(f"return {case_id}: {units} units of line {line_id}")
            taken = self.units_in_returns(line_id, except_case=str(case_id))
            if taken + units > int(line["quantity"]):
                raise ReturnQuantityExceededError(
                    f"order {self.order_id} line {line_id}: {taken} of {line['quantity']} units "
                    f"are in other returns already; {units} more would exceed what was ordered"
                )
        if self.returned.get(str(case_id)) != lines:
            self._return_reserved(return_id=str(case_id), lines=dict(lines), timestamp=timestamp)

    @event("ReturnReserved", topic="aftersales.order.ReturnReserved")
    def _return_reserved(self, return_id: str, lines: dict[str, int], timestamp: datetime) -> None:
        self.returned[return_id] = dict(lines)

    def release_return(self, case_id: UUID, reason: str, timestamp: datetime) -> None:
        if str(case_id) in self.returned:
            self._return_released(return_id=str(case_id), reason=reason, timestamp=timestamp)

    @event("ReturnReleased", topic="aftersales.order.ReturnReleased")
    def _return_released(self, return_id: str, reason: str, timestamp: datetime) -> None:
        self.returned.pop(return_id, None)

    @event("CaseLinked", topic="aftersales.order.CaseLinked")
    def link_case(self, case_id: str, kind: str, timestamp: datetime) -> None:
        self.cases.setdefault(kind, []).append(case_id)

    def outbound_scans(self, scans: tuple[str, ...]) -> list[dict[str, Any]]:
        """Outbound scans of the given kinds, in the order they were recorded."""
        return [
            scan
            for shipment in self.shipments.values()
            if shipment["direction"] == "outbound"
            for scan in shipment["scans"]
            if scan["scan"] in scans
        ]

    def first_scan_like(self, event_id: str) -> str:
        """The event id of the first recorded scan of the same kind on the same shipment: one
        exception per shipment and kind (a second ``Lost`` with a new event id is the same
        loss) opens its cases under this id, so at most once."""
        for shipment in self.shipments.values():
            kinds = {s["event_id"]: s["scan"] for s in shipment["scans"]}
            if event_id in kinds:
                return next(s["event_id"] for s in shipment["scans"]
                            if s["scan"] == kinds[event_id])
        return event_id

    def shipment_of(self, event_id: str) -> str | None:
        """The id of the shipment a recorded scan is of."""
        return next((shipment_id for shipment_id, shipment in self.shipments.items()
                     if any(s["event_id"] == event_id for s in shipment["scans"])), None)

    def delivered_parcels(self, besides: str | None = None) -> list[str]:
        """The outbound shipments (other than ``besides``) with a ``Delivered`` scan, by id."""
        return sorted(shipment_id for shipment_id, shipment in self.shipments.items()
                      if shipment_id != besides and shipment["direction"] == "outbound"
                      and any(s["scan"] == "Delivered" for s in shipment["scans"]))

    def delivery_scan_at(self, shipment_id: str | None) -> str | None:
        """When that outbound shipment was first scanned ``Delivered`` (ISO 8601), else None."""
        shipment = self.shipments.get(shipment_id or "")
        if shipment is None or shipment["direction"] != "outbound":
            return None
        return next((s["at"] for s in shipment["scans"] if s["scan"] == "Delivered"), None)

    def parcels_on_the_way(self, besides: str | None = None) -> list[str]:
        """The outbound shipments (other than ``besides``) with neither a ``Delivered`` nor a
        ``Lost`` scan, by id: not known delivered, nor known lost."""
        return sorted(shipment_id for shipment_id, shipment in self.shipments.items()
                      if shipment_id != besides and shipment["direction"] == "outbound"
                      and not any(s["scan"] in ("Delivered", "Lost") for s in shipment["scans"]))

    def exception_scans(self, shipment_id: str) -> list[str]:
        """The event ids of the first scan of each kind on the shipment (what logistics
        exceptions open their cases under: ``first_scan_like``)."""
        firsts: dict[str, str] = {}
        for scan in self.shipments.get(shipment_id, {}).get("scans", []):
            firsts.setdefault(scan["scan"], scan["event_id"])
        return list(firsts.values())

    def case_ids(self, kind: str) -> list[str]:
        return list(self.cases.get(kind, []))

    # ---- the logistics watchdog's deadlines (rules in domain/watchdog.py) ------------------
    @event("DecisionRecorded", topic="aftersales.order.DecisionRecorded")
    def record_decision(self, decision: PolicyDecision, timestamp: datetime) -> None:
        """The decision is the record (watchdog deadlines and breaches); no state to keep."""

    _deadline_scheduled, _deadline_cancelled, _deadline_breached = deadline_events(
        "aftersales.order"
    )

    # ---- facts for policies --------------------------------------------------------------
    def line(self, line_id: str) -> dict[str, Any] | None:
        return next((line for line in self.lines if line["line_id"] == line_id), None)

    def facts(self) -> dict[str, Any]:
        """The order facts policies read, as JSON values."""
        cur = self.currency or ""
        return {
            "market": self.market,
            "fulfilment": self.fulfilment,
            "currency": cur,
            "order_lines": [_line_json(line) for line in self.lines],
            "shipping_fee": str(self.shipping_fee),
            "duties": str(self.duties),
            "taxes": str(self.taxes),
            "discount": str(self.discount),
            "paid": str(self.paid.amount) if cur else "0",
            "already_refunded": str(self.refunded.amount) if cur else "0",
            "delivered_at": _iso(self.delivered_at),
            "customs_released_at": _iso(self.customs_released_at),
            "buyer_timezone": self.buyer_timezone,
        }


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _line_json(line: dict[str, Any]) -> dict[str, Any]:
    return {
        "line_id": line["line_id"],
        "sku": line["sku"],
        "category": line["category"],
        "quantity": line["quantity"],
        "unit_price": str(line["unit_price"]),
    }
