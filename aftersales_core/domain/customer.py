"""A buyer's after-sales history: the facts behind the abuse signal, kept exact in the store."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from aftersales_core.domain.ids import customer_aggregate_id


class Customer(Aggregate):
    """Orders placed and orders returned by one (opaque) customer id."""

    TOPIC = "aftersales.customer"
    Created = None  # type: ignore[assignment]  # creation events have their own names

    class Event(Aggregate.Event):
        class_version = 1

    @staticmethod
    def create_id(customer_id: str, timestamp: datetime) -> UUID:
        return customer_aggregate_id(customer_id)

    @event("Registered", topic="aftersales.customer.Registered")
    def __init__(self, customer_id: str, timestamp: datetime) -> None:
        self.customer_id = customer_id
        self.orders: list[str] = []
        self.returned_orders: list[str] = []
        self.complaints = 0

    def add_order(self, order_id: str, timestamp: datetime) -> None:
        if order_id not in self.orders:
            self._order_placed(order_id=order_id, timestamp=timestamp)

    @event("OrderPlaced", topic="aftersales.customer.OrderPlaced")
    def _order_placed(self, order_id: str, timestamp: datetime) -> None:
        self.orders.append(order_id)

    def add_return(self, order_id: str, timestamp: datetime) -> None:
        if order_id not in self.returned_orders:
            self._order_returned(order_id=order_id, timestamp=timestamp)

    @event("OrderReturned", topic="aftersales.customer.OrderReturned")
    def _order_returned(self, order_id: str, timestamp: datetime) -> None:
        self.returned_orders.append(order_id)

    @event("ComplaintFiled", topic="aftersales.customer.ComplaintFiled")
    def add_complaint(self, case_id: str, timestamp: datetime) -> None:
        self.complaints += 1

    def recent(self, last_n: int) -> tuple[int, int]:
        """(orders, returned orders) over the customer's last ``last_n`` orders."""
        recent = self.orders[-last_n:]
        returned = set(self.returned_orders)
        return len(recent), sum(1 for order_id in recent if order_id in returned)
