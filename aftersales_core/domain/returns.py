"""ReturnCase: an RMA from request to closure, with exchange or repair as outcomes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from aftersales_core.decisions import PolicyDecision
from aftersales_core.domain.base import CaseRules, require_aware
from aftersales_core.domain.deadlines import (
    SCHEDULER,
    Breach,
    Deadline,
    DeadlineRules,
    is_deadline_decision,
)
from aftersales_core.errors import IllegalTransitionError, InvalidCommandError
from aftersales_core.money import Money
from aftersales_core.personal import PersonalData


class ReturnStatus(StrEnum):
    REQUESTED = "requested"
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    LABEL_ISSUED = "label_issued"
    SHIPPED_BACK = "shipped_back"
    RECEIVED = "received"
    INSPECTED = "inspected"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


S = ReturnStatus
OPEN_BEFORE_SHIPPING = (S.REQUESTED, S.PENDING_REVIEW, S.APPROVED, S.LABEL_ISSUED)
GRADES = ("A", "B", "C", "D")


class ReturnCase(CaseRules, DeadlineRules, Aggregate):
    """Requested → decided → label or returnless → shipped back → received → inspected →
    disposition → resolved (refund, exchange, repair) → closed; or cancelled, rejected, expired."""

    KIND = "return"
    TOPIC = "aftersales.return"
    Created = None  # type: ignore[assignment]  # creation events have their own names

    class Event(Aggregate.Event):
        class_version = 1

    @event("Requested", topic="aftersales.return.Requested")
    def __init__(
        self,
        id: UUID,
        order_id: str,
        customer_id: str,
        lines: list[dict[str, Any]],
        reason: str,
        wanted_outcome: str,
        note: PersonalData | None,
        evidence: list[PersonalData],
        channel: str,
        requested_by: str,
        timestamp: datetime,
    ) -> None:
        self.order_id, self.customer_id, self.lines = order_id, customer_id, lines
        self.reason, self.wanted_outcome, self.channel = reason, wanted_outcome, channel
        self.note, self.evidence, self.requested_by = note, evidence, requested_by
        self.status = S.REQUESTED
        self.decisions: list[PolicyDecision] = []
        self.return_shipping_payer: str | None = None
        self.returnless = False
        self.ship_back_by: str | None = None
        self.label: dict[str, Any] | None = None
        self.shipment_id: str | None = None
        self.grade: str | None = None
        self.findings: str | None = None
        self.disposition: str | None = None
        self.resolution: dict[str, Any] | None = None
        self.history: list[str] = [S.REQUESTED.value]
        self.review_since: datetime | None = None
        self.approved_at: datetime | None = None
        self.received_at: datetime | None = None
        self.shipped_at: datetime | None = None
        self.escalations: list[str] = []
        self.deadlines: dict[str, Deadline] = {}

    # ---- decisions ----------------------------------------------------------------------
    @event("DecisionRecorded", topic="aftersales.return.DecisionRecorded")
    def record_decision(self, decision: PolicyDecision, timestamp: datetime) -> None:
        if not is_deadline_decision(decision):  # those stay in the events and in set_by
            self.decisions.append(decision)

    def latest(self, policy_id: str) -> PolicyDecision | None:
        return next((d for d in reversed(self.decisions) if d.policy_id == policy_id), None)

    def decide(
        self,
        eligibility: PolicyDecision,
        abuse: PolicyDecision,
        shipping: PolicyDecision | None,
        at: datetime,
    ) -> None:
        """Record the automatic decisions on a new request and move to their outcome."""
        self._check_time(at)
        self._require("decide eligibility", (S.REQUESTED,))
        approves = eligibility.outcome == "approve" and abuse.outcome != "review"
        if approves and shipping is None:
            raise InvalidCommandError(f"return {self.id}: approval needs a shipping decision")
        self.record_decision(decision=eligibility, timestamp=at)
        self.record_decision(decision=abuse, timestamp=at)
        if eligibility.outcome == "reject":
            self._rejected(by="policy", reason="; ".join(eligibility.reasons), timestamp=at)
        elif eligibility.outcome == "review" or abuse.outcome == "review":
            reasons = (
                [*eligibility.reasons, *abuse.reasons]
                if abuse.outcome == "review"
                else list(eligibility.reasons)
            )
            self._sent_to_review(reasons=reasons, timestamp=at)
        else:
            self._approve(by="policy", shipping=shipping, at=at)

    def approve(self, by: str, shipping: PolicyDecision, at: datetime) -> None:
        self._check_time(at)
        self._require("approve", (S.PENDING_REVIEW,))
        self._approve(by=by, shipping=shipping, at=at)

    def _approve(self, by: str, shipping: PolicyDecision | None, at: datetime) -> None:
        if shipping is None:
            raise InvalidCommandError(f"return {self.id}: approval needs a shipping decision")
        eligibility = self.latest("return.eligibility")
        ship_back_by = eligibility.details.get("ship_back_by") if eligibility else None
        self.record_decision(decision=shipping, timestamp=at)
        self._approved(
            by=by,
            return_shipping_payer=shipping.outcome,
            returnless=bool(shipping.details.get("returnless")),
            ship_back_by=ship_back_by,
            timestamp=at,
        )

    @event("Approved", topic="aftersales.return.Approved")
    def _approved(
        self,
        by: str,
        return_shipping_payer: str,
        returnless: bool,
        ship_back_by: str | None,
        timestamp: datetime,
    ) -> None:
        self.return_shipping_payer, self.returnless = return_shipping_payer, returnless
        self.ship_back_by = None if returnless else ship_back_by
        self.approved_at = timestamp
        self._move(S.APPROVED)

    @event("SentToReview", topic="aftersales.return.SentToReview")
    def _sent_to_review(self, reasons: list[str], timestamp: datetime) -> None:
        self.review_since = timestamp
        self._move(S.PENDING_REVIEW)

    def reject(self, by: str, reason: str, at: datetime) -> None:
        self._check_time(at)
        self._require("reject", (S.REQUESTED, S.PENDING_REVIEW))
        self._rejected(by=by, reason=reason, timestamp=at)

    @event("Rejected", topic="aftersales.return.Rejected")
    def _rejected(self, by: str, reason: str, timestamp: datetime) -> None:
        self._move(S.REJECTED)

    def cancel(self, by: str, reason: str, at: datetime) -> None:
        self._check_time(at)
        self._require("cancel", (*OPEN_BEFORE_SHIPPING,))
        self._cancelled(by=by, reason=reason, timestamp=at)

    @event("Cancelled", topic="aftersales.return.Cancelled")
    def _cancelled(self, by: str, reason: str, timestamp: datetime) -> None:
        self._move(S.CANCELLED)

    # ---- the goods' way back --------------------------------------------------------------
    def issue_label(
        self, by: str, carrier: str, tracking_number: str, cost: Money | None, at: datetime
    ) -> None:
        self._check_time(at)
        self._require("issue a return label", (S.APPROVED,))
        if self.returnless:
            raise InvalidCommandError(f"return {self.id} is returnless: the buyer keeps the item")
        self._label_issued(
            by=by, carrier=carrier, tracking_number=tracking_number, cost=cost, timestamp=at
        )

    @event("LabelIssued", topic="aftersales.return.LabelIssued")
    def _label_issued(
        self, by: str, carrier: str, tracking_number: str, cost: Money | None, timestamp: datetime
    ) -> None:
        self.label = {"carrier": carrier, "tracking_number": tracking_number, "cost": cost}
        self._move(S.LABEL_ISSUED)

    def can_record_shipped(self) -> bool:
        return self.status in (S.APPROVED, S.LABEL_ISSUED) and not self.returnless

    def shipped_back(self, shipment_id: str, carrier: str, at: datetime) -> None:
        """A return-direction scan (Dispatched, InTransit…) shows the goods are on their way."""
        require_aware(at)
        if not self.can_record_shipped():
            state = "returnless" if self.returnless else self.status.value
            raise IllegalTransitionError(self.KIND, self.id, "record the goods shipped back",
                                         state)
        self._shipped_back(shipment_id=shipment_id, carrier=carrier,
                           timestamp=max(at, self.modified_on))

    @event("ShippedBack", topic="aftersales.return.ShippedBack")
    def _shipped_back(self, shipment_id: str, carrier: str, timestamp: datetime) -> None:
        self.shipment_id = shipment_id
        self.shipped_at = self.shipped_at or timestamp
        self._move(S.SHIPPED_BACK)

    def expire(self, by: str, deadline: str, at: datetime) -> None:
        """The goods were not shipped back by the ship-back deadline."""
        self._check_time(at)
        self._require("expire", (S.APPROVED, S.LABEL_ISSUED))
        if self.returnless:
            raise IllegalTransitionError(self.KIND, self.id, "expire", "returnless")
        self._expired(by=by, deadline=deadline, timestamp=at)

    @event("Expired", topic="aftersales.return.Expired")
    def _expired(self, by: str, deadline: str, timestamp: datetime) -> None:
        self._move(S.EXPIRED)

    def receive(self, by: str, shipment_id: str | None, at: datetime) -> None:
        require_aware(at)
        self._require("receive the goods", (S.APPROVED, S.LABEL_ISSUED, S.SHIPPED_BACK))
        if self.returnless:
            raise InvalidCommandError(f"return {self.id} is returnless: nothing comes back")
        self._received(by=by, shipment_id=shipment_id, timestamp=max(at, self.modified_on))

    @event("Received", topic="aftersales.return.Received")
    def _received(self, by: str, shipment_id: str | None, timestamp: datetime) -> None:
        self.shipment_id = shipment_id or self.shipment_id
        self.received_at = timestamp
        self._move(S.RECEIVED)

    def inspect(
        self, by: str, grade: str, findings: str, disposition: PolicyDecision, at: datetime
    ) -> None:
        self._check_time(at)
        self._require("inspect", (S.RECEIVED,))
        if grade not in GRADES:
            raise InvalidCommandError(f"grade must be one of A, B, C, D, got {grade!r}")
        self._inspected(by=by, grade=grade, findings=findings, timestamp=at)
        self.record_decision(decision=disposition, timestamp=at)
        self._disposition_set(disposition=disposition.outcome, timestamp=at)

    @event("Inspected", topic="aftersales.return.Inspected")
    def _inspected(self, by: str, grade: str, findings: str, timestamp: datetime) -> None:
        self.grade, self.findings = grade, findings
        self._move(S.INSPECTED)

    @event("DispositionSet", topic="aftersales.return.DispositionSet")
    def _disposition_set(self, disposition: str, timestamp: datetime) -> None:
        self.disposition = disposition

    # ---- resolution -------------------------------------------------------------------------
    def resolve(
        self,
        by: str,
        resolution: str,
        refund_case_id: UUID | None,
        detail: str | None,
        at: datetime,
    ) -> None:
        self._check_time(at)
        ready = (S.INSPECTED,) if not self.returnless else (S.APPROVED,)
        self._require(f"resolve with {resolution}", ready)
        if resolution == "refund" and refund_case_id is None:
            raise InvalidCommandError(f"return {self.id}: a refund resolution needs a refund case")
        self._resolved(
            by=by,
            resolution=resolution,
            refund_case_id=str(refund_case_id) if refund_case_id else None,
            detail=detail,
            timestamp=at,
        )

    @event("Resolved", topic="aftersales.return.Resolved")
    def _resolved(
        self,
        by: str,
        resolution: str,
        refund_case_id: str | None,
        detail: str | None,
        timestamp: datetime,
    ) -> None:
        self.resolution = {"kind": resolution, "refund_case_id": refund_case_id, "detail": detail}
        self._move(S.RESOLVED)

    def close(self, by: str, at: datetime) -> None:
        self._check_time(at)
        self._require("close", (S.RESOLVED, S.REJECTED, S.CANCELLED, S.EXPIRED))
        self._closed(by=by, timestamp=at)

    @event("Closed", topic="aftersales.return.Closed")
    def _closed(self, by: str, timestamp: datetime) -> None:
        self._move(S.CLOSED)

    # ---- deadlines (SPEC §3.3; bookkeeping in domain/deadlines.py) -------------------------
    def deadlines_wanted(self) -> dict[str, datetime]:
        wanted: dict[str, datetime] = {}
        if self.status == S.PENDING_REVIEW and self.review_since is not None:
            wanted["decision"] = self.review_since
        if self.approved_at is None:
            return wanted
        if self.status in (S.APPROVED, S.LABEL_ISSUED) and self.ship_back_by:
            wanted["ship_back"] = self.approved_at
        awaiting = (S.APPROVED, S.LABEL_ISSUED, S.SHIPPED_BACK, S.RECEIVED, S.INSPECTED)
        if self.wanted_outcome == "refund" and self.status in awaiting:
            wanted["refund"] = self.approved_at
        return wanted

    def _deadline_left(self, name: str) -> tuple[str, str]:
        if self.status in (S.CANCELLED, S.EXPIRED, S.REJECTED) and name != "decision":
            return "cancelled", f"the return was {self.status.value}"
        if name == "refund" and (self.resolution or {}).get("kind") != "refund":
            return "cancelled", "resolved without a refund"
        if name == "decision" and self.status == S.CANCELLED:
            return "cancelled", "cancelled by the customer"
        return "met", f"the return is {self.status.value}"

    def _act_on_breach(self, deadline: Deadline, breach: Breach, at: datetime) -> None:
        if breach.outcome == "expire":
            self.expire(by=SCHEDULER, deadline=deadline.name, at=at)
        elif breach.outcome == "auto_approve":
            self._require("approve", (S.PENDING_REVIEW,))
            self._approve(by="policy:deadlines", shipping=breach.support, at=at)
        elif breach.outcome == "escalate":
            level = breach.decision.details["level"]
            self._escalated(
                by=SCHEDULER, level=level, reason="; ".join(breach.decision.reasons), timestamp=at
            )

    @event("Escalated", topic="aftersales.return.Escalated")
    def _escalated(self, by: str, level: str, reason: str, timestamp: datetime) -> None:
        self.escalations.append(level)

    @event("DeadlineScheduled", topic="aftersales.return.DeadlineScheduled")
    def _deadline_scheduled(
        self,
        name: str,
        due_at: datetime,
        action: str,
        basis: str,
        since: datetime,
        set_by: dict[str, Any],
        timestamp: datetime,
    ) -> None:
        self._apply_scheduled(name, due_at, action, basis, since, set_by)

    @event("DeadlineCancelled", topic="aftersales.return.DeadlineCancelled")
    def _deadline_cancelled(self, name: str, reason: str, detail: str, timestamp: datetime) -> None:
        self._apply_cancelled(name, reason, timestamp)

    @event("DeadlineBreached", topic="aftersales.return.DeadlineBreached")
    def _deadline_breached(
        self, name: str, due_at: datetime, fired_at: datetime, action: str, timestamp: datetime
    ) -> None:
        self._apply_breached(name, action, timestamp)

    def _move(self, status: ReturnStatus) -> None:
        self.status = status
        self.history.append(status.value)
