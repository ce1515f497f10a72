"""What policies decide and where deadlines stand: one enum each, shared by the policies that
decide, the aggregates that act on a decision and the application, so that a misspelt
outcome is a type error rather than a branch never taken.

A recorded ``PolicyDecision`` keeps its outcome as plain text (the store and the read models
hold text); ``Enum(decision.outcome)`` reads it back, and fails loudly on an outcome the code
does not know. Outcomes whose values are the vocabulary itself (a complaint's priority, who
pays the return shipping, a return's disposition) are that vocabulary
(``policies/vocabulary.py``, the policies' settings).
"""

from __future__ import annotations

from enum import StrEnum


class Eligibility(StrEnum):
    """``return.eligibility``: may these lines be returned?"""

    APPROVE = "approve"
    REVIEW = "review"  # a person decides
    REJECT = "reject"


class AbuseSignal(StrEnum):
    """``buyer.abuse_signal``: does the buyer's return rate need a person's look?"""

    OK = "ok"
    REVIEW = "review"


class CustomsReturn(StrEnum):
    """``return.customs_return``: did the goods return to the bonded zone in time?"""

    CUSTOMS_RETURN = "customs_return"
    NOT_CUSTOMS_RETURN = "not_customs_return"
    REVIEW = "review"


class RefundCalculation(StrEnum):
    """``refund.calculation``: how much is refunded."""

    CALCULATED = "calculated"
    CAPPED = "capped"  # at what is left to refund on the order
    NOTHING_TO_REFUND = "nothing_to_refund"


class RefundApproval(StrEnum):
    """``refund.approval``: who must approve a refund (at the request), or whether this
    approver may (at the approval)."""

    AUTO_APPROVE = "auto_approve"
    NEEDS_SUPERVISOR = "needs_supervisor"
    APPROVE = "approve"
    REFUSE = "refuse"


class ExchangeSettlement(StrEnum):
    """``exchange.settlement``: what an exchange leaves to settle."""

    EVEN = "even"
    BUYER_OWES = "buyer_owes"
    REFUND_DIFFERENCE = "refund_difference"


class RepairRemedies(StrEnum):
    """``repair.remedies``: after a failed repair, another repair or the buyer's choice."""

    REPAIR_AGAIN = "repair_again"
    BUYER_CHOOSES = "buyer_chooses"


class LogisticsException(StrEnum):
    """``logistics.exception``: does a shipment's trouble open a case for the customer?"""

    OPEN_COMPLAINT = "open_complaint"
    OPEN_COMPLAINT_AND_REFUND = "open_complaint_and_refund"
    NONE = "none"

    @property
    def opens_complaint(self) -> bool:
        return self in (LogisticsException.OPEN_COMPLAINT,
                        LogisticsException.OPEN_COMPLAINT_AND_REFUND)


class Permission(StrEnum):
    """``access``: may this principal do this operation on this object?"""

    ALLOW = "allow"
    DENY = "deny"


class Retention(StrEnum):
    """``personal_data.retention``: is the customer's personal data kept or erased now?"""

    KEEP = "keep"
    ERASE = "erase"


class Scheduling(StrEnum):
    """``deadlines``: the deadlines a state wants, scheduled or not (yet)."""

    SCHEDULED = "scheduled"
    NONE = "none"


class BreachOutcome(StrEnum):
    """``deadlines.breach`` (and the logistics watchdog's ``logistics.exception``): what a
    missed deadline does."""

    EXPIRE = "expire"
    AUTO_APPROVE = "auto_approve"
    ESCALATE = "escalate"
    NONE = "none"
    OPEN_COMPLAINT = "open_complaint"
    OPEN_COMPLAINT_AND_REFUND = "open_complaint_and_refund"


class DeadlineAction(StrEnum):
    """What a deadline's breach is scheduled to trigger (``deadlines`` policy), or ``late``:
    the state was left after the due time, the moment for acting has passed."""

    AUTO_DECIDE = "auto_decide"
    EXPIRE = "expire"
    ESCALATE = "escalate"
    OPEN_COMPLAINT = "open_complaint"
    LATE = "late"


class DeadlineState(StrEnum):
    """Where a deadline stands: open, met or cancelled when its state was left in time,
    breached, or what its breach's action made of it."""

    OPEN = "open"
    MET = "met"
    CANCELLED = "cancelled"
    BREACHED = "breached"
    EXPIRED = "expired"  # the breach expired the return
    DONE = "done"  # the breach did the work itself (an automatic approval, a complaint opened)

    @classmethod
    def after_breach(cls, outcome: str) -> DeadlineState:
        """The state a breach with this outcome leaves its deadline in."""
        return _AFTER_BREACH.get(outcome, cls.BREACHED)


_AFTER_BREACH: dict[str, DeadlineState] = {
    BreachOutcome.EXPIRE: DeadlineState.EXPIRED,
    BreachOutcome.AUTO_APPROVE: DeadlineState.DONE,
    BreachOutcome.OPEN_COMPLAINT: DeadlineState.DONE,
}


# A complaint's escalation ladder, bottom to top (SPEC §3.1): an escalation, by hand or by a
# missed deadline, goes above the highest level reached so far. A policy book's
# ``escalation.complaint_ladder`` is a climb of these (it may skip a level), so this order is
# every book's order too.
ESCALATION_LEVELS = ("supervisor", "platform_arbitration", "regulator")


def highest_escalation(escalations: list[str] | tuple[str, ...]) -> str | None:
    """The highest level of the ladder among ``escalations`` (None: never escalated)."""
    known = [level for level in escalations if level in ESCALATION_LEVELS]
    return max(known, key=ESCALATION_LEVELS.index) if known else None


def above(level: str, escalations: list[str] | tuple[str, ...]) -> bool:
    """Whether escalating to ``level`` climbs above every level in ``escalations``."""
    highest = highest_escalation(escalations)
    return highest is None or ESCALATION_LEVELS.index(level) > ESCALATION_LEVELS.index(highest)
