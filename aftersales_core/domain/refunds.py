"""RefundCase: a calculated, approved, issued and settled refund against one order."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from aftersales_core.decisions import PolicyDecision
from aftersales_core.domain.actor import POLICY, Actor, upcast_actor_v1_v2
from aftersales_core.domain.base import CaseRules
from aftersales_core.domain.deadlines import (
    Breach,
    Deadline,
    DeadlineRules,
    deadline_events,
    decision_event,
)
from aftersales_core.domain.lifecycle import CaseEvent, Lifecycle, escalated, stay, to
from aftersales_core.errors import (
    ApprovalRefusedError,
    IllegalTransitionError,
    InvalidCommandError,
    SelfApprovalError,
)
from aftersales_core.money import Money
from aftersales_core.outcomes import (
    BreachOutcome,
    DeadlineState,
    RefundApproval,
    RefundCalculation,
)


class RefundStatus(StrEnum):
    REQUESTED = "requested"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    ISSUED = "issued"
    FAILED = "failed"
    SETTLED = "settled"


S = RefundStatus
REFUND_LIFECYCLE = Lifecycle("refund", RefundStatus, "Requested", {
    "Requested": to(S.REQUESTED),
    "Calculated": stay,
    "AwaitingApproval": to(S.AWAITING_APPROVAL),
    "Approved": to(S.APPROVED),
    "Rejected": to(S.REJECTED),
    "Issued": to(S.ISSUED),
    "Failed": to(S.FAILED),
    "Settled": to(S.SETTLED),
    "Escalated": escalated(),
    "DecisionRecorded": stay,
    "DeadlineScheduled": stay,
    "DeadlineCancelled": stay,
    "DeadlineBreached": stay,
})


class RefundCase(CaseRules, DeadlineRules, Aggregate):
    """Requested → calculated → approved (by policy under a threshold, else by a supervisor who
    is not the requester) or rejected → issued (idempotency key = refund id) → settled, or
    failed → issued again → settled."""

    KIND = "refund"
    TOPIC = "aftersales.refund"
    Created = None  # type: ignore[assignment]  # creation events have their own names

    LIFECYCLE = REFUND_LIFECYCLE
    status: RefundStatus

    class Event(CaseEvent):
        class_version = 2
        upcast_v1_v2 = classmethod(upcast_actor_v1_v2)

    @event("Requested", topic="aftersales.refund.Requested")
    def __init__(
        self,
        id: UUID,
        order_id: str,
        customer_id: str,
        source: str,
        source_case_id: str | None,
        lines: list[dict[str, Any]],
        amount: Money | None,
        reason: str,
        by: str,
        role: str,
        timestamp: datetime,
    ) -> None:
        self.order_id, self.customer_id = order_id, customer_id
        self.source, self.source_case_id = source, source_case_id
        self.lines, self.requested_amount, self.reason = lines, amount, reason
        self.requested_by, self.requested_role = by, role
        self.decisions: list[PolicyDecision] = []
        self.amount: Money | None = None
        self.components: dict[str, str] = {}
        self.approved_by: str | None = None
        self.approved_role: str | None = None
        self.attempts = 0
        self.provider_ref: str | None = None
        self.failures: list[str] = []
        self.failed_at: datetime | None = None  # the last failed payment
        self.escalations: list[str] = []
        self.deadlines: dict[str, Deadline] = {}

    @property
    def idempotency_key(self) -> str:
        """The key the payment provider dedupes on: the refund id, the same for every retry."""
        return str(self.id)

    record_decision = decision_event("aftersales.refund")

    def calculate(
        self, calculation: PolicyDecision, approval: PolicyDecision | None, at: datetime
    ) -> None:
        """Record the calculation and the approval-authority decision of a new request. With
        nothing to refund the request is rejected with the calculation's reasons and no
        approval is recorded (there is nothing to approve: a recorded ``auto_approve`` beside
        the rejection said the opposite of what happened)."""
        self._check_time(at)
        self._require("calculate", (S.REQUESTED,))
        details = calculation.details
        amount = Money.of(details["total"], details["currency"])
        nothing = RefundCalculation(calculation.outcome) is RefundCalculation.NOTHING_TO_REFUND
        if approval is None and not nothing:
            raise InvalidCommandError(f"refund {self.id}: a refund to pay needs the decision "
                                      "of the approval authority")
        self.record_decision(decision=calculation, timestamp=at)
        self._calculated(
            amount=amount, components=dict(details.get("components", {})), timestamp=at
        )
        if nothing:
            self._rejected(
                by=POLICY.principal_id,
                role=POLICY.role,
                reason="; ".join(calculation.reasons),
                timestamp=at,
            )
            return
        assert approval is not None
        self.record_decision(decision=approval, timestamp=at)
        if RefundApproval(approval.outcome) is RefundApproval.AUTO_APPROVE:
            self._approved(by=POLICY.principal_id, role=POLICY.role, timestamp=at)
        else:
            self._awaiting_approval(reasons=list(approval.reasons), timestamp=at)

    @event("Calculated", topic="aftersales.refund.Calculated")
    def _calculated(self, amount: Money, components: dict[str, str], timestamp: datetime) -> None:
        self.amount, self.components = amount, components

    @event("AwaitingApproval", topic="aftersales.refund.AwaitingApproval")
    def _awaiting_approval(self, reasons: list[str], timestamp: datetime) -> None:
        """The approval policy asks for a supervisor."""

    def approve(self, actor: Actor, decision: PolicyDecision, at: datetime) -> None:
        self._check_time(at)
        self._require("approve", (S.AWAITING_APPROVAL,))
        if actor.principal_id == self.requested_by:
            raise SelfApprovalError(self.id, actor.principal_id)
        if RefundApproval(decision.outcome) is not RefundApproval.APPROVE:
            raise ApprovalRefusedError(f"refund {self.id}: " + "; ".join(decision.reasons))
        self.record_decision(decision=decision, timestamp=at)
        self._approved(by=actor.principal_id, role=actor.role, timestamp=at)

    @event("Approved", topic="aftersales.refund.Approved")
    def _approved(self, by: str, role: str, timestamp: datetime) -> None:
        self.approved_by, self.approved_role = by, role

    def reject(self, actor: Actor, reason: str, at: datetime) -> None:
        self._check_time(at)
        self._require("reject", (S.REQUESTED, S.AWAITING_APPROVAL, S.APPROVED, S.FAILED))
        self._rejected(by=actor.principal_id, role=actor.role, reason=reason, timestamp=at)

    @event("Rejected", topic="aftersales.refund.Rejected")
    def _rejected(self, by: str, role: str, reason: str, timestamp: datetime) -> None:
        """Nothing will be paid."""

    def issue(self, actor: Actor, at: datetime) -> None:
        self._check_time(at)
        self._require("issue", (S.APPROVED, S.FAILED))
        self._issued(
            by=actor.principal_id,
            role=actor.role,
            idempotency_key=self.idempotency_key,
            attempt=self.attempts + 1,
            timestamp=at,
        )

    @event("Issued", topic="aftersales.refund.Issued")
    def _issued(
        self, by: str, role: str, idempotency_key: str, attempt: int, timestamp: datetime
    ) -> None:
        self.attempts = attempt

    def issued_already(self) -> str | None:
        """What an ``IssueRefund`` now would repeat (a payments service retrying after a
        timeout): the refund is issued and has not failed since, or is settled; None when it
        would issue (again)."""
        if self.status == S.ISSUED:
            return (f"refund {self.id} was issued already (attempt {self.attempts}, "
                    f"idempotency key {self.idempotency_key}): already recorded, nothing new "
                    "was stored")
        if self.status == S.SETTLED:
            return (f"refund {self.id} was issued already and is settled (provider_ref "
                    f"{self.provider_ref}): already recorded, nothing new was stored")
        return None

    def settled_already(self, provider_ref: str) -> str | None:
        """What a ``ConfirmRefundSettled`` with ``provider_ref`` would repeat: the settlement
        recorded under that same reference; None otherwise (a different reference on a settled
        refund is refused by ``settle``)."""
        if self.status == S.SETTLED and provider_ref == self.provider_ref:
            return (f"refund {self.id} was settled already under provider_ref "
                    f"{provider_ref}: already recorded, nothing new was stored")
        return None

    def settle(self, provider_ref: str, actor: Actor, at: datetime) -> None:
        self._check_time(at)
        if self.status == S.SETTLED and provider_ref != self.provider_ref:
            raise IllegalTransitionError(
                self.KIND, self.id, "confirm a settlement under another provider_ref (it was "
                f"settled under {self.provider_ref})", self.status.value)
        self._require("confirm settlement", (S.ISSUED,))
        if not provider_ref.strip():
            raise InvalidCommandError("provider_ref must not be empty")
        self._settled(
            provider_ref=provider_ref, by=actor.principal_id, role=actor.role, timestamp=at
        )

    @event("Settled", topic="aftersales.refund.Settled")
    def _settled(self, provider_ref: str, by: str, role: str, timestamp: datetime) -> None:
        self.provider_ref = provider_ref

    def fail(self, error: str, actor: Actor, at: datetime) -> None:
        self._check_time(at)
        self._require("record a failure", (S.ISSUED,))
        self._failed(error=error, by=actor.principal_id, role=actor.role, timestamp=at)

    @event("Failed", topic="aftersales.refund.Failed")
    def _failed(self, error: str, by: str, role: str, timestamp: datetime) -> None:
        self.failures.append(error)
        self.failed_at = timestamp

    # ---- deadlines (SPEC §3.3; bookkeeping in domain/deadlines.py) -------------------------
    def deadlines_wanted(self) -> dict[str, datetime]:
        """Until it is issued; and again after a failed payment (the money did not move: the
        refund is still owed by the same due time, deadlines v5), until it is issued again."""
        if self.status in (S.REQUESTED, S.AWAITING_APPROVAL, S.APPROVED):
            return {"refund": self.created_on}
        if self.status == S.FAILED and self.failed_at is not None:
            return {"refund": self.failed_at}
        return {}

    def _deadline_left(self, name: str) -> tuple[DeadlineState, str]:
        if self.status == S.REJECTED:
            return DeadlineState.CANCELLED, "the refund was rejected"
        return DeadlineState.MET, "the refund was issued"

    def _act_on_breach(
        self, deadline: Deadline, breach: Breach, actor: Actor, at: datetime
    ) -> None:
        if breach.outcome is BreachOutcome.ESCALATE:
            self._escalated(
                by=actor.principal_id,
                role=actor.role,
                level=breach.decision.details["level"],
                reason="; ".join(breach.decision.reasons),
                timestamp=at,
            )

    @event("Escalated", topic="aftersales.refund.Escalated")
    def _escalated(
        self, by: str, role: str, level: str, reason: str, timestamp: datetime
    ) -> None:
        self.escalations.append(level)

    _deadline_scheduled, _deadline_cancelled, _deadline_breached = deadline_events(
        "aftersales.refund"
    )
