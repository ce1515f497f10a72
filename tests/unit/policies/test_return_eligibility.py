"""return.eligibility v1 (still registered for re-runs; v2 in test_return_eligibility_v2.py):
EU, UK, US and default windows, and what every decision carries."""

from __future__ import annotations

import orjson

from aftersales_core.decisions import PolicyDecision
from aftersales_core.policies import evaluate
from tests.unit.policies.builders import cross_border, eligibility


def decide(**overrides: object) -> PolicyDecision:
    return evaluate("return.eligibility", eligibility(**overrides), version=1)


def test_an_undelivered_order_is_rejected_towards_cancellation_or_a_logistics_claim() -> None:
    decision = decide(delivered_at=None)
    assert decision.outcome == "reject"
    assert "return.not_delivered" in decision.rules
    assert "cancel" in decision.reasons[0] and "logistics claim" in decision.reasons[0]


def test_eu_withdrawal_on_day_14_is_approved_for_any_reason() -> None:
    decision = decide(market="FR", currency="EUR", reason="changed_mind",
                      requested_at="2026-01-19T10:00:00+00:00")
    assert decision.outcome == "approve"
    assert decision.details["regime"] == "eu_withdrawal"
    assert decision.details["refund_due_days"] == 14
    assert decision.details["refund_due_from"] == "request"
    assert decision.details["refund_may_be_held"] is True


def test_eu_withdrawal_on_day_15_is_rejected() -> None:
    decision = decide(market="FR", currency="EUR", requested_at="2026-01-20T10:00:00+00:00")
    assert decision.outcome == "reject"
    assert "eu.withdrawal_14d" in decision.rules


def test_eu_withdrawal_of_damaged_goods_stands_but_notes_diminished_value() -> None:
    decision = decide(market="DE", currency="EUR", goods_intact=False)
    assert decision.outcome == "approve"
    assert "withdrawal.diminished_value" in decision.rules


def test_eu_faulty_goods_are_covered_by_the_2_year_legal_guarantee() -> None:
    decision = decide(market="IT", currency="EUR", reason="defective",
                      requested_at="2027-06-01T10:00:00+00:00")
    assert decision.outcome == "approve"
    assert decision.details["regime"] == "eu_legal_guarantee"
    assert decision.details["window_ends_at"] == "2028-01-05T10:00:00+00:00"


def test_eu_legal_guarantee_ends_two_calendar_years_after_a_leap_day_delivery() -> None:
    decision = decide(market="IT", currency="EUR", reason="defective",
                      delivered_at="2024-02-29T10:00:00+00:00",
                      requested_at="2026-03-01T10:00:00+00:00")
    assert decision.outcome == "reject"
    assert decision.details["window_ends_at"] == "2026-02-28T10:00:00+00:00"


def test_uk_withdrawal_lasts_14_days() -> None:
    on_time = decide(market="GB", currency="GBP", requested_at="2026-01-19T10:00:00+00:00")
    late = decide(market="GB", currency="GBP", requested_at="2026-01-20T10:00:00+00:00")
    assert (on_time.outcome, late.outcome) == ("approve", "reject")
    assert on_time.details["regime"] == "uk_withdrawal"


def test_uk_faulty_goods_may_be_rejected_within_30_days() -> None:
    decision = decide(market="GB", currency="GBP", reason="not_as_described",
                      requested_at="2026-02-04T10:00:00+00:00")
    assert decision.outcome == "approve"
    assert decision.details["regime"] == "uk_right_to_reject"
    assert decision.details["is_withdrawal"] is False


def test_uk_faulty_goods_after_30_days_go_to_review_for_repair_or_replacement() -> None:
    decision = decide(market="GB", currency="GBP", reason="defective",
                      requested_at="2026-02-05T10:00:00+00:00")
    assert decision.outcome == "review"
    assert "Consumer Rights Act" in decision.reasons[0]


def test_us_merchant_policy_allows_30_days_and_refunds_within_7_working_days() -> None:
    on_time = decide(market="US", currency="USD", requested_at="2026-02-04T10:00:00+00:00")
    late = decide(market="US", currency="USD", requested_at="2026-02-05T10:00:00+00:00")
    assert (on_time.outcome, late.outcome) == ("approve", "reject")
    assert on_time.details["regime"] == "us_merchant"
    assert on_time.details["refund_due_working_days"] == 7
    assert on_time.details["refund_due_days"] is None


def test_other_markets_use_the_merchant_default_of_30_days() -> None:
    decision = decide(market="BR", currency="BRL", requested_at="2026-02-04T10:00:00+00:00")
    assert decision.outcome == "approve"
    assert decision.details["regime"] == "merchant_default"
    assert decide(market="BR", currency="BRL",
                  requested_at="2026-02-05T10:00:00+00:00").outcome == "reject"


def test_a_repair_without_a_fault_goes_to_review() -> None:
    decision = decide(wanted_outcome="repair")
    assert decision.outcome == "review"
    assert "return.repair_needs_fault" in decision.rules


def test_taxes_follow_the_goods_except_on_a_voluntary_cross_border_return() -> None:
    assert decide(market="US", currency="USD", fulfilment="direct_mail") \
        .details["tax_refundable"] is False
    assert decide(market="US", currency="USD", fulfilment="direct_mail", reason="defective") \
        .details["tax_refundable"] is True
    assert decide(market="DE", currency="EUR", fulfilment="direct_mail") \
        .details["tax_refundable"] is True


def test_the_decision_records_its_inputs_and_json_details() -> None:
    inputs = cross_border()
    decision = evaluate("return.eligibility", inputs, version=1)
    assert decision.inputs == inputs and decision.inputs is not inputs
    assert orjson.loads(orjson.dumps(decision.to_json())) == decision.to_json()
