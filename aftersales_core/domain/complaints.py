"""ComplaintCase: a customer's complaint from filing to a closed, rated resolution."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from aftersales_core.decisions import PolicyDecision
from aftersales_core.domain.actor import Actor, upcast_actor_v1_v2
from aftersales_core.domain.base import CaseRules
from aftersales_core.domain.deadlines import (
    Breach,
    Deadline,
    DeadlineRules,
    deadline_events,
    decision_event,
)
from aftersales_core.domain.lifecycle import (
    CaseEvent,
    Data,
    Lifecycle,
    Standing,
    escalated,
    stay,
    to,
)
from aftersales_core.errors import (
    DomainError,
    IllegalTransitionError,
    InvalidCommandError,
    RefundCapExceededError,
)
from aftersales_core.money import Money
from aftersales_core.outcomes import (
    ESCALATION_LEVELS as ESCALATION_LEVELS,  # the ladder, also read from here
)
from aftersales_core.outcomes import (
    BreachOutcome,
    DeadlineState,
    above,
    highest_escalation,
)
from aftersales_core.personal import PersonalData, prose


class ComplaintStatus(StrEnum):
    FILED = "filed"
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"


S = ComplaintStatus


def _triaged(standing: Standing, _: Data) -> Standing:
    return replace(standing, status=S.OPEN) if standing.status == S.FILED else standing


def _answered(standing: Standing, first_only: bool) -> Standing:
    """An answer to the customer: it acknowledges an open or reopened complaint (a message
    only when it is the first answer)."""
    waiting = standing.status in (S.OPEN, S.REOPENED) and not (first_only and standing.answered)
    return replace(standing, answered=True, status=S.ACKNOWLEDGED if waiting else standing.status)


def _message(standing: Standing, data: Data) -> Standing:
    return _answered(standing, first_only=True) if data["direction"] == "out" else standing


def _proposal_answered(standing: Standing, data: Data) -> Standing:
    return replace(standing, status=S.ACCEPTED if data["accepted"] else S.ACKNOWLEDGED)


COMPLAINT_LIFECYCLE = Lifecycle("complaint", ComplaintStatus, "Filed", {
    "Filed": to(S.FILED),
    "Triaged": _triaged,
    "Acknowledged": lambda standing, _: _answered(standing, first_only=False),
    "MessageAdded": _message,
    "ResolutionProposed": to(S.PROPOSED),
    "ProposalAnswered": _proposal_answered,
    "Escalated": escalated(S.ESCALATED),
    "Resolved": to(S.RESOLVED),
    "Closed": to(S.CLOSED),
    "Reopened": to(S.REOPENED),
    "DecisionRecorded": stay,
    "DeadlineScheduled": stay,
    "DeadlineCancelled": stay,
    "DeadlineBreached": stay,
    "WaitingOnCustomer": stay,  # the resolution clock stops (deadlines_wanted)
    "CustomerAnswered": stay,
})
WORKING = (S.OPEN, S.ACKNOWLEDGED, S.ESCALATED, S.REOPENED)
NOT_DONE = (*WORKING, S.PROPOSED, S.ACCEPTED)
RESOLUTIONS = ("refund", "partial_refund", "reship", "coupon", "apology")
REFUNDS = ("refund", "partial_refund")  # the resolutions that pay money: with an amount


class ComplaintCase(CaseRules, DeadlineRules, Aggregate):
    """Filed → triaged → acknowledged → messages → resolution proposed → accepted or declined →
    escalated → resolved → closed with a satisfaction score; can be reopened."""

    KIND = "complaint"
    TOPIC = "aftersales.complaint"
    Created = None  # type: ignore[assignment]  # creation events have their own names

    LIFECYCLE = COMPLAINT_LIFECYCLE
    status: ComplaintStatus

    class Event(CaseEvent):
        class_version = 2
        upcast_v1_v2 = classmethod(upcast_actor_v1_v2)

    @event("Filed", topic="aftersales.complaint.Filed")
    def __init__(
        self,
        id: UUID,
        customer_id: str,
        order_id: str | None,
        channel: str,
        category: str,
        description: PersonalData,
        by: str,
        role: str,
        proactive: bool,
        timestamp: datetime,
    ) -> None:
        self.customer_id, self.order_id = customer_id, order_id
        self.channel, self.category, self.description = channel, category, description
        self.filed_by, self.filed_role, self.proactive = by, role, proactive
        self.decisions: list[PolicyDecision] = []
        self.priority: str | None = None
        self.acknowledged_at: datetime | None = None
        self.messages: list[dict[str, Any]] = []
        self.proposal: dict[str, Any] | None = None
        self.escalations: list[str] = []
        self.resolution: dict[str, Any] | None = None
        self.satisfaction: int | None = None
        self.reopened = 0
        self.opened_at: datetime | None = None  # the latest triage: filing or reopening
        self.responded_at: datetime | None = None  # the latest answer to the customer
        self.deadlines: dict[str, Deadline] = {}
        # the desk waits on the customer (asked a question) since then; earlier waits
        self.waiting_since: datetime | None = None
        self.pauses: list[tuple[datetime, datetime]] = []

    record_decision = decision_event("aftersales.complaint")

    @property
    def answered(self) -> bool:
        return self.acknowledged_at is not None

    def triage(self, decision: PolicyDecision, at: datetime) -> None:
        self._check_time(at)
        self._require("triage", (S.FILED, S.REOPENED))
        self.record_decision(decision=decision, timestamp=at)
        self._triaged(priority=decision.outcome, timestamp=at)

    @event("Triaged", topic="aftersales.complaint.Triaged")
    def _triaged(self, priority: str, timestamp: datetime) -> None:
        self.priority = priority
        self.opened_at = timestamp

    def acknowledge(self, actor: Actor, message: PersonalData | None, at: datetime) -> None:
        self._check_time(at)
        self._require("acknowledge", WORKING)
        if self.acknowledged_at is not None and self.status != S.REOPENED:
            raise IllegalTransitionError(self.KIND, self.id, "acknowledge again", self.status.value)
        self._acknowledged(by=actor.principal_id, role=actor.role, message=message, timestamp=at)

    @event("Acknowledged", topic="aftersales.complaint.Acknowledged")
    def _acknowledged(
        self, by: str, role: str, message: PersonalData | None, timestamp: datetime
    ) -> None:
        self.acknowledged_at = self.responded_at = timestamp

    def add_message(
        self, direction: str, channel: str, actor: Actor, text: PersonalData, at: datetime,
        awaiting_customer: bool = False,
    ) -> None:
        """A message in or out; an answer out that asks the customer for something starts a
        wait (the resolution clock stops, when the policy book says so), and the customer's
        next message ends it."""
        self._check_time(at)
        self._require("add a message", NOT_DONE)
        if direction not in ("in", "out"):
            raise InvalidCommandError(f"direction must be 'in' or 'out', got {direction!r}")
        if awaiting_customer and direction != "out":
            raise InvalidCommandError("awaiting_customer: only a message out waits on the "
                                      "customer")
        self._message_added(
            direction=direction,
            channel=channel,
            by=actor.principal_id,
            role=actor.role,
            text=text,
            timestamp=at,
        )
        if direction == "in":
            self._customer_answered(actor, at)
        elif awaiting_customer and self.waiting_since is None:
            self._waiting_started(by=actor.principal_id, role=actor.role, timestamp=at)

    def _customer_answered(self, actor: Actor, at: datetime) -> None:
        if self.waiting_since is not None:
            self._waiting_ended(by=actor.principal_id, role=actor.role, timestamp=at)

    @event("WaitingOnCustomer", topic="aftersales.complaint.WaitingOnCustomer")
    def _waiting_started(self, by: str, role: str, timestamp: datetime) -> None:
        self.waiting_since = timestamp

    @event("CustomerAnswered", topic="aftersales.complaint.CustomerAnswered")
    def _waiting_ended(self, by: str, role: str, timestamp: datetime) -> None:
        if self.waiting_since is not None:
            self.pauses.append((self.waiting_since, timestamp))
        self.waiting_since = None

    @event("MessageAdded", topic="aftersales.complaint.MessageAdded")
    def _message_added(
        self,
        direction: str,
        channel: str,
        by: str,
        role: str,
        text: PersonalData,
        timestamp: datetime,
    ) -> None:
        self.messages.append(
            {
                "direction": direction,
                "channel": channel,
                "by": by,
                "role": role,
                "at": timestamp.isoformat(),
            }
        )
        if direction == "out":
            self.responded_at = timestamp
        if direction == "out" and self.acknowledged_at is None:
            self.acknowledged_at = timestamp  # a first reply is the first response

    def propose(
        self, actor: Actor, resolution: str, amount: Money | None, note: str | None, at: datetime,
        refundable: Money | None = None,
    ) -> None:
        """Propose a resolution. A refund's amount is money the customer can be paid: more
        than nothing and, when ``refundable`` (what is left to refund on the order) is given,
        no more than that; the other resolutions carry no amount."""
        self._check_time(at)
        self._require("propose a resolution", WORKING)
        if resolution not in RESOLUTIONS:
            raise InvalidCommandError(f"resolution must be one of {', '.join(RESOLUTIONS)}")
        if resolution not in REFUNDS:
            if amount is not None:
                raise InvalidCommandError(f"amount: a {resolution} proposal has no amount (only "
                                          f"{' and '.join(REFUNDS)} do)")
        elif amount is None:
            raise InvalidCommandError(f"amount: a {resolution} proposal needs an amount")
        elif amount.is_negative() or amount.is_zero():
            raise InvalidCommandError(f"amount: a {resolution} proposal must pay more than "
                                      f"nothing, got {amount}")
        elif refundable is not None and amount > refundable:
            raise RefundCapExceededError(
                f"complaint {self.id}: a {resolution} of {amount} exceeds what is left to refund "
                f"on order {self.order_id} ({refundable})"
            )
        self._proposed(
            by=actor.principal_id,
            role=actor.role,
            resolution=resolution,
            amount=amount,
            note=prose(self.customer_id, note),
            timestamp=at,
        )

    @event("ResolutionProposed", topic="aftersales.complaint.ResolutionProposed")
    def _proposed(
        self,
        by: str,
        role: str,
        resolution: str,
        amount: Money | None,
        note: PersonalData | str | None,  # to the customer (a plain str in events stored before)
        timestamp: datetime,
    ) -> None:
        self.proposal = {"resolution": resolution, "amount": amount, "note": note}
        self.responded_at = timestamp

    def respond(self, accepted: bool, actor: Actor, at: datetime) -> None:
        self._check_time(at)
        self._require("respond to the proposal", (S.PROPOSED,))
        self._responded(accepted=accepted, by=actor.principal_id, role=actor.role, timestamp=at)
        self._customer_answered(actor, at)

    @event("ProposalAnswered", topic="aftersales.complaint.ProposalAnswered")
    def _responded(self, accepted: bool, by: str, role: str, timestamp: datetime) -> None:
        if not accepted:
            self.proposal = None

    def escalate(self, actor: Actor, level: str, reason: str, at: datetime) -> None:
        self._check_time(at)
        self._require("escalate", NOT_DONE)
        if level not in ESCALATION_LEVELS:
            raise InvalidCommandError(f"level must be one of {', '.join(ESCALATION_LEVELS)}")
        if not above(level, self.escalations):
            current = highest_escalation(self.escalations)
            raise DomainError(
                f"complaint {self.id}: already escalated to {current}; an escalation goes up "
                f"the ladder ({' < '.join(ESCALATION_LEVELS)}), above {current}"
            )
        self._escalated(
            by=actor.principal_id, role=actor.role, level=level, reason=reason, timestamp=at
        )

    @event("Escalated", topic="aftersales.complaint.Escalated")
    def _escalated(
        self, by: str, role: str, level: str, reason: str, timestamp: datetime
    ) -> None:
        self.escalations.append(level)

    def resolve(
        self, actor: Actor, summary: str, refund_case_id: str | None, at: datetime
    ) -> None:
        """Resolve; a wait on the customer ends with it (the event of a wait's end, by whoever
        resolved): a case resolved while waiting does not wait while it stays resolved, so a
        reopening counts from the reopening, not from the start of that wait."""
        self._check_time(at)
        self._require("resolve", NOT_DONE)
        self._customer_answered(actor, at)
        self._resolved(
            by=actor.principal_id,
            role=actor.role,
            summary=summary,
            refund_case_id=refund_case_id,
            timestamp=at,
        )

    @event("Resolved", topic="aftersales.complaint.Resolved")
    def _resolved(
        self, by: str, role: str, summary: str, refund_case_id: str | None, timestamp: datetime
    ) -> None:
        self.resolution = {
            "summary": summary,
            "refund_case_id": refund_case_id,
            "proposal": self.proposal,
        }

    def close(self, actor: Actor, satisfaction: int | None, at: datetime) -> None:
        self._check_time(at)
        self._require("close", (S.RESOLVED,))
        if satisfaction is not None and not 1 <= satisfaction <= 5:
            raise InvalidCommandError(f"satisfaction must be 1 to 5, got {satisfaction}")
        self._closed(
            by=actor.principal_id, role=actor.role, satisfaction=satisfaction, timestamp=at
        )

    @event("Closed", topic="aftersales.complaint.Closed")
    def _closed(self, by: str, role: str, satisfaction: int | None, timestamp: datetime) -> None:
        self.satisfaction = satisfaction

    def reopen(self, actor: Actor, reason: PersonalData | str, at: datetime) -> None:
        self._check_time(at)
        self._require("reopen", (S.RESOLVED, S.CLOSED))
        self._customer_answered(actor, at)
        self._reopened(by=actor.principal_id, role=actor.role, reason=reason, timestamp=at)

    @event("Reopened", topic="aftersales.complaint.Reopened")
    def _reopened(
        self, by: str, role: str, reason: PersonalData | str, timestamp: datetime
    ) -> None:  # the customer's words: personal data (a plain str in events stored before)
        self.reopened += 1
        self.resolution, self.proposal, self.satisfaction = None, None, None

    # ---- deadlines (SPEC §3.3; bookkeeping in domain/deadlines.py) -------------------------
    def deadlines_wanted(self) -> dict[str, datetime]:
        if self.status in (S.RESOLVED, S.CLOSED) or self.opened_at is None:
            return {}
        # the resolution clock starts again (from the opening, less the waits) when a wait
        # begins or ends: a new deadline the policy counts, or waits on
        since = self.opened_at
        if self.waiting_since is not None:
            since = max(since, self.waiting_since)
        elif self.pauses:
            since = max(since, self.pauses[-1][1])
        wanted = {"resolution": since}
        if self.responded_at is None or self.responded_at < self.opened_at:
            wanted["first_response"] = self.opened_at
        missed = self.deadlines.get("resolution")
        if missed and missed.state == DeadlineState.BREACHED and missed.since >= self.opened_at:
            wanted["resolution_escalated"] = self._escalated_since(missed)
        return wanted

    def _escalated_since(self, missed: Deadline) -> datetime:
        """The escalated resolution target counts from the missed deadline's due time, a
        recorded fact, not from when a scheduler happened to fire its breach (a scheduler down
        for a day gave the escalation a day more). An escalated deadline scheduled before
        counted from the breach's firing (``closed_at``): that one stays current as it was."""
        assert missed.closed_at is not None
        scheduled = self.deadlines.get("resolution_escalated")
        if scheduled is not None and scheduled.since == missed.closed_at:
            return missed.closed_at
        return missed.due_at

    def _deadline_left(self, name: str) -> tuple[DeadlineState, str]:
        if name == "resolution" and self.status not in (S.RESOLVED, S.CLOSED):
            waiting = self.waiting_since is not None
            return DeadlineState.CANCELLED, "waiting on the customer" if waiting else \
                "the customer answered: counted again"
        return DeadlineState.MET, "answered" if name == "first_response" else f"{self.status.value}"

    def _act_on_breach(
        self, deadline: Deadline, breach: Breach, actor: Actor, at: datetime
    ) -> None:
        if breach.outcome is BreachOutcome.ESCALATE:
            self.escalate(
                actor=actor,
                level=breach.decision.details["level"],
                reason="; ".join(breach.decision.reasons),
                at=at,
            )

    _deadline_scheduled, _deadline_cancelled, _deadline_breached = deadline_events(
        "aftersales.complaint"
    )
