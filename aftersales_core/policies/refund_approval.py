"""``refund.approval``: may a refund go out on policy, or must a supervisor approve it?"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType

from aftersales_core.decisions import JSON, PolicyDecision, copy_json
from aftersales_core.money import Money
from aftersales_core.outcomes import RefundApproval
from aftersales_core.policies.findings import Findings
from aftersales_core.policies.reading import Reader, amount
from aftersales_core.policies.registry import policy
from aftersales_core.policies.vocabulary import APPROVER_ROLES

POLICY_ID = "refund.approval"


@dataclass(frozen=True)
class RefundApprovalSettings:
    """Settings of refund.approval v1: the largest refund an agent or the policy may approve.

    Thresholds are per currency and never converted; a currency without one always needs a
    supervisor.
    """

    thresholds: Mapping[str, Decimal] = field(default_factory=lambda: MappingProxyType({
        "CNY": Decimal("2000"), "EUR": Decimal("250"), "GBP": Decimal("220"),
        "USD": Decimal("300"), "BRL": Decimal("1500"),
    }))
    supervisor_role: str = "supervisor"
    no_threshold_note: str = "there is no approval threshold for {currency}: a supervisor " \
                             "approves every refund"

    def threshold(self, currency: str) -> Money | None:
        limit = self.thresholds.get(currency)
        return None if limit is None else Money(limit, currency)


SETTINGS_V1 = RefundApprovalSettings()
# v2: thresholds for the currencies of the usual import markets too (about the same value as
# the US$300 one, never converted inside a decision), and a plain sentence where none is set.
SETTINGS_V2 = RefundApprovalSettings(
    thresholds=MappingProxyType({
        "CNY": Decimal("2000"), "HKD": Decimal("2300"), "JPY": Decimal("45000"),
        "KRW": Decimal("400000"), "SGD": Decimal("400"), "AUD": Decimal("450"),
        "CAD": Decimal("400"), "EUR": Decimal("250"), "GBP": Decimal("220"),
        "USD": Decimal("300"), "BRL": Decimal("1500"),
    }),
    no_threshold_note="no approval threshold is set for {currency}, so a supervisor is needed "
                      "to approve this refund",
)


def decide(inputs: JSON, settings: RefundApprovalSettings, version: int) -> PolicyDecision:
    read = Reader(POLICY_ID, inputs)
    currency = read.currency()
    refund = read.money("amount", currency)
    # v3: the threshold is on the order's sum (SECURITY API6): the refund with every other
    # refund of the order that was not rejected (requested, approved, issued or settled)
    earlier = read.money("order_refunded", currency) if version > 2 else None
    counted = refund if earlier is None else refund + earlier
    requested_by = read.text("requested_by")
    approver = read.optional_text("approver")
    role = read.optional_text("approver_role", APPROVER_ROLES)
    # v4: why the decision that opened the refund wants a person to decide it (a lost parcel
    # of an order another parcel of which was delivered), whatever the amount
    review = read.optional_text("review") if version > 3 else None

    threshold = settings.threshold(currency)
    findings = Findings()
    if threshold is None:
        needs_supervisor = True
        rule = "approval.no_threshold" if version > 1 else "approval.threshold"
        findings.note(rule, settings.no_threshold_note.format(currency=currency))
    else:
        needs_supervisor = counted > threshold
        relation = "above" if needs_supervisor else "within"
        if earlier is None or earlier.is_zero():
            findings.note("approval.threshold", f"{refund} is {relation} the {threshold} "
                                                "approval threshold")
        else:
            findings.note("approval.order_threshold",
                          f"{refund} with the {earlier} of the order's other refunds is "
                          f"{counted}, {relation} the {threshold} approval threshold, which "
                          "applies to the order's sum")
    if review is not None:
        needs_supervisor = True
        findings.note("approval.review", f"a supervisor must decide it, whatever the amount: "
                                         f"{review}")
    if approver is None:
        outcome = RefundApproval.NEEDS_SUPERVISOR if needs_supervisor \
            else RefundApproval.AUTO_APPROVE
        findings.note("approval.at_request", "a supervisor must approve it" if needs_supervisor
                      else "approved by policy, no one needs to approve it")
    elif approver == requested_by:
        outcome = RefundApproval.REFUSE
        findings.reject("approval.no_self_approval", f"no self-approval: {approver} requested "
                                                     "this refund and may not approve it")
    elif needs_supervisor and role != settings.supervisor_role:
        outcome = RefundApproval.REFUSE
        findings.reject("approval.supervisor_required", f"{approver} is not a supervisor "
                                                        f"({role or 'no role given'}), and this "
                                                        "refund needs one")
    else:
        outcome = RefundApproval.APPROVE
        findings.note("approval.approver", f"approved by {approver} ({role or 'no role given'}), "
                                           f"who did not request it")
    details: JSON = {"threshold": amount(threshold), "requires_supervisor": needs_supervisor}
    if version > 1:
        details["threshold_set"] = threshold is not None
    if version > 3:
        details["review"] = review is not None
    if earlier is not None:
        details["order_refunded"] = amount(earlier)
        details["counted"] = amount(counted)
    return PolicyDecision(POLICY_ID, version, copy_json(inputs), outcome, findings.reasons,
                          findings.rules, details)


@policy(POLICY_ID, 1, settings=SETTINGS_V1)
def refund_approval_v1(inputs: JSON, settings: RefundApprovalSettings) -> PolicyDecision:
    return decide(inputs, settings, 1)


@policy(POLICY_ID, 2, settings=SETTINGS_V2)
def refund_approval_v2(inputs: JSON, settings: RefundApprovalSettings) -> PolicyDecision:
    return decide(inputs, settings, 2)


@policy(POLICY_ID, 3, settings=SETTINGS_V2)
def refund_approval_v3(inputs: JSON, settings: RefundApprovalSettings) -> PolicyDecision:
    """v3: v2 with the threshold on the order's sum: ``order_refunded`` (the order's other
    refunds that were not rejected) counts with ``amount``, so that refunds split under the
    threshold need a supervisor once together they cross it."""
    return decide(inputs, settings, 3)


@policy(POLICY_ID, 4, settings=SETTINGS_V2)
def refund_approval_v4(inputs: JSON, settings: RefundApprovalSettings) -> PolicyDecision:
    """v4: v3 with ``review``: null, or why the decision that opened the refund wants a person
    to decide it (``logistics.exception`` v2's ``refund_review``); then a supervisor approves it
    whatever the amount, and the reason is recorded."""
    return decide(inputs, settings, 4)
