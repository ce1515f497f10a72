"""A case as of any moment, its events, and its recorded decisions: what auditors read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from aftersales_core.application.customs import CUSTOMS, uses_quota
from aftersales_core.application.store import Store
from aftersales_core.decisions import PolicyDecision
from aftersales_core.domain.ids import order_aggregate_id, quota_aggregate_id
from aftersales_core.domain.order import Order
from aftersales_core.domain.quota import BuyerQuota
from aftersales_core.errors import DomainError, UnknownCaseError
from aftersales_core.money import Money
from aftersales_core.personal import PersonalData

HIDDEN = {"originator_id", "originator_version", "timestamp", "originator_topic"}


@dataclass
class CaseHistory:
    aggregate: Aggregate
    events: list[Any]
    as_of: datetime | None
    view: str = "full"  # "redacted": personal data replaced by a marker naming its subject
    buyer_quota: dict[str, Any] | None = None  # a China cross-border order's annual quota

    @property
    def decisions(self) -> list[PolicyDecision]:
        return [
            e.decision
            for e in self.events
            if isinstance(getattr(e, "decision", None), PolicyDecision)
        ]

    def to_json(self) -> dict[str, Any]:
        redact = self.view != "full"
        state = {
            k.lstrip("_"): plain(v, redact)
            for k, v in vars(self.aggregate).items()
            if k not in ("_pending_events", "decisions")
        }
        return {
            "case_id": str(self.aggregate.id),
            "case_type": getattr(self.aggregate, "KIND", type(self.aggregate).__name__),
            "status": plain(getattr(self.aggregate, "status", None)),
            "version": self.aggregate.version,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "view": self.view,
            "state": state,
            "events": [
                {
                    "version": e.originator_version,
                    "type": type(e).TOPIC,
                    "at": e.timestamp.isoformat(),
                    "data": {k: plain(v, redact) for k, v in vars(e).items() if k not in HIDDEN},
                }
                for e in self.events
            ],
            "decisions": [d.to_json() for d in self.decisions],
            "buyer_quota": plain(self.buyer_quota, redact),
        }


def _fold(store: Store, aggregate_id: UUID, as_of: datetime | None) -> tuple[Any, list[Any]]:
    """The aggregate as of ``as_of`` and the events folded into it (the store's one read)."""
    aggregate: Any = None
    kept: list[Any] = []
    for stored in store.history(aggregate_id):
        if as_of is not None and stored.timestamp > as_of:
            break
        aggregate = stored.mutate(aggregate)
        kept.append(stored)
    return aggregate, kept


def load_history(
    app: Store, case_id: UUID, as_of: datetime | None = None, view: str = "full"
) -> CaseHistory:
    """Fold the case's events up to ``as_of`` (business time of the commands), in order; a case
    of a China cross-border order also shows the buyer's annual quota as of that moment.

    Read through ``ReadService.case`` (application/reads.py), which checks who may see it."""
    aggregate, kept = _fold(app, case_id, as_of)
    if aggregate is None:
        when = f" as of {as_of.isoformat()}" if as_of else ""
        raise UnknownCaseError(f"no case {case_id}{when}")
    return CaseHistory(aggregate=aggregate, events=kept, as_of=as_of, view=view,
                       buyer_quota=_buyer_quota(app, aggregate, as_of))


def _buyer_quota(app: Store, case: Any, as_of: datetime | None) -> dict[str, Any] | None:
    order_id = getattr(case, "order_id", None)
    if not isinstance(order_id, str):
        return None
    order, _ = _fold(app, order_aggregate_id(order_id), as_of)
    if not isinstance(order, Order) or not uses_quota(order):
        return None
    assert order.customer_id is not None and order.first_paid_at is not None
    year = CUSTOMS.quota_year(order.first_paid_at)
    ledger, _ = _fold(app, quota_aggregate_id(order.customer_id, year), as_of)
    if not isinstance(ledger, BuyerQuota):
        return None
    used = ledger.used_by(order_id)
    return {**ledger.summary(), "this_order_used": None if used is None else str(used.amount),
            "this_order_restored": str(ledger.restored_for(order_id).amount)}



def rerun_row(decision: PolicyDecision,
              rerun: Callable[[PolicyDecision], PolicyDecision]) -> dict[str, Any]:
    """A recorded decision against what ``rerun`` (its policy version with its recorded book)
    gives again today; a book that is gone or changed is reported, never a match."""
    try:
        again = rerun(decision)
        outcome, same = again.outcome, decision.same_result_as(again)
    except DomainError as error:
        outcome, same = f"re-run failed: {error}", False
    return {"policy_id": decision.policy_id, "policy_version": decision.policy_version,
            "book": decision.book, "recorded": decision.outcome, "rerun": outcome,
            "same": same}

def plain(value: Any, redact: bool = False) -> Any:
    """A JSON-friendly view of state and event values (personal data shown, or redacted as
    the relay does; never logged)."""
    if isinstance(value, PolicyDecision):
        return value.to_json()
    if isinstance(value, Money):
        return str(value)
    if isinstance(value, PersonalData):
        return {"personal_data": "redacted", "subject": value.subject} if redact else value.value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (Decimal, UUID)):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v, redact) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(v, redact) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name), redact) for f in fields(value)}
    return value
