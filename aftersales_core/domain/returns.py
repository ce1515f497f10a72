"""ReturnCase: an RMA from request to closure, with exchange or repair as outcomes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from aftersales_core.decisions import PolicyDecision
from aftersales_core.domain.actor import POLICY, Actor, upcast_actor_v1_v2
from aftersales_core.domain.base import require_aware
from aftersales_core.domain.deadlines import (
    Deadline,
    DeadlineRules,
    deadline_events,
    decision_event,
)
from aftersales_core.domain.lifecycle import CaseEvent
from aftersales_core.domain.repairs import RepairRules, repair_events
from aftersales_core.domain.return_rules import ReturnRules
from aftersales_core.domain.return_status import (
    OPEN_BEFORE_SHIPPING,
    RETURN_LIFECYCLE,
    ReturnStatus,
)
from aftersales_core.domain.return_status import ReturnStatus as S
from aftersales_core.errors import IllegalTransitionError, InvalidCommandError, SelfApprovalError
from aftersales_core.money import Money
from aftersales_core.outcomes import AbuseSignal, Eligibility
from aftersales_core.personal import PersonalData, prose

# no refund is owed for a return in these states
NOT_REFUNDABLE = (S.REQUESTED, S.PENDING_REVIEW, S.REJECTED, S.CANCELLED, S.EXPIRED)
# a refund in neither of these may still be rejected (a failed payment may be)
REFUND_FINAL = ("settled", "rejected")


class ReturnCase(ReturnRules, RepairRules, DeadlineRules, Aggregate):
    """Requested → decided → label or returnless → shipped back → received → inspected →
    disposition → resolved (refund, exchange, repair) → closed; or cancelled, rejected, expired.
    A repair goes on: in repair → diagnosed → repaired → shipped back, or failed → the buyer's
    remedy (domain/repairs.py)."""

    KIND = "return"
    TOPIC = "aftersales.return"
    Created = None  # type: ignore[assignment]  # creation events have their own names

    LIFECYCLE = RETURN_LIFECYCLE
    status: ReturnStatus

    class Event(CaseEvent):
        class_version = 2
        upcast_v1_v2 = classmethod(upcast_actor_v1_v2)

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
        by: str,
        role: str,
        timestamp: datetime,
    ) -> None:
        self.order_id, self.customer_id, self.lines = order_id, customer_id, lines
        self.reason, self.wanted_outcome, self.channel = reason, wanted_outcome, channel
        self.note, self.evidence = note, evidence
        self.requested_by, self.requested_role = by, role
        self.decisions: list[PolicyDecision] = []
        self.return_shipping_payer: str | None = None
        self.returnless = False
        self.ship_back_by: str | None = None
        self.label: dict[str, Any] | None = None
        self.shipment_id: str | None = None
        self.grade: str | None = None
        self.findings: str | None = None
        self.seal_intact: bool | None = None  # what the inspection found of sealed goods
        self.disposition: str | None = None
        self.resolution: dict[str, Any] | None = None
        self.history: list[str] = []  # every status entered, in order
        self.review_since: datetime | None = None
        self.approved_at: datetime | None = None
        self.received_at: datetime | None = None
        self.shipped_at: datetime | None = None
        self.escalations: list[str] = []
        self.deadlines: dict[str, Deadline] = {}
        self.repair: dict[str, Any] = {}
        # refunds requested for it by RequestRefund and not rejected (its resolution's refund
        # is in resolution): {"refund_case_id", "lines"}, in order
        self.refunds: list[dict[str, Any]] = []
        self.resolved_from: str | None = None  # the status its latest resolution left
        self.reopenings = 0  # times a rejected refund took its refund resolution back

    # ---- decisions ----------------------------------------------------------------------
    record_decision = decision_event("aftersales.return")

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
        verdict, signal = Eligibility(eligibility.outcome), AbuseSignal(abuse.outcome)
        approves = verdict is Eligibility.APPROVE and signal is not AbuseSignal.REVIEW
        if approves and shipping is None:
            raise InvalidCommandError(f"return {self.id}: approval needs a shipping decision")
        self.record_decision(decision=eligibility, timestamp=at)
        self.record_decision(decision=abuse, timestamp=at)
        if verdict is Eligibility.REJECT:
            self._rejected(
                by=POLICY.principal_id,
                role=POLICY.role,
                reason="; ".join(eligibility.reasons),
                timestamp=at,
            )
        elif verdict is Eligibility.REVIEW or signal is AbuseSignal.REVIEW:
            reasons = (
                [*eligibility.reasons, *abuse.reasons]
                if signal is AbuseSignal.REVIEW
                else list(eligibility.reasons)
            )
            self._sent_to_review(reasons=reasons, timestamp=at)
        else:
            self._approve(actor=POLICY, shipping=shipping, at=at)

    def approve(self, actor: Actor, shipping: PolicyDecision, at: datetime) -> None:
        self._check_time(at)
        self._require("approve", (S.PENDING_REVIEW,))
        if actor.principal_id == self.requested_by:
            raise SelfApprovalError(self.id, actor.principal_id, "return")
        self._approve(actor=actor, shipping=shipping, at=at)

    def _approve(self, actor: Actor, shipping: PolicyDecision | None, at: datetime) -> None:
        if shipping is None:
            raise InvalidCommandError(f"return {self.id}: approval needs a shipping decision")
        eligibility = self.latest("return.eligibility")
        ship_back_by = eligibility.details.get("ship_back_by") if eligibility else None
        self.record_decision(decision=shipping, timestamp=at)
        self._approved(
            by=actor.principal_id,
            role=actor.role,
            return_shipping_payer=shipping.outcome,
            returnless=bool(shipping.details.get("returnless")),
            ship_back_by=ship_back_by,
            timestamp=at,
        )

    @event("Approved", topic="aftersales.return.Approved")
    def _approved(
        self,
        by: str,
        role: str,
        return_shipping_payer: str,
        returnless: bool,
        ship_back_by: str | None,
        timestamp: datetime,
    ) -> None:
        self.return_shipping_payer, self.returnless = return_shipping_payer, returnless
        self.ship_back_by = None if returnless else ship_back_by
        self.approved_at = timestamp

    @event("SentToReview", topic="aftersales.return.SentToReview")
    def _sent_to_review(self, reasons: list[str], timestamp: datetime) -> None:
        self.review_since = timestamp

    def reject(self, actor: Actor, reason: str, at: datetime) -> None:
        self._check_time(at)
        self._require("reject", (S.REQUESTED, S.PENDING_REVIEW))
        self._rejected(by=actor.principal_id, role=actor.role, reason=reason, timestamp=at)

    @event("Rejected", topic="aftersales.return.Rejected")
    def _rejected(self, by: str, role: str, reason: str, timestamp: datetime) -> None:
        """Refused (by the eligibility decision, or a person): the case ends here."""

    def cancel(self, actor: Actor, reason: PersonalData | str, at: datetime) -> None:
        self._check_time(at)
        self._require("cancel", (*OPEN_BEFORE_SHIPPING,))
        self._cancelled(by=actor.principal_id, role=actor.role, reason=reason, timestamp=at)

    @event("Cancelled", topic="aftersales.return.Cancelled")
    def _cancelled(
        self, by: str, role: str, reason: PersonalData | str, timestamp: datetime
    ) -> None:  # the customer's words: personal data (a plain str in events stored before)
        """Withdrawn by the customer before the goods were sent."""

    # ---- the goods' way back --------------------------------------------------------------

    @event("LabelIssued", topic="aftersales.return.LabelIssued")
    def _label_issued(
        self,
        by: str,
        role: str,
        carrier: str,
        tracking_number: str,
        cost: Money | None,
        timestamp: datetime,
    ) -> None:
        self.label = {"carrier": carrier, "tracking_number": tracking_number, "cost": cost}

    @event("ShippedBack", topic="aftersales.return.ShippedBack")
    def _shipped_back(
        self, shipment_id: str, carrier: str, by: str, role: str, timestamp: datetime
    ) -> None:
        self.shipment_id = shipment_id
        self.shipped_at = self.shipped_at or timestamp

    @event("Expired", topic="aftersales.return.Expired")
    def _expired(self, by: str, role: str, deadline: str, timestamp: datetime) -> None:
        """The goods were not shipped back by the ship-back deadline."""

    @event("Received", topic="aftersales.return.Received")
    def _received(
        self, by: str, role: str, shipment_id: str | None, timestamp: datetime
    ) -> None:
        self.shipment_id = shipment_id or self.shipment_id
        self.received_at = timestamp

    @event("Inspected", topic="aftersales.return.Inspected")
    def _inspected(
        self, by: str, role: str, grade: str, findings: str, timestamp: datetime,
        seal_intact: bool | None = None,  # absent from events stored before it was asked
    ) -> None:
        self.grade, self.findings = grade, findings
        self.seal_intact = seal_intact

    @event("DispositionSet", topic="aftersales.return.DispositionSet")
    def _disposition_set(self, disposition: str, timestamp: datetime) -> None:
        self.disposition = disposition

    # ---- refunds of the return ----------------------------------------------------------------
    def check_refundable(self) -> None:
        """A refund may name this return as its source: approved (no refund is owed for a
        return that was not, or that was cancelled, rejected or expired), and not resolved by
        an exchange or a repair (the buyer gets goods, not money)."""
        if self.status in NOT_REFUNDABLE:
            raise IllegalTransitionError(self.KIND, self.id, "be refunded", self.status.value)
        kind = (self.resolution or {}).get("kind")
        if kind in ("exchange", "repair"):
            raise IllegalTransitionError(self.KIND, self.id, "be refunded",
                                         f"resolved by {kind}")

    def refund_opened(self, actor: Actor, refund_case_id: UUID, lines: list[dict[str, Any]],
                      at: datetime) -> None:
        """A refund requested for this return (``RequestRefund`` naming it), recorded in the
        same transaction: once its refunds cover every unit returned, they carry its refund
        deadline (met, as when its resolution opens the refund)."""
        require_aware(at)
        self.check_refundable()
        self._refund_opened(by=actor.principal_id, role=actor.role,
                            refund_case_id=str(refund_case_id),
                            lines=[{"line_id": str(x["line_id"]), "quantity": int(x["quantity"])}
                                   for x in lines],
                            timestamp=max(at, self.modified_on))

    @event("RefundOpened", topic="aftersales.return.RefundOpened")
    def _refund_opened(self, by: str, role: str, refund_case_id: str,
                       lines: list[dict[str, Any]], timestamp: datetime) -> None:
        self.refunds.append({"refund_case_id": refund_case_id, "lines": lines})

    def refund_rejected(self, actor: Actor, refund_case_id: UUID, at: datetime,
                        resolution_lines: list[dict[str, Any]] | None = None) -> None:
        """A refund requested for this return was rejected (``RejectRefund``), recorded in the
        same transaction: it no longer covers the return's units, which are refundable again,
        and when its refunds no longer cover every unit the refund deadline they carried is
        owed again by the return, by its original due time (the law's term does not restart).
        A return resolved by a refund that the rejected one was (its resolution's) or was
        part of (a refund requested for it) is reopened (``reopen``); ``resolution_lines``
        are the units its resolution's refund took, when that one still stands. A refund
        the return neither recorded nor was resolved with changes nothing here."""
        require_aware(at)
        rejected = str(refund_case_id)
        recorded = any(r["refund_case_id"] == rejected for r in self.refunds)
        resolved_by = self.resolved_by_refund()
        if not recorded and resolved_by != rejected:
            return
        timestamp = max(at, self.modified_on)
        if recorded:
            self._refund_rejected(by=actor.principal_id, role=actor.role,
                                  refund_case_id=rejected, timestamp=timestamp)
        if resolved_by is not None:
            kept = None if resolved_by == rejected else resolution_lines
            self.reopen(actor, refund_case_id, timestamp, kept)
            return
        self.reopen_deadline("refund", timestamp)

    def resolved_by_refund(self) -> str | None:
        """The refund case its resolution named, while it stands resolved by a refund (or a
        price reduction): a rejection of that refund, or of one it counted on, reopens it."""
        kind = (self.resolution or {}).get("kind")
        if self.status != S.RESOLVED or kind not in ("refund", "price_reduction"):
            return None
        return (self.resolution or {}).get("refund_case_id")

    def reopen(self, actor: Actor, refund_case_id: UUID, at: datetime,
               resolution_lines: list[dict[str, Any]] | None = None) -> None:
        """Its refund resolution falls through (``refund_case_id``, a refund it counted on or
        one whose rejection frees what the order's cap had left it nothing of, was rejected):
        back to the status it was resolved from, where its refund is owed again (inspected,
        approved when returnless, repair_failed for a remedy) and it is resolved anew; its
        refund deadline is owed again by its original due time. The refunds of the return
        that still stand keep counting (``resolution_lines``: the units its resolution's
        refund took, when that refund stands)."""
        require_aware(at)
        resolved_by = self.resolved_by_refund()
        if resolved_by is None or self.resolved_from is None:
            raise IllegalTransitionError(self.KIND, self.id, "be reopened", self.status.value)
        standing = [dict(r) for r in self.refunds]
        if resolution_lines and not any(r["refund_case_id"] == resolved_by for r in standing):
            standing.append({"refund_case_id": resolved_by, "lines": [
                {"line_id": str(x["line_id"]), "quantity": int(x["quantity"])}
                for x in resolution_lines]})
        timestamp = max(at, self.modified_on)
        self._reopened(by=actor.principal_id, role=actor.role,
                       refund_case_id=str(refund_case_id), status=self.resolved_from,
                       refunds=standing, timestamp=timestamp)
        self.reopen_deadline("refund", timestamp)

    @event("Reopened", topic="aftersales.return.Reopened")
    def _reopened(self, by: str, role: str, refund_case_id: str, status: str,
                  refunds: list[dict[str, Any]], timestamp: datetime) -> None:
        self.resolution = None
        self.refunds = [dict(r) for r in refunds]
        self.reopenings += 1

    @event("RefundRejected", topic="aftersales.return.RefundRejected")
    def _refund_rejected(self, by: str, role: str, refund_case_id: str,
                         timestamp: datetime) -> None:
        self.refunds = [r for r in self.refunds if r["refund_case_id"] != refund_case_id]

    def units_refunded(self) -> bool:
        """Every unit returned is in a refund requested for the return and not rejected."""
        covered: dict[str, int] = {}
        for refund in self.refunds:
            for line in refund["lines"]:
                covered[line["line_id"]] = covered.get(line["line_id"], 0) + line["quantity"]
        return bool(self.refunds) and all(
            covered.get(str(line["line_id"]), 0) >= int(line["quantity"]) for line in self.lines)

    # ---- resolution -------------------------------------------------------------------------
    def resolve(
        self,
        actor: Actor,
        resolution: str,
        refund_case_id: UUID | None,
        detail: str | None,
        at: datetime,
        exchange: dict[str, Any] | None = None,
        settlement: PolicyDecision | None = None,
    ) -> None:
        """Resolve the inspected (or returnless) return, or a failed repair with the remedy
        the buyer chose; an exchange records what it settles (``exchange.settlement``)."""
        self._check_time(at)
        if self.status == S.REPAIR_FAILED:
            self.check_remedy({"exchange": "replacement"}.get(resolution, resolution))
        else:
            ready = (S.INSPECTED,) if not self.returnless else (S.APPROVED,)
            self._require(f"resolve with {resolution}", ready)
        if resolution in ("refund", "price_reduction") and refund_case_id is None:
            raise InvalidCommandError(f"return {self.id}: a {resolution} needs a refund case")
        if resolution == "exchange" and (exchange is None or settlement is None):
            raise InvalidCommandError(f"return {self.id}: an exchange needs its replacement")
        if settlement is not None:
            self.record_decision(decision=settlement, timestamp=at)
        self._resolved(
            by=actor.principal_id,
            role=actor.role,
            resolution=resolution,
            refund_case_id=str(refund_case_id) if refund_case_id else None,
            detail=prose(self.customer_id, detail),
            timestamp=at,
            exchange=exchange,
        )

    @event("Resolved", topic="aftersales.return.Resolved")
    def _resolved(
        self,
        by: str,
        role: str,
        resolution: str,
        refund_case_id: str | None,
        detail: PersonalData | str | None,  # a plain str in events stored before
        timestamp: datetime,
        exchange: dict[str, Any] | None = None,
    ) -> None:
        self.resolved_from = self.status.value  # its lifecycle moves it after this mutator
        self.resolution = {"kind": resolution, "refund_case_id": refund_case_id, "detail": detail}
        if exchange is not None:
            self.resolution["exchange"] = dict(exchange)

    def refunds_counted_on(self) -> list[str]:
        """While it stands resolved by a refund, the refunds a rejection of which reopens it
        (``refund_rejected``): its resolution's, then those requested for it; else none."""
        resolved_by = self.resolved_by_refund()
        if resolved_by is None:
            return []
        requested = [r["refund_case_id"] for r in self.refunds]
        return [resolved_by, *(r for r in requested if r != resolved_by)]

    def close(self, actor: Actor, at: datetime,
              refunds: Mapping[str, str] | None = None) -> None:
        """Nothing is left to do. ``refunds`` are the refunds a return resolved by a refund
        counts on (``refunds_counted_on``, and when the order's cap left its resolution
        nothing, the order's refunds holding the cap), by id, with their status: while one
        is neither settled nor rejected it may still be rejected (a failed payment may be),
        which reopens the return, and a closed return is final, so it is not closed yet."""
        self._check_time(at)
        self._require("close", (S.RESOLVED, S.REPAIR_SHIPPED, S.REJECTED, S.CANCELLED,
                                S.EXPIRED))
        if self.status == S.RESOLVED and (self.resolution or {}).get("kind") == "repair":
            raise IllegalTransitionError(self.KIND, self.id, "close",
                                         "resolved by repair: the goods are not repaired yet")
        unpaid = next(((r, status) for r, status in (refunds or {}).items()
                       if status not in REFUND_FINAL), None)
        if unpaid is not None and self.resolved_by_refund() is not None:
            raise IllegalTransitionError(
                self.KIND, self.id, "close",
                f"its refund {unpaid[0]} is {unpaid[1]} (a rejection would reopen the "
                "return: it is closed once its refunds are settled)")
        self._closed(by=actor.principal_id, role=actor.role, timestamp=at)

    @event("Closed", topic="aftersales.return.Closed")
    def _closed(self, by: str, role: str, timestamp: datetime) -> None:
        """Nothing is left to do on the case."""

    # ---- deadlines (SPEC §3.3; bookkeeping in domain/deadlines.py) -------------------------

    @event("Escalated", topic="aftersales.return.Escalated")
    def _escalated(
        self, by: str, role: str, level: str, reason: str, timestamp: datetime
    ) -> None:
        self.escalations.append(level)

    _deadline_scheduled, _deadline_cancelled, _deadline_breached = deadline_events(
        "aftersales.return"
    )
    (_sent_to_repair, _repair_diagnosed, _repair_completed, _repaired_item_shipped,
     _repair_failed) = repair_events("aftersales.return")

    def entered(self, status: StrEnum) -> None:
        self.history.append(status.value)
