"""refund.approval v3: the threshold is on the order's sum (SECURITY API6), so refunds split
under it need a supervisor once together they cross it: exactly at the threshold against one
minor unit above; v2's recorded decisions re-run as they were."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales_core.policies import current_version, evaluate, rerun
from tests.unit.policies.builders import approval

SPLITS = [("EUR", "250.00", "200.00", "50.00", "50.01"),
          ("GBP", "220.00", "0.01", "219.99", "220.00"),
          ("JPY", "45000", "44999", "1", "2"),
          ("CNY", "2000.00", "1999.99", "0.01", "0.02")]


def test_v4_is_the_current_version() -> None:
    assert current_version("refund.approval") == 4  # v4: v3 with a review


@pytest.mark.parametrize(("currency", "threshold", "earlier", "at", "above"), SPLITS)
def test_a_split_refund_reaching_the_threshold_exactly_goes_out_on_policy(
        currency: str, threshold: str, earlier: str, at: str, above: str) -> None:
    decision = evaluate("refund.approval", approval(currency=currency, amount=at,
                                                    order_refunded=earlier))
    assert decision.outcome == "auto_approve"
    assert decision.details["requires_supervisor"] is False
    assert decision.details["counted"] == threshold
    assert decision.details["order_refunded"] == earlier


@pytest.mark.parametrize(("currency", "threshold", "earlier", "at", "above"), SPLITS)
def test_one_minor_unit_over_the_threshold_in_sum_waits_for_a_supervisor(
        currency: str, threshold: str, earlier: str, at: str, above: str) -> None:
    decision = evaluate("refund.approval", approval(currency=currency, amount=above,
                                                    order_refunded=earlier))
    assert decision.outcome == "needs_supervisor"
    assert decision.details["requires_supervisor"] is True
    assert "approval.order_threshold" in decision.rules
    assert f"with the {earlier} {currency} of the order's other refunds" in decision.reasons[0]
    assert "applies to the order's sum" in decision.reasons[0]
    alone = evaluate("refund.approval", approval(currency=currency, amount=above), version=2)
    assert alone.outcome == "auto_approve"  # v2 judged each refund alone: the bypass


def test_an_agent_may_not_approve_what_crosses_the_threshold_with_the_orders_other_refunds(
        ) -> None:
    inputs = approval(currency="EUR", amount="100.00", order_refunded="150.01",
                      approver="agent-2", approver_role="agent")
    assert evaluate("refund.approval", inputs).outcome == "refuse"
    supervisor = {**inputs, "approver": "sup-1", "approver_role": "supervisor"}
    assert evaluate("refund.approval", supervisor).outcome == "approve"


def test_a_first_refund_reads_as_before() -> None:
    decision = evaluate("refund.approval", approval(currency="EUR", amount="250.00"))
    assert list(decision.rules) == ["approval.threshold", "approval.at_request"]
    assert decision.reasons[0] == "250.00 EUR is within the 250.00 EUR approval threshold"


def test_v2_decisions_without_the_orders_sum_rerun_as_recorded() -> None:
    old = evaluate("refund.approval", {k: v for k, v in approval(amount="300.00").items()
                                       if k != "order_refunded"}, version=2)
    assert rerun(old).same_result_as(old)


@given(amount=st.integers(0, 500_000), earlier=st.integers(0, 500_000))
def test_a_supervisor_is_needed_exactly_when_the_sum_is_over_the_threshold(
        amount: int, earlier: int) -> None:
    money, before = Decimal(amount) / 100, Decimal(earlier) / 100
    decision = evaluate("refund.approval", approval(currency="EUR", amount=f"{money:.2f}",
                                                    order_refunded=f"{before:.2f}"))
    assert decision.details["requires_supervisor"] is (money + before > Decimal("250.00"))
    assert rerun(decision).same_result_as(decision)


def test_v4_a_refund_under_review_needs_a_supervisor_whatever_the_amount() -> None:
    why = "the order's parcel sh-W4a was delivered"
    decision = evaluate("refund.approval", approval(currency="EUR", amount="110.00",
                                                    review=why))
    assert decision.outcome == "needs_supervisor"
    assert decision.details["requires_supervisor"] is True and decision.details["review"]
    assert list(decision.rules) == ["approval.threshold", "approval.review",
                                    "approval.at_request"]
    assert why in decision.reasons[1]
    agent = evaluate("refund.approval", approval(currency="EUR", amount="110.00", review=why,
                                                 requested_by="policy", approver="agent-2",
                                                 approver_role="agent"))
    assert agent.outcome == "refuse"
    supervisor = evaluate("refund.approval", approval(
        currency="EUR", amount="110.00", review=why, requested_by="policy", approver="sue",
        approver_role="supervisor"))
    assert supervisor.outcome == "approve"
    assert rerun(decision).same_result_as(decision)


def test_v4_without_a_review_decides_as_v3() -> None:
    inputs = approval(currency="EUR", amount="110.00")
    v4, v3 = evaluate("refund.approval", inputs), evaluate("refund.approval", inputs, 3)
    assert (v4.outcome, v4.reasons, v4.details["review"]) == (v3.outcome, v3.reasons, False)
