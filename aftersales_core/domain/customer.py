"""A buyer's after-sales history: the facts behind the abuse signal, kept exact in the store,
and the erasures of their personal data (crypto-shredding: the event records that it happened,
who did it and why, and holds no personal data itself)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from aftersales_core.decisions import PolicyDecision
from aftersales_core.domain.actor import Actor
from aftersales_core.domain.base import require_aware
from aftersales_core.domain.deadlines import decision_event
from aftersales_core.domain.ids import customer_aggregate_id
from aftersales_core.errors import InvalidCommandError

MAX_REASON = 500


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
        self.complaint_cases: list[str] = []  # in the order they were filed
        self.decisions: list[PolicyDecision] = []
        self.erasures: list[dict[str, str]] = []

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
        self.complaint_cases.append(case_id)

    def complaints_before(self, case_id: str) -> int:
        """The customer's other complaints, filed before ``case_id`` (all of them when it is
        not one of theirs)."""
        if case_id in self.complaint_cases:
            return self.complaint_cases.index(case_id)
        return self.complaints

    def recent(self, last_n: int) -> tuple[int, int]:
        """(orders, returned orders) over the customer's last ``last_n`` orders."""
        recent = self.orders[-last_n:]
        returned = set(self.returned_orders)
        return len(recent), sum(1 for order_id in recent if order_id in returned)

    # ---- personal data ----------------------------------------------------------------------
    record_decision = decision_event("aftersales.customer")

    def erase_personal_data(
        self, actor: Actor, reason: str, at: datetime, decision: PolicyDecision | None = None
    ) -> None:
        """Record that the customer's personal data was erased (the data keys are destroyed in
        the same transaction); ``decision`` is the retention decision when the scheduler
        erases.

        An erasure is always possible: when the customer's history holds a later time (an
        upstream fact or a command dated in the future), the events are stamped with that time,
        so the aggregate's time never goes backwards, and ``erased_at`` keeps when the erasure
        really happened."""
        require_aware(at)
        stamp = max(at, self.modified_on)
        reason = " ".join(reason.split())
        if not reason:
            raise InvalidCommandError("reason: say why the personal data is erased (e.g. the "
                                      "request's reference; never personal data itself)")
        if len(reason) > MAX_REASON:
            raise InvalidCommandError(f"reason: at most {MAX_REASON} characters")
        if decision is not None:
            self.record_decision(decision=decision, timestamp=stamp)
        self._personal_data_erased(customer_id=self.customer_id, reason=reason,
                                   by=actor.principal_id, role=actor.role, timestamp=stamp,
                                   erased_at=at)

    @event("PersonalDataErased", topic="aftersales.customer.PersonalDataErased")
    def _personal_data_erased(
        self, customer_id: str, reason: str, by: str, role: str, timestamp: datetime,
        erased_at: datetime | None = None,
    ) -> None:
        # erased_at: when it happened (events stored before it existed: their timestamp)
        self.erasures.append({"at": (erased_at or timestamp).isoformat(), "by": by,
                              "role": role, "reason": reason})
