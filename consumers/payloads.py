"""What the relay adds to an event's data so that a downstream service can act on it alone:
every refund event names its refund (order, amount, currency, components, where it came from),
every order event its ``order_id``.

The facts come from the aggregate's first events in the store (a refund's request and its
calculation are stored together; an order is registered with its id) and never change
afterwards, so they are read once per aggregate and kept in a bounded cache."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import ApplicationRecorder, Notification, StoredEvent

from consumers.case_events import unwrap

FIRST_EVENTS = 16  # a refund's request transaction: request, decisions, calculation, …


class Payloads:
    """``added(notification)`` -> the fields to add to its data (may be empty)."""

    def __init__(self, recorder: ApplicationRecorder, cache_size: int = 100_000) -> None:
        self.recorder, self.cache_size = recorder, cache_size
        self._facts: OrderedDict[UUID, dict[str, Any]] = OrderedDict()

    def __call__(self, notification: Notification) -> dict[str, Any]:
        topic = notification.topic
        aggregate_id = UUID(str(notification.originator_id))
        if topic.startswith("aftersales.refund."):
            return {"refund": self._cached(aggregate_id, self._refund)}
        if topic.startswith("aftersales.order."):
            return self._cached(aggregate_id, self._order)
        return {}

    def _cached(self, aggregate_id: UUID, read: Any) -> dict[str, Any]:
        facts = self._facts.get(aggregate_id)
        if facts is None:
            facts = self._facts[aggregate_id] = read(aggregate_id)
            if len(self._facts) > self.cache_size:
                self._facts.popitem(last=False)
        else:
            self._facts.move_to_end(aggregate_id)
        return facts

    def _first(self, aggregate_id: UUID, topics: set[str]) -> dict[str, dict[str, Any]]:
        """The state of the first stored event of each topic (plain JSON)."""
        found: dict[str, dict[str, Any]] = {}
        after: int | None = None
        while True:
            events: list[StoredEvent] = list(self.recorder.select_events(
                aggregate_id, gt=after, limit=FIRST_EVENTS))
            for stored in events:
                if stored.topic in topics and stored.topic not in found:
                    found[stored.topic] = unwrap(orjson.loads(stored.state))
            if len(found) == len(topics) or len(events) < FIRST_EVENTS:
                return found
            after = events[-1].originator_version

    def _refund(self, refund_id: UUID) -> dict[str, Any]:
        first = self._first(refund_id, {"aftersales.refund.Requested",
                                        "aftersales.refund.Calculated"})
        requested = first.get("aftersales.refund.Requested", {})
        calculated = first.get("aftersales.refund.Calculated", {})
        amount = calculated.get("amount") or {}
        return {
            "refund_id": str(refund_id),
            "order_id": requested.get("order_id"),
            "source": requested.get("source"),
            "source_case_id": requested.get("source_case_id"),
            "amount": amount.get("amount"),
            "currency": amount.get("currency"),
            "components": calculated.get("components") or {},
        }

    def _order(self, order_aggregate_id: UUID) -> dict[str, Any]:
        first = self._first(order_aggregate_id, {"aftersales.order.Registered"})
        order_id = first.get("aftersales.order.Registered", {}).get("order_id")
        return {} if order_id is None else {"order_id": order_id}
