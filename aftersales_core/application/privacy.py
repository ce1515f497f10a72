"""A customer's personal data: erase it, export it, erase it when it was kept long enough.

Personal data lives only inside ``PersonalData`` values of events, which the store seals with a
key per customer (privacy/ at the persistence boundary). Erasing destroys that key in the same
transaction that records ``aftersales.customer.PersonalDataErased`` (who, in which role, why;
no personal data), so every event stays as it was (the audit chain holds) while the values
read as ``[erased]`` from then on, for every reader. Exporting gathers every case, order and
principal of the customer and every personal datum in them, as JSON (GDPR art. 15 and 20,
PIPL art. 45). Retention erases a customer's data a configured number of days after their last
case closed or the last fact of their orders, whichever is later, by the recorded
``personal_data.retention`` decision.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from aftersales_core import policies
from aftersales_core.application.access import Access, Caller
from aftersales_core.application.erasures import recorded_erasures
from aftersales_core.application.history import load_history
from aftersales_core.application.store import Effect, Store
from aftersales_core.application.unit_of_work import UnitOfWork
from aftersales_core.decisions import PolicyDecision
from aftersales_core.domain.actor import Actor
from aftersales_core.domain.base import require_aware
from aftersales_core.domain.ids import customer_aggregate_id, order_subject, order_subject_of
from aftersales_core.errors import UnknownCaseError
from aftersales_core.outcomes import Retention
from aftersales_core.personal import PersonalData

EXPORT_FORMAT = "aftersales.customer-export.v1"
RETENTION_POLICY = "personal_data.retention"
CASE_KINDS = ("return", "refund", "complaint")
#: The states in which a case is done with (retention counts from the last of them). A resolved
#: return or complaint is done: nobody has to close it (a customer who never rates a resolved
#: complaint must not keep their data for ever); one reopened is open again, and its later
#: resolution counts anew. A resolved return's refund is a case of its own (open until settled).
CLOSED = {
    "return": frozenset({"resolved", "closed", "cancelled", "expired", "rejected"}),
    "refund": frozenset({"settled", "rejected"}),
    "complaint": frozenset({"resolved", "closed"}),
}


class KeyShredder(Protocol):
    """The data keys (privacy/keys.py): destroyed in the erasure's own transaction."""

    def holds(self, subject: str) -> bool: ...
    def destroy(self, subjects: Sequence[str], at: datetime) -> Effect: ...
    def after_destroy(self) -> None: ...


class SubjectDirectory(Protocol):
    """Which aggregates belong to a customer (privacy/subjects.py), read from the log."""

    def catch_up(self) -> int: ...
    def aggregates_of(self, subject: str) -> list[tuple[UUID, str]]: ...


@dataclass(frozen=True)
class Erasure:
    customer_id: str
    customer_aggregate_id: str
    at: datetime
    by: str
    role: str
    reason: str
    decision: PolicyDecision | None = None

    def to_json(self) -> dict[str, Any]:
        return {"customer_id": self.customer_id,
                "customer_aggregate_id": self.customer_aggregate_id,
                "erased_at": self.at.isoformat(), "by": self.by, "role": self.role,
                "reason": self.reason,
                "decision": None if self.decision is None else self.decision.to_json()}


def closed_at(case: Any) -> datetime | None:
    """When a case reached a state it is done in, or None while it is not."""
    status = getattr(getattr(case, "status", None), "value", None)
    if status in CLOSED.get(getattr(case, "KIND", ""), ()):
        return case.modified_on
    return None


def unknown_customer(customer_id: str) -> UnknownCaseError:
    return UnknownCaseError(f"no customer {customer_id!r}: nothing is held about it")


def personal_data_in(value: Any, path: str) -> Iterator[tuple[str, PersonalData]]:
    """Every personal datum in a value (an event field), with its place in it."""
    if isinstance(value, PersonalData):
        yield path, value
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from personal_data_in(item, f"{path}/{index}")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from personal_data_in(item, f"{path}/{key}")


