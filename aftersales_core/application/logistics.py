"""Logistics exceptions (lost, damaged, undeliverable, held parcels) open cases by policy,
before the customer complains: a proactive complaint, and a refund for a lost parcel (for a
supervisor's approval when another parcel of the order was delivered or is still on its way:
which lines the lost one held is for a person to say).

The cases are opened by the ``logistics.exception`` decision recorded on them, so their actor is
``policy``; the principal that delivered the scan was allowed to deliver it (``ShipmentScanned``)
before anything here runs."""

from __future__ import annotations

from datetime import datetime

from eventsourcing.domain import Aggregate

from aftersales_core.application.complaints import ComplaintService
from aftersales_core.application.refunds import RefundService
from aftersales_core.application.store import Store
from aftersales_core.domain.actor import POLICY
from aftersales_core.domain.customer import Customer
from aftersales_core.domain.ids import case_id_for
from aftersales_core.domain.order import Order
from aftersales_core.outcomes import LogisticsException

EXCEPTIONS = ("Lost", "Damaged", "DeliveryFailed", "CustomsHeld")
CATEGORY_OF = {"logistics_delay": "logistics_delay", "damaged": "damaged", "customs": "customs"}


class LogisticsExceptions:
    def __init__(
        self, store: Store, complaints: ComplaintService, refunds: RefundService
    ) -> None:
        self.store, self.complaints, self.refunds = store, complaints, refunds

    def catch_up(
        self, order: Order, effects: list[str], customer: Customer | None = None
    ) -> list[Aggregate]:
        """Exceptions scanned before the order was placed or paid (the topics are not ordered
        with each other) open their cases now; cases opened already are left alone."""
        if not order.placed:
            return []
        changed: list[Aggregate] = []
        for scan in order.outbound_scans(EXCEPTIONS):
            at = max(datetime.fromisoformat(scan["at"]), order.modified_on)
            changed += self.open_cases(
                order, scan["event_id"], scan["scan"], at, effects, customer
            )
        unique = {id(c): c for c in changed if c is not customer}  # aggregates are unhashable
        return list(unique.values())

    def open_cases(
        self,
        order: Order,
        event_id: str,
        scan: str,
        at: datetime,
        effects: list[str],
        customer: Customer | None = None,
        direction: str = "outbound",
    ) -> list[Aggregate]:
        """Open the cases the logistics policy asks for, before the customer complains
        (``direction``: the leg of the scan; on the return leg the policy opens a complaint for
        a lost parcel only, so that the desk settles the return without the goods).

        Case ids derive from the event id of the shipment's first scan of this kind, so one
        exception per shipment and kind opens each case at most once, however often (and under
        however many event ids) it is reported."""
        assert order.customer_id is not None
        first = order.first_scan_like(event_id)
        complaint_id = case_id_for("complaint", f"logistics:{first}")
        refund_id = case_id_for("refund", f"logistics:{first}")
        owed = bool(order.payments) and not order.refundable.is_zero()
        parcel = order.shipment_of(event_id)
        if self.store.exists(complaint_id) and (self.store.exists(refund_id) or not owed):
            return []
        decision = self.store.rules_for(order).evaluate(
            "logistics.exception",
            {
                "event_type": scan,
                "direction": direction,
                "occurred_at": at.isoformat(),
                "since": at.isoformat() if scan == "CustomsHeld" else None,
                "market": order.market,
                "fulfilment": order.fulfilment,
                "currency": order.currency,
                "order_value": str(order.total),
                "delivered_parcels": order.delivered_parcels(besides=parcel),
                "parcels_on_the_way": order.parcels_on_the_way(besides=parcel),
                "delivered_at": order.delivery_scan_at(parcel),
            },
        )
        if not LogisticsException(decision.outcome).opens_complaint:
            return []
        changed: list[Aggregate] = []
        if not self.store.exists(complaint_id):
            customer = customer or self.store.customer(order.customer_id, at)
            complaint = self.complaints.open(
                complaint_id,
                order,
                customer,
                channel="platform" if order.channel == "platform" else "email",
                category=CATEGORY_OF.get(
                    decision.details.get("complaint_category", ""), "logistics_delay"
                ),
                description=f"Proactive case: parcel {scan} ({'; '.join(decision.reasons)})",
                actor=POLICY,
                at=at,
                cause=decision,
            )
            effects.append(f"complaint {complaint.id} opened")
            changed += [complaint, customer]
        if decision.details.get("refund") and owed and not self.store.exists(refund_id):
            # v2: another parcel of the order arrived (v3: or may still arrive), so which lines
            # were lost is for a person
            review = "; ".join(decision.reasons) if decision.details.get("refund_review") \
                else None
            refund = self.refunds.open(
                refund_id,
                order,
                source="logistics_exception",
                source_case_id=str(complaint_id),
                lines=[],
                amount=None,
                reason=f"parcel {scan}",
                actor=POLICY,
                at=at,
                review=review,
            )
            effects.append(f"refund {refund.id} {refund.status.value}")
            changed.append(refund)
        return changed
