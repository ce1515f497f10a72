"""return.eligibility v1 in China: the 7-day no-reason return and cross-border customs rules."""

from __future__ import annotations

import pytest

from aftersales_core.decisions import PolicyDecision
from aftersales_core.policies import evaluate
from aftersales_core.policies.vocabulary import MERCHANT_FAULT_REASONS, NON_RETURNABLE_CATEGORIES
from tests.unit.policies.builders import RELEASED, cross_border, eligibility, line


def decide(**overrides: object) -> PolicyDecision:
    return evaluate("return.eligibility", eligibility(**overrides), version=1)


def decide_cross_border(**overrides: object) -> PolicyDecision:
    return evaluate("return.eligibility", cross_border(**overrides), version=1)


def test_cn_no_reason_return_on_day_7_is_approved() -> None:
    decision = decide(requested_at="2026-01-12T10:00:00+00:00")
    assert decision.outcome == "approve"
    assert decision.details["regime"] == "cn_no_reason_7d"
    assert decision.details["window_days"] == 7
    assert decision.details["window_ends_at"] == "2026-01-12T10:00:00+00:00"
    assert decision.details["is_withdrawal"] is True


def test_cn_no_reason_return_on_day_8_is_rejected() -> None:
    decision = decide(requested_at="2026-01-13T10:00:00+00:00")
    assert decision.outcome == "reject"
    assert "cn.no_reason_7d" in decision.rules


def test_a_late_return_names_the_days_and_the_end_of_the_window() -> None:
    decision = decide(requested_at="2026-01-14T10:00:00+00:00")
    assert decision.reasons[0] == ("requested 9 days after delivery; the 7-day no-reason window "
                                   "ended 2026-01-12T10:00:00+00:00")


def test_a_window_is_counted_in_absolute_time_whatever_the_offsets() -> None:
    # 2026-01-12T18:00+08:00 is 10:00 UTC, the last moment of the window.
    assert decide(requested_at="2026-01-12T18:00:00+08:00").outcome == "approve"
    assert decide(requested_at="2026-01-12T18:00:01+08:00").outcome == "reject"


def test_cn_no_reason_refund_is_due_7_days_after_the_return_is_received() -> None:
    details = decide().details
    assert details["refund_due_days"] == 7
    assert details["refund_due_from"] == "return_received"


@pytest.mark.parametrize("category", sorted(NON_RETURNABLE_CATEGORIES))
def test_non_returnable_categories_block_a_no_reason_return(category: str) -> None:
    decision = decide(lines=[line(category=category)])
    assert decision.outcome == "reject"
    assert "return.non_returnable_category" in decision.rules


def test_a_line_confirmed_non_returnable_at_purchase_blocks_a_no_reason_return() -> None:
    decision = decide(lines=[line("L1"), line("L2")], non_returnable_line_ids=["L2"])
    assert decision.outcome == "reject"
    assert any("L2" in reason for reason in decision.reasons)


@pytest.mark.parametrize("reason", sorted(MERCHANT_FAULT_REASONS))
def test_faulty_goods_are_returnable_whatever_their_category(reason: str) -> None:
    decision = decide(reason=reason, lines=[line(category="perishable")],
                      non_returnable_line_ids=["L1"])
    assert decision.outcome == "approve"
    assert decision.details["merchant_fault"] is True


def test_cn_no_reason_return_of_goods_not_intact_is_rejected() -> None:
    decision = decide(goods_intact=False)
    assert decision.outcome == "reject"
    assert "cn.goods_intact" in decision.rules


def test_goods_of_unknown_condition_are_approved_pending_inspection() -> None:
    assert decide(goods_intact=None).outcome == "approve"
    assert decide(goods_intact=True).outcome == "approve"


def test_cn_cross_border_return_30_days_after_customs_release_is_approved() -> None:
    decision = decide_cross_border(reason="defective", requested_at="2026-02-02T10:00:00+00:00")
    assert decision.outcome == "approve"
    assert decision.details["regime"] == "cn_cross_border"
    assert decision.details["window_days"] == 30
    assert decision.details["window_ends_at"] == "2026-02-02T10:00:00+00:00"


def test_cn_cross_border_return_31_days_after_customs_release_is_rejected() -> None:
    decision = decide_cross_border(reason="defective", requested_at="2026-02-03T10:00:00+00:00")
    assert decision.outcome == "reject"
    assert "cn.cross_border_30d" in decision.rules
    assert "customs release" in decision.reasons[0]


def test_cn_cross_border_goods_must_be_back_in_the_bonded_zone_45_days_after_release() -> None:
    decision = decide_cross_border()
    assert RELEASED == "2026-01-03T10:00:00+00:00"
    assert decision.details["ship_back_by"] == "2026-02-17T10:00:00+00:00"
    assert "cn.bonded_zone_45d" in decision.rules


def test_cn_cross_border_return_without_customs_release_time_goes_to_review() -> None:
    decision = decide_cross_border(customs_released_at=None)
    assert decision.outcome == "review"
    assert decision.details["ship_back_by"] is None


def test_cn_cross_border_no_reason_return_must_also_meet_the_7_day_window() -> None:
    decision = decide_cross_border(requested_at="2026-01-13T10:00:00+00:00")
    assert decision.outcome == "reject"
    assert decision.rules[:2] == ("cn.no_reason_7d", "cn.cross_border_30d")
    assert decision.details["is_withdrawal"] is True


def test_a_valid_cn_cross_border_return_refunds_the_tax_and_restores_the_quota() -> None:
    decision = decide_cross_border(lines=[line(quantity=2, unit_price="150.00")])
    assert decision.details["tax_refundable"] is True
    assert decision.details["quota_restored"] == "300.00"


def test_restored_quota_never_exceeds_the_annual_limit() -> None:
    decision = decide_cross_border(reason="defective",
                                   lines=[line(quantity=3, unit_price="9999.00")])
    assert decision.details["quota_restored"] == "26000.00"


def test_a_rejected_cross_border_return_restores_nothing() -> None:
    decision = decide_cross_border(reason="defective", requested_at="2026-03-01T10:00:00+00:00")
    assert decision.details["tax_refundable"] is False
    assert decision.details["quota_restored"] is None
    assert decision.details["ship_back_by"] is None


def test_goods_are_shipped_back_within_14_days_of_the_request_outside_cn_cross_border() -> None:
    assert decide().details["ship_back_by"] == "2026-01-22T10:00:00+00:00"
