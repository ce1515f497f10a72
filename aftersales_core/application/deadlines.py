"""Deadlines that fire: the scheduler's operation (``FireDeadlines``, role ``scheduler``).

Scheduling and settling happen with every save, as the ``deadlines`` step of the unit of work
(application/deadline_bookkeeping.py).

Firing (``fire_deadlines``) loads one aggregate, lets it re-check which deadlines are really due
(the aggregate is authoritative, whatever an index said), records each breach with the decision
that says what it does, carries the action out and saves once. A second firing finds nothing
open; of two concurrent firings one loses on optimistic concurrency, reloads, finds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from aftersales_core.application.access import Access, Caller
from aftersales_core.application.complaints import ComplaintService
from aftersales_core.application.concurrency import on_fresh_state
from aftersales_core.application.deadline_bookkeeping import DeadlineBookkeeping
from aftersales_core.application.deadline_facts import breach_inputs, order_of, watchdog_inputs
from aftersales_core.application.logistics import CATEGORY_OF
from aftersales_core.application.returns import returned_lines, shipping_decision
from aftersales_core.application.store import Store
from aftersales_core.application.unit_of_work import UnitOfWork
from aftersales_core.domain.actor import POLICY, Actor
from aftersales_core.domain.base import require_aware
from aftersales_core.domain.complaints import ComplaintCase, ComplaintStatus
from aftersales_core.domain.deadlines import Breach, Deadline, DeadlineRules
from aftersales_core.domain.ids import case_id_for
from aftersales_core.domain.order import Order
from aftersales_core.domain.returns import ReturnCase, ReturnStatus
from aftersales_core.errors import UnknownCaseError
from aftersales_core.outcomes import BreachOutcome, LogisticsException

DONE = (ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED)  # a complaint no longer worked on


@dataclass
class FiredDeadline:
    """One deadline the scheduler fired, and what its breach did."""

    case_id: UUID
    case_type: str
    name: str
    due_at: datetime
    fired_at: datetime
    action: str
    status: str | None  # the case's status after the firing (an order has none)
    reasons: list[str] = field(default_factory=list)
    related: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "case_id": str(self.case_id),
            "case_type": self.case_type,
            "deadline": self.name,
            "due_at": self.due_at.isoformat(),
            "fired_at": self.fired_at.isoformat(),
            "action": self.action,
            "status": self.status,
            "reasons": self.reasons,
            "related": self.related,
        }


class DeadlineService:
    def __init__(
        self,
        store: Store,
        work: UnitOfWork,
        access: Access,
        bookkeeping: DeadlineBookkeeping,
        complaints: ComplaintService,
    ) -> None:
        self.store, self.work, self.access = store, work, access
        self.bookkeeping, self.complaints = bookkeeping, complaints

    def fire(self, caller: Caller, case_id: UUID, now: datetime) -> list[FiredDeadline]:
        """Fire the aggregate's deadlines that are due at ``now`` (the scheduler's clock).

        Returns what fired; an empty list when nothing was due (already fired, met, or never
        there). A concurrent change is retried on fresh state."""
        require_aware(now, "now")
        grant = self.access.require(caller, "FireDeadlines", {"case_id": str(case_id)},
                                    case_id=case_id)
        return on_fresh_state(lambda: self._fire(case_id, now, grant.actor))

    def open_deadlines_of(
        self, caller: Caller, case_id: UUID
    ) -> tuple[str, int, list[Deadline]]:
        """(kind, version, open deadlines) of an aggregate: what an index should say."""
        self.access.require(caller, "ListDeadlines", {"case_id": str(case_id)}, case_id=case_id)
        aggregate = self._with_deadlines(case_id)
        return aggregate.KIND, aggregate.version, aggregate.open_deadlines()

    def _with_deadlines(self, case_id: UUID) -> Any:
        """The aggregate (a case or an order) as stored, if it has deadlines."""
        aggregate = self.store.load_any(case_id)
        if aggregate is None:
            raise UnknownCaseError(f"no case {case_id}")
        if not isinstance(aggregate, DeadlineRules):
            raise UnknownCaseError(f"{case_id} is a {type(aggregate).__name__}: no deadlines")
        return aggregate

    def _fire(self, case_id: UUID, now: datetime, actor: Actor) -> list[FiredDeadline]:
        aggregate = self._with_deadlines(case_id)
        fired: list[FiredDeadline] = []
        opened: list[Aggregate] = []
        while due := aggregate.due_deadlines(now):
            deadline = due[0]  # one at a time: each breach sees what the previous one did
            breach = self._breach(aggregate, deadline, now)
            at = max(now, aggregate.modified_on)
            if not aggregate.fire(deadline.name, now, breach, actor):
                break
            related: dict[str, str] = {}
            if isinstance(aggregate, Order):
                opened += self._watchdog_complaint(aggregate, deadline, breach, at, related)
            fired.append(
                FiredDeadline(
                    case_id=aggregate.id,
                    case_type=aggregate.KIND,
                    name=deadline.name,
                    due_at=deadline.due_at,
                    fired_at=now,
                    action=breach.outcome,
                    status=None,
                    reasons=list(breach.decision.reasons),
                    related=related,
                )
            )
            # the state the action entered schedules its own deadlines now, so that one firing
            # also fires those already due (a firing long after the fact catches up at once)
            self.bookkeeping.sync(aggregate, (aggregate, *opened))
        if fired:
            opened += self._release_expired(aggregate, now)
            self.work.commit(aggregate, *opened)
            status = getattr(aggregate, "status", None)
            for item in fired:
                item.status = None if status is None else str(status)
        return fired

    def _release_expired(self, aggregate: Any, now: datetime) -> list[Aggregate]:
        """An expired return gives its units back to the order's returned-quantity ledger."""
        if not isinstance(aggregate, ReturnCase) or aggregate.status != ReturnStatus.EXPIRED:
            return []
        order = self.store.placed_order(aggregate.order_id)
        order.release_return(aggregate.id, "expired", max(now, order.modified_on))
        return [order]

    def _breach(self, aggregate: DeadlineRules, deadline: Deadline, now: datetime) -> Breach:
        rules = self.store.rules_for(order_of(aggregate, (aggregate,), self.store.find))
        if isinstance(aggregate, Order):
            inputs = watchdog_inputs(aggregate, deadline, now)
            return Breach(rules.evaluate("logistics.exception", inputs))
        decision = rules.evaluate("deadlines.breach", breach_inputs(aggregate, deadline, now))
        if BreachOutcome(decision.outcome) is not BreachOutcome.AUTO_APPROVE:
            return Breach(decision)
        assert isinstance(aggregate, ReturnCase)
        order = self.store.placed_order(aggregate.order_id)
        shipping = shipping_decision(
            rules, order, aggregate, None, returned_lines(order, aggregate.lines), True, None
        )
        return Breach(decision, shipping)

    def _watchdog_complaint(
        self,
        order: Order,
        deadline: Deadline,
        breach: Breach,
        at: datetime,
        related: dict[str, str],
    ) -> list[Aggregate]:
        """Open the proactive complaint a watchdog breach asks for, once per watch; not while
        a proactive complaint about the same parcel (a damaged or undeliverable scan's) is
        still open: the breach is linked to that one, whose desk already has the customer's
        ear, instead of a second complaint about one parcel."""
        watched = order.watched(deadline.name)
        opens = LogisticsException(breach.decision.outcome).opens_complaint
        if not opens or watched is None:
            return []
        assert order.customer_id is not None
        shipment_id, kind, since = watched
        key = f"watchdog:{order.order_id}:{shipment_id}:{kind}:{since.isoformat()}"
        complaint_id = case_id_for("complaint", key)
        related["complaint_case_id"] = str(complaint_id)
        if self.store.exists(complaint_id):
            return []
        already = self._open_parcel_complaint(order, shipment_id)
        if already is not None:
            related["complaint_case_id"] = str(already)
            return []
        customer = self.store.customer(order.customer_id, at)
        decision = breach.decision
        complaint = self.complaints.open(
            complaint_id,
            order,
            customer,
            channel="platform" if order.channel == "platform" else "email",
            category=CATEGORY_OF.get(
                decision.details.get("complaint_category") or "", "logistics_delay"
            ),
            description=f"Proactive case: parcel {shipment_id} ({'; '.join(decision.reasons)})",
            actor=POLICY,
            at=at,
            cause=decision,
        )
        return [complaint, customer]

    def _open_parcel_complaint(self, order: Order, shipment_id: str) -> UUID | None:
        """A proactive complaint a scan of this parcel opened (logistics.exception) that is
        not resolved or closed yet, if any."""
        for event_id in order.exception_scans(shipment_id):
            complaint_id = case_id_for("complaint", f"logistics:{event_id}")
            found = self.store.find(ComplaintCase, complaint_id)
            if found is not None and found.status not in DONE:
                return found.id
        return None
