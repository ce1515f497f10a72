"""The facts the ``deadlines`` and ``deadlines.breach`` policies read, per kind of aggregate.

Everything comes from the store (the case, its recorded decisions, its order); times are the
business times of the events, never a clock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from aftersales_core.decisions import JSON
from aftersales_core.domain.complaints import ComplaintCase
from aftersales_core.domain.deadlines import Deadline, DeadlineRules
from aftersales_core.domain.ids import order_aggregate_id
from aftersales_core.domain.order import Order
from aftersales_core.domain.refunds import RefundCase
from aftersales_core.domain.returns import ReturnCase
from aftersales_core.domain.watchdog import EVENT_TYPE

Find = Callable[[type[Aggregate], UUID], Aggregate | None]


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _in(
    batch: Sequence[Aggregate], cls: type[Aggregate], aggregate_id: UUID, find: Find
) -> Aggregate | None:
    """An aggregate changed in this very command if it is one, else as stored."""
    for aggregate in batch:
        if isinstance(aggregate, cls) and aggregate.id == aggregate_id:
            return aggregate
    return find(cls, aggregate_id)


def order_of(aggregate: Any, batch: Sequence[Any], find: Find) -> Order | None:
    """The order an aggregate is about (its merchant's policy book applies), if any."""
    if isinstance(aggregate, Order):
        return aggregate
    order_id = getattr(aggregate, "order_id", None)
    if not isinstance(order_id, str):
        return None
    found = _in(batch, Order, order_aggregate_id(order_id), find)
    return found if isinstance(found, Order) else None


def schedule_inputs(
    aggregate: DeadlineRules, wanted: dict[str, datetime], batch: Sequence[Aggregate], find: Find
) -> JSON:
    """Inputs of the ``deadlines`` policy for the deadlines an aggregate's state wants."""
    items: list[JSON] = [{"name": n, "since": s.isoformat()} for n, s in sorted(wanted.items())]
    if isinstance(aggregate, ReturnCase):
        eligibility = aggregate.latest("return.eligibility")
        return {
            "case_type": "return",
            "wanted": items,
            "market": eligibility.inputs.get("market") if eligibility else None,
            "is_withdrawal": bool(eligibility and eligibility.details.get("is_withdrawal")),
            "requested_at": aggregate.created_on.isoformat(),
            "approved_at": _iso(aggregate.approved_at),
            "shipped_at": _iso(aggregate.shipped_at),
            "received_at": _iso(aggregate.received_at),
            "returnless": aggregate.returnless,
            "ship_back_by": aggregate.ship_back_by,
            "buyer_timezone": eligibility.inputs.get("buyer_timezone") if eligibility else None,
        }
    if isinstance(aggregate, ComplaintCase):
        of = order_of(aggregate, batch, find)
        return {
            "case_type": "complaint",
            "wanted": items,
            "channel": aggregate.channel,
            "escalations": list(aggregate.escalations),
            "priority": aggregate.priority,
            "market": of.market if of is not None else None,
            "opened_at": _iso(aggregate.opened_at),
            "pauses": [{"from": a.isoformat(), "to": b.isoformat()}
                       for a, b in getattr(aggregate, "pauses", [])],
            "waiting_since": _iso(getattr(aggregate, "waiting_since", None)),
            "buyer_timezone": of.buyer_timezone if of is not None else None,
        }
    if isinstance(aggregate, RefundCase):
        order = _in(batch, Order, order_aggregate_id(aggregate.order_id), find)
        inherited = None
        if aggregate.source == "return" and aggregate.source_case_id:
            source = _in(batch, ReturnCase, UUID(aggregate.source_case_id), find)
            carried = source.deadlines.get("refund") if isinstance(source, ReturnCase) else None
            inherited = carried.due_at.isoformat() if carried else None
        own = aggregate.deadlines.get("refund")
        if inherited is None and own is not None and aggregate.failed_at is not None:
            inherited = own.due_at.isoformat()  # after a failed payment: its own due time
        return {
            "case_type": "refund",
            "wanted": items,
            "market": order.market if isinstance(order, Order) else None,
            "source": aggregate.source,
            "inherited_due_at": inherited,
            "buyer_timezone": order.buyer_timezone if isinstance(order, Order) else None,
        }
    if isinstance(aggregate, Order):
        for item in items:
            watched = aggregate.watched(item["name"])
            item["kind"] = watched[1] if watched else None
        return {"case_type": "order", "wanted": items}
    raise TypeError(f"no deadline facts for {type(aggregate).__name__}")


def breach_inputs(aggregate: DeadlineRules, deadline: Deadline, now: datetime) -> JSON:
    """Inputs of ``deadlines.breach`` for a due deadline of a case."""
    eligibility = None
    if isinstance(aggregate, ReturnCase):
        decision = aggregate.latest("return.eligibility")
        eligibility = decision.outcome if decision else None
    escalations: list[str] = list(getattr(aggregate, "escalations", []))
    return {
        "case_type": getattr(aggregate, "KIND", type(aggregate).__name__),
        "name": deadline.name,
        "action": deadline.action,
        "due_at": deadline.due_at.isoformat(),
        "fired_at": now.isoformat(),
        "escalations": escalations,
        "eligibility_outcome": eligibility,
    }


def watchdog_inputs(order: Order, deadline: Deadline, now: datetime) -> JSON:
    """Inputs of ``logistics.exception`` for a watchdog that fired: NoScan or CustomsHeld."""
    watched = order.watched(deadline.name)
    assert watched is not None, "a due watchdog deadline is current, so it watches something"
    shipment_id, kind, since = watched
    return {
        "event_type": EVENT_TYPE[kind],
        "direction": "outbound",
        "occurred_at": now.isoformat(),
        "since": since.isoformat(),
        "market": order.market,
        "fulfilment": order.fulfilment,
        "currency": order.currency,
        "order_value": str(order.total),
        "delivered_parcels": order.delivered_parcels(besides=shipment_id),
        "parcels_on_the_way": order.parcels_on_the_way(besides=shipment_id),
        "delivered_at": order.delivery_scan_at(shipment_id),
    }
