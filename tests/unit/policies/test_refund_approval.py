"""refund.approval v2 to v4: thresholds per currency (exactly at one, one minor unit above),
supervisors, no self-approval, and a plain sentence when no threshold is set."""

from __future__ import annotations

import pytest

from aftersales_core.policies import evaluate
from tests.unit.policies.builders import approval

THRESHOLDS = [("CNY", "2000.00", "2000.01"), ("HKD", "2300.00", "2300.01"),
              ("JPY", "45000", "45001"), ("KRW", "400000", "400001"), ("SGD", "400.00", "400.01"),
              ("AUD", "450.00", "450.01"), ("CAD", "400.00", "400.01"),
              ("EUR", "250.00", "250.01"), ("GBP", "220.00", "220.01"),
              ("USD", "300.00", "300.01"), ("BRL", "1500.00", "1500.01")]


def zero(like: str) -> str:
    """0 written with the decimals of ``like``'s currency."""
    return "0." + "0" * len(like.split(".")[1]) if "." in like else "0"


@pytest.mark.parametrize(("currency", "at", "above"), THRESHOLDS)
def test_a_refund_exactly_at_the_threshold_is_approved_by_policy(currency: str, at: str,
                                                                 above: str) -> None:
    decision = evaluate("refund.approval", approval(currency=currency, amount=at))
    assert decision.outcome == "auto_approve"
    assert decision.details == {"threshold": at, "requires_supervisor": False,
                                "threshold_set": True, "review": False,
                                "order_refunded": zero(at), "counted": at}


@pytest.mark.parametrize(("currency", "at", "above"), THRESHOLDS)
def test_a_refund_one_cent_above_the_threshold_waits_for_a_supervisor(currency: str, at: str,
                                                                      above: str) -> None:
    decision = evaluate("refund.approval", approval(currency=currency, amount=above))
    assert decision.outcome == "needs_supervisor"
    assert decision.details["requires_supervisor"] is True


@pytest.mark.parametrize("currency", ["IDR", "VND", "MYR", "PHP", "TRY", "CLP"])
def test_a_currency_without_a_threshold_says_plainly_that_a_supervisor_is_needed(
        currency: str) -> None:
    decision = evaluate("refund.approval", approval(currency=currency, amount="1"))
    assert decision.outcome == "needs_supervisor"
    assert {k: decision.details[k] for k in ("threshold", "requires_supervisor",
                                             "threshold_set")} == {
        "threshold": None, "requires_supervisor": True, "threshold_set": False}
    assert decision.rules[0] == "approval.no_threshold"
    assert decision.reasons[0] == f"no approval threshold is set for {currency}, so a " \
                                  "supervisor is needed to approve this refund"


def test_v1_had_no_threshold_for_jpy_and_still_reruns_so() -> None:
    decision = evaluate("refund.approval", approval(currency="JPY", amount="1"), version=1)
    assert decision.outcome == "needs_supervisor"
    assert decision.details == {"threshold": None, "requires_supervisor": True}


def test_thresholds_are_never_converted_between_currencies() -> None:
    assert evaluate("refund.approval",
                    approval(currency="EUR", amount="1999.00")).outcome == "needs_supervisor"


def test_no_self_approval_even_by_a_supervisor() -> None:
    decision = evaluate("refund.approval", approval(amount="5000.00", approver="agent-1",
                                                    approver_role="supervisor"))
    assert decision.outcome == "refuse"
    assert "approval.no_self_approval" in decision.rules
    assert "no self-approval" in decision.reasons[-1]


def test_an_agent_may_not_approve_a_refund_above_the_threshold() -> None:
    decision = evaluate("refund.approval", approval(amount="2000.01", approver="agent-2",
                                                    approver_role="agent"))
    assert decision.outcome == "refuse"
    assert "approval.supervisor_required" in decision.rules


def test_a_supervisor_who_did_not_request_it_approves_a_large_refund() -> None:
    decision = evaluate("refund.approval", approval(amount="2000.01", approver="sup-1",
                                                    approver_role="supervisor"))
    assert decision.outcome == "approve"


def test_an_agent_may_approve_a_refund_within_the_threshold() -> None:
    decision = evaluate("refund.approval", approval(amount="2000.00", approver="agent-2",
                                                    approver_role="agent"))
    assert decision.outcome == "approve"