class PrivacyService:
    def __init__(self, store: Store, work: UnitOfWork, access: Access, keys: KeyShredder,
                 subjects: SubjectDirectory, retention_days: int | None) -> None:
        self.store, self.work, self.access = store, work, access
        self.keys, self.subjects = keys, subjects
        self.retention_days = retention_days

    # ---- erasure --------------------------------------------------------------------------
    def erase(self, caller: Caller, customer_id: str, reason: str, at: datetime) -> Erasure:
        """Erase the customer's personal data now (an administrator, never of themselves)."""
        require_aware(at)
        grant = self.access.require(caller, "EraseCustomer", {"customer_id": customer_id})
        if not self._known(customer_id):
            raise unknown_customer(customer_id)
        return self._erase(grant.actor, customer_id, reason, at, None)

    def _known(self, customer_id: str) -> bool:
        if self.store.exists(customer_aggregate_id(customer_id)):
            return True
        self.subjects.catch_up()
        return bool(self.subjects.aggregates_of(customer_id))

    def _erase(self, actor: Actor, customer_id: str, reason: str, at: datetime,
               decision: PolicyDecision | None) -> Erasure:
        customer = self.store.customer(customer_id, at)
        # the keys of the customer's orders that hold the unknown fields of facts that came
        # before the placement named them go with the customer's own
        held = [order_subject(o) for o in customer.orders if self.keys.holds(order_subject(o))]
        customer.erase_personal_data(actor, reason, at, decision)
        self.work.commit(customer, effects=[self.keys.destroy([customer_id, *held], at)])
        self.keys.after_destroy()
        self.store.cache.clear()  # decoded personal data of this process leaves memory
        self.access.forget()
        return Erasure(customer_id, str(customer.id), at, actor.principal_id, actor.role,
                       customer.erasures[-1]["reason"], decision)

    def erasures(self, caller: Caller) -> list[dict[str, Any]]:
        """Every recorded erasure, oldest first (auditors and administrators): the customer
        id, when, by which principal in which role, why, and its store position."""
        self.access.require(caller, "ListErasures")
        return list(recorded_erasures(self.store.recorder, self.store.mapper,
                                      self.access.name_of))

    # ---- retention ------------------------------------------------------------------------
    def retention_decision(self, customer_id: str, now: datetime,
                           aggregates: Sequence[tuple[UUID, str]]) -> PolicyDecision:
        """The ``personal_data.retention`` decision on the customer's cases and orders as the
        store holds them now (the index only proposed the customer): an order counts by the
        time of the last event recorded on it."""
        if self.retention_days is None:
            raise ValueError("no retention period is configured")
        cases, orders = [], []
        for aggregate_id, kind in sorted(aggregates, key=lambda item: str(item[0])):
            loaded = kind in CASE_KINDS or kind == "order"
            case = self.store.load_any(aggregate_id) if loaded else None
            if case is None or getattr(case, "customer_id", None) != customer_id:
                continue
            if kind == "order":
                orders.append({"order_id": case.order_id,  # type: ignore[attr-defined]
                               "last_fact_at": case.modified_on.isoformat()})
                continue
            closed = closed_at(case)
            cases.append({"case_id": str(aggregate_id), "case_type": kind,
                          "status": case.status.value,  # type: ignore[attr-defined]
                          "closed_at": None if closed is None else closed.isoformat()})
        return policies.evaluate(RETENTION_POLICY, {
            "customer_id": customer_id, "retention_days": self.retention_days,
            "now": now.isoformat(), "cases": cases, "orders": orders})

    def apply_retention(self, caller: Caller, customer_id: str, now: datetime,
                        aggregates: Sequence[tuple[UUID, str]]) -> Erasure | PolicyDecision:
        """Erase the customer's data when the retention decision says so (the scheduler);
        returns the erasure, or the decision to keep it."""
        require_aware(now, "now")
        grant = self.access.require(caller, "ApplyRetention", {"customer_id": customer_id})
        decision = self.retention_decision(customer_id, now, aggregates)
        if Retention(decision.outcome) is not Retention.ERASE:
            return decision
        reason = (f"retention: {self.retention_days} days after the last case closed or "
                  f"order fact ({decision.details['kept_from']})")
        return self._erase(grant.actor, customer_id, reason, now, decision)

    # ---- export ---------------------------------------------------------------------------
    def export(self, caller: Caller, customer_id: str, now: datetime) -> dict[str, Any]:
        """Every case, order, quota ledger and principal of the customer, and every personal
        datum in them, as the store holds them now (erased values read ``[erased]``)."""
        self.access.require(caller, "ExportCustomer", {"customer_id": customer_id},
                            hidden=lambda: unknown_customer(customer_id))
        self.subjects.catch_up()
        groups: dict[str, list[dict[str, Any]]] = {
            "cases": [], "orders": [], "quotas": [], "principals": []}
        personal: list[dict[str, Any]] = []
        customer_id_of = customer_aggregate_id(customer_id)
        found = [(customer_id_of, "customer")] if self.store.exists(customer_id_of) else []
        held = [*found, *self.subjects.aggregates_of(customer_id)]
        if not held:  # a mistyped id must not read as "we hold nothing about this person"
            raise unknown_customer(customer_id)
        customer: dict[str, Any] | None = None
        for aggregate_id, kind in held:
            history = load_history(self.store, aggregate_id)
            # an order's own subject: facts that came before its placement named the customer
            subjects = {customer_id, order_subject_of(aggregate_id) if kind == "order" else ""}
            for event in history.events:
                for name, value in vars(event).items():
                    for path, datum in personal_data_in(value, name):
                        if datum.subject in subjects:
                            personal.append({
                                "aggregate_id": str(aggregate_id), "kind": kind,
                                "event": type(event).TOPIC, "version": event.originator_version,
                                "at": event.timestamp.isoformat(), "field": path,
                                "value": datum.value})
            document = history.to_json()
            if kind == "customer":
                customer = document
            else:
                group = {"order": "orders", "quota": "quotas", "principal": "principals"}
                groups[group.get(kind, "cases")].append(document)
        return {"format": EXPORT_FORMAT, "customer_id": customer_id,
                "exported_at": now.isoformat(), "personal_data": personal,
                "customer": customer, **groups}
