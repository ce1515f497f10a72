"""The rules of a ReturnCase's way back (label, shipping, receipt, inspection, expiry) and of
its deadlines: plain methods that check before any event exists (the events are declared on
ReturnCase itself, in domain/returns.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aftersales_core.decisions import PolicyDecision
from aftersales_core.domain.actor import Actor
from aftersales_core.domain.base import CaseRules, require_aware
from aftersales_core.domain.deadlines import Breach, Deadline
from aftersales_core.domain.return_status import GRADES
from aftersales_core.domain.return_status import ReturnStatus as S
from aftersales_core.errors import IllegalTransitionError, InvalidCommandError
from aftersales_core.money import Money
from aftersales_core.outcomes import BreachOutcome, DeadlineState

AWAITING_GOODS = (S.APPROVED, S.LABEL_ISSUED, S.SHIPPED_BACK)


class ReturnRules(CaseRules):
    """Mixed into ReturnCase, which holds this state and declares these event methods."""

    status: S
    returnless: bool
    review_since: datetime | None
    approved_at: datetime | None
    ship_back_by: str | None
    label: dict[str, Any] | None
    shipment_id: str | None
    wanted_outcome: str
    resolution: dict[str, Any] | None
    refunds: list[dict[str, Any]]
    reopenings: int
    _label_issued: Callable[..., None]
    _shipped_back: Callable[..., None]
    _expired: Callable[..., None]
    _received: Callable[..., None]
    _inspected: Callable[..., None]
    _disposition_set: Callable[..., None]
    _escalated: Callable[..., None]
    record_decision: Callable[..., None]
    _approve: Callable[..., None]
    repair_deadlines_wanted: Callable[[], dict[str, datetime]]
    units_refunded: Callable[[], bool]

    def issue_label(
        self,
        actor: Actor,
        carrier: str,
        tracking_number: str,
        cost: Money | None,
        at: datetime,
    ) -> None:
        self._check_time(at)
        self._require("issue a return label", (S.APPROVED,))
        if self.returnless:
            raise IllegalTransitionError(self.KIND, self.id, "issue a return label",
                                         "returnless (the buyer keeps the item)")
        self._label_issued(
            by=actor.principal_id,
            role=actor.role,
            carrier=carrier,
            tracking_number=tracking_number,
            cost=cost,
            timestamp=at,
        )

    def can_record_shipped(self) -> bool:
        return self.status in (S.APPROVED, S.LABEL_ISSUED) and not self.returnless

    def awaits_goods(self) -> bool:
        """The goods are coming back (a returnless return's never do)."""
        return self.status in AWAITING_GOODS and not self.returnless

    def carries(self, shipment_id: str) -> bool:
        """The parcel is this return's: the tracking number of the label issued for it, or the
        shipment it was recorded shipped back (or received) under."""
        label = (self.label or {}).get("tracking_number")
        return shipment_id in (label, self.shipment_id)

    def parcel_unknown(self) -> bool:
        """No parcel is known to be this return's: no label was issued for it and it was not
        recorded shipped back under a shipment (a buyer sending it with a carrier of their
        own). A parcel no return carries can only be such a return's, since a labelled
        return's parcel carries its label's tracking number."""
        return self.label is None and self.shipment_id is None

    def takes_scan(self, scan: str) -> bool:
        """A return-direction scan can move it: ``Delivered`` receives the goods it awaits,
        any other scan records goods not sent yet as shipped back."""
        return self.awaits_goods() if scan == "Delivered" else self.can_record_shipped()

    def shipped_back(self, shipment_id: str, carrier: str, actor: Actor, at: datetime) -> None:
        """A return-direction scan (Dispatched, InTransit…) shows the goods are on their way."""
        require_aware(at)
        if not self.can_record_shipped():
            state = "returnless" if self.returnless else self.status.value
            raise IllegalTransitionError(self.KIND, self.id, "record the goods shipped back", state)
        self._shipped_back(
            shipment_id=shipment_id,
            carrier=carrier,
            by=actor.principal_id,
            role=actor.role,
            timestamp=max(at, self.modified_on),
        )

    def expire(self, actor: Actor, deadline: str, at: datetime) -> None:
        """The goods were not shipped back by the ship-back deadline."""
        self._check_time(at)
        self._require("expire", (S.APPROVED, S.LABEL_ISSUED))
        if self.returnless:
            raise IllegalTransitionError(self.KIND, self.id, "expire", "returnless")
        self._expired(by=actor.principal_id, role=actor.role, deadline=deadline, timestamp=at)

    def receive(self, actor: Actor, shipment_id: str | None, at: datetime,
                customs: PolicyDecision | None = None) -> None:
        """The goods arrived; a cross-border return also records whether they arrived back in
        the bonded zone in time (``return.customs_return``)."""
        require_aware(at)
        self._require("receive the goods", AWAITING_GOODS)
        if self.returnless:
            raise IllegalTransitionError(self.KIND, self.id, "receive the goods", "returnless")
        stamp = max(at, self.modified_on)
        self._received(
            by=actor.principal_id, role=actor.role, shipment_id=shipment_id, timestamp=stamp
        )
        if customs is not None:
            self.record_decision(decision=customs, timestamp=stamp)

    def record_customs(self, customs: PolicyDecision, at: datetime) -> None:
        """A returnless cross-border refund: the goods never come back (no customs return)."""
        self._check_time(at)
        self._require("decide the customs return", (S.APPROVED,))
        self.record_decision(decision=customs, timestamp=at)

    def inspect(
        self,
        actor: Actor,
        grade: str,
        findings: str,
        disposition: PolicyDecision,
        at: datetime,
        seal_intact: bool | None = None,
    ) -> None:
        """Grade and findings; ``seal_intact``, for a return holding sealed goods (audio, video,
        software), whether their seal is unbroken (the application checks it is given when the
        return depends on it, and only then or for sealed goods)."""
        self._check_time(at)
        self._require("inspect", (S.RECEIVED,))
        if grade not in GRADES:
            raise InvalidCommandError(f"grade must be one of A, B, C, D, got {grade!r}")
        self._inspected(
            by=actor.principal_id, role=actor.role, grade=grade, findings=findings, timestamp=at,
            seal_intact=seal_intact,
        )
        self.record_decision(decision=disposition, timestamp=at)
        self._disposition_set(disposition=disposition.outcome, timestamp=at)

    def deadlines_wanted(self) -> dict[str, datetime]:
        wanted: dict[str, datetime] = {}
        if self.status == S.PENDING_REVIEW and self.review_since is not None:
            wanted["decision"] = self.review_since
        if self.approved_at is None:
            return wanted
        if self.status in (S.APPROVED, S.LABEL_ISSUED) and self.ship_back_by:
            wanted["ship_back"] = self.approved_at
        awaiting = (S.APPROVED, S.LABEL_ISSUED, S.SHIPPED_BACK, S.RECEIVED, S.INSPECTED)
        # a return reopened by a rejected refund owes its refund whatever the buyer wanted
        owed = self.wanted_outcome == "refund" or self.reopenings > 0
        if owed and self.status in awaiting and \
                not self.units_refunded():  # else the refunds requested for it carry it
            wanted["refund"] = self.approved_at
        wanted.update(self.repair_deadlines_wanted())
        return wanted

    def _deadline_left(self, name: str) -> tuple[DeadlineState, str]:
        if self.status in (S.CANCELLED, S.EXPIRED, S.REJECTED) and name != "decision":
            return DeadlineState.CANCELLED, f"the return was {self.status.value}"
        if name == "refund" and self.units_refunded():
            refunds = ", ".join(r["refund_case_id"] for r in self.refunds)
            return DeadlineState.MET, f"carried by the refunds requested for it: {refunds}"
        if name == "refund" and (self.resolution or {}).get("kind") != "refund":
            return DeadlineState.CANCELLED, "resolved without a refund"
        if name == "decision" and self.status == S.CANCELLED:
            return DeadlineState.CANCELLED, "cancelled by the customer"
        return DeadlineState.MET, f"the return is {self.status.value}"

    def _act_on_breach(
        self, deadline: Deadline, breach: Breach, actor: Actor, at: datetime
    ) -> None:
        if breach.outcome is BreachOutcome.EXPIRE:
            self.expire(actor=actor, deadline=deadline.name, at=at)
        elif breach.outcome is BreachOutcome.AUTO_APPROVE:
            self._require("approve", (S.PENDING_REVIEW,))
            self._approve(actor=actor, shipping=breach.support, at=at)
        elif breach.outcome is BreachOutcome.ESCALATE:
            self._escalated(
                by=actor.principal_id,
                role=actor.role,
                level=breach.decision.details["level"],
                reason="; ".join(breach.decision.reasons),
                timestamp=at,
            )
