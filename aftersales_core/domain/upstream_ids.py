"""The claim of an upstream ``event_id`` (SPEC §4.1: unique): one aggregate per id, created in
the unit of work that stores the fact it names. Its id derives from the event id alone, so the
store's own uniqueness of (aggregate, version) refuses a second claim, also from a concurrent
process (its save fails as a concurrent change and runs again on fresh state, then finds this
claim): an event id is taken once in the whole store, not once per order.

It records which order and which kind of fact took the id, and a digest of the fact's known
fields (never of its unknown ones, which may be the buyer's personal data: no digest of them
outlives an erasure), so that a redelivery of the same message is told from another message
under a used id. Its events never leave the engine (consumers/case_events.py)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from aftersales_core.domain.ids import upstream_event_aggregate_id


class UpstreamEventId(Aggregate):
    """An upstream event id, taken by one fact of one order."""

    KIND = "upstream_event_id"
    TOPIC = "aftersales.upstream_event_id"
    Created = None  # type: ignore[assignment]  # creation events have their own names

    class Event(Aggregate.Event):
        class_version = 1

    @staticmethod
    def create_id(event_id: str, order_id: str, kind: str, digest: str,
                  timestamp: datetime) -> UUID:
        return upstream_event_aggregate_id(event_id)

    @event("Claimed", topic="aftersales.upstream_event_id.Claimed")
    def __init__(self, event_id: str, order_id: str, kind: str, digest: str,
                 timestamp: datetime) -> None:
        self.event_id, self.order_id, self.kind, self.digest = event_id, order_id, kind, digest

    def same_fact(self, order_id: str, kind: str, digest: str) -> bool:
        """Whether a message is a redelivery of the fact that took this id."""
        return (self.order_id, self.kind, self.digest) == (order_id, kind, digest)
