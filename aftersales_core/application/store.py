"""The one event store every service shares: the one way to read an aggregate (its events
through the event cache, folded), and the atomic save the unit of work ends with.

Commands, deadline firings, principals, access checks and case histories (as of any moment)
all read through ``stored_events``; `make bench` (``loading``) measures this event cache
against the library's own aggregate cache with fast-forward."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder, RecordConflictError

from aftersales_core.application.event_cache import EventCache
from aftersales_core.application.transcodings import TRANSCODINGS
from aftersales_core.domain.customer import Customer
from aftersales_core.domain.ids import customer_aggregate_id, order_aggregate_id
from aftersales_core.domain.order import Order
from aftersales_core.errors import (
    ConcurrentChangeError,
    InvalidCommandError,
    UnknownCaseError,
    UnknownOrderError,
)

A = TypeVar("A", bound=Aggregate)


def fold(aggregate: Any, events: Iterable[Any]) -> Any:
    """Apply stored events in order (the library's default also runs a slow runtime
    Protocol check on every event; our events are all aggregate events)."""
    for domain_event in events:
        aggregate = domain_event.mutate(aggregate)
    return aggregate


def unknown_order(order_id: str) -> UnknownOrderError:
    """The one message for an order that is not there, or not the caller's to see."""
    return UnknownOrderError(f"order {order_id!r} is not known (no OrderPlaced yet)")


def check_opening(order: Order, at: datetime) -> None:
    """A case opened on an order cannot predate it (checked only once the caller may know the
    order exists: the message names when it was placed)."""
    if order.placed_at is not None and at < order.placed_at:
        raise InvalidCommandError(
            f"at {at.isoformat()} is before order {order.order_id!r} was placed "
            f"({order.placed_at.isoformat()}): a case cannot open before its order")


def unknown_case(case_id: UUID) -> UnknownCaseError:
    """The one message for a case that is not there, or not the caller's to see."""
    return UnknownCaseError(f"no case {case_id}")


class Store(Application):
    """The append-only store of every aggregate (cases, orders, customers, principals)."""

    name = "aftersales"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        for transcoding in TRANSCODINGS:
            transcoder.register(transcoding)

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self.cache = EventCache()

    def stored_events(self, aggregate_id: UUID) -> tuple[Any, ...]:
        """The aggregate's events in order, as stored now (none: it does not exist)."""
        return self.cache.events(self.events, aggregate_id)

    def load_any(self, aggregate_id: UUID) -> Aggregate | None:
        events = self.stored_events(aggregate_id)
        return fold(None, events) if events else None

    def load(self, cls: type[A], aggregate_id: UUID) -> A:
        aggregate = self.load_any(aggregate_id)
        if aggregate is None:
            raise UnknownCaseError(f"no {cls.__name__} with id {aggregate_id}")
        if not isinstance(aggregate, cls):
            raise UnknownCaseError(
                f"{aggregate_id} is a {type(aggregate).__name__}, not a {cls.__name__}"
            )
        return aggregate

    def find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        found = self.load_any(aggregate_id)
        return found if isinstance(found, cls) else None

    def exists(self, aggregate_id: UUID) -> bool:
        return bool(self.stored_events(aggregate_id))

    def placed_order(self, order_id: str, opening_at: datetime | None = None) -> Order:
        """The placed order; a case opened on it (``opening_at``) cannot predate it."""
        order = self.find(Order, order_aggregate_id(order_id))
        if order is None or not order.placed:
            raise unknown_order(order_id)
        if opening_at is not None:
            check_opening(order, opening_at)
        return order

    def customer(self, customer_id: str, at: datetime) -> Customer:
        found = self.find(Customer, customer_aggregate_id(customer_id))
        return found if found is not None else Customer(customer_id=customer_id, timestamp=at)

    def save_atomically(self, *aggregates: Aggregate) -> None:
        """Save all pending events of the aggregates in one transaction, or nothing at all."""
        try:
            recordings = self.save(*aggregates)
        except RecordConflictError as error:
            raise ConcurrentChangeError(
                "the case changed while this command ran; nothing was saved, try again"
            ) from error
        self.cache.saved(r.domain_event for r in recordings)
