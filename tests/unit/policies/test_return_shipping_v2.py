"""return.shipping v2: a returnless refund is the merchant's choice, only when the merchant pays
the return shipping; value floors and rate tables for the usual import currencies."""

from __future__ import annotations

import pytest

from aftersales_core.decisions import JSON, PolicyDecision
from aftersales_core.policies import current_version
from aftersales_core.policies import evaluate as evaluate_any
from tests.unit.policies.builders import shipping


def evaluate(policy_id: str, inputs: JSON, version: int = 2) -> PolicyDecision:
    """These tests are of return.shipping v2 (v3 is current; still registered for re-runs)."""
    return evaluate_any(policy_id, inputs, version)


def test_v2_stays_registered_and_v3_is_current() -> None:
    assert current_version("return.shipping") == 3


def test_the_issues_changed_mind_item_is_not_returnless_when_the_buyer_pays() -> None:
    inputs = shipping(market="US", currency="USD", item_value="20.00",
                      return_shipping_estimate="40.00", regime="us_merchant")
    old, new = evaluate("return.shipping", inputs, 1), evaluate("return.shipping", inputs, 2)
    assert (old.outcome, old.details["returnless"]) == ("buyer", True)
    assert (new.outcome, new.details["returnless"]) == ("buyer", False)
    assert new.rules[-1] == "shipping.returnless_merchant_choice"
    assert "ships the goods back, or keeps them without a refund" in new.reasons[-1]


@pytest.mark.parametrize(("estimate", "returnless"), [("60.00", False), ("60.01", True)])
def test_when_the_merchant_pays_returnless_starts_one_cent_above_60_percent(
        estimate: str, returnless: bool) -> None:
    decision = evaluate("return.shipping", shipping(reason="defective", item_value="100.00",
                                                    return_shipping_estimate=estimate))
    assert decision.outcome == "merchant"
    assert decision.details["returnless"] is returnless


def test_an_uninformed_eu_buyer_has_the_merchant_pay_and_may_get_a_returnless_refund() -> None:
    decision = evaluate("return.shipping", shipping(
        market="DE", currency="EUR", item_value="5.00", return_shipping_estimate=None,
        buyer_informed_of_return_cost=False))
    assert decision.outcome == "merchant"
    assert decision.details["returnless"] is True  # a 35.00 label for a 5.00 item


@pytest.mark.parametrize(("currency", "floor", "below"), [
    ("HKD", "60.00", "59.99"), ("JPY", "1200", "1199"), ("KRW", "12000", "11999"),
    ("SGD", "12.00", "11.99"), ("AUD", "15.00", "14.99"), ("CAD", "12.00", "11.99"),
])
def test_the_usual_import_currencies_have_a_value_floor(currency: str, floor: str,
                                                        below: str) -> None:
    def reason(value: str) -> object:
        return evaluate("return.shipping", shipping(
            currency=currency, reason="defective", item_value=value,
            return_shipping_estimate="0" if currency in ("JPY", "KRW") else "0.00",
        )).details["returnless_reason"]

    assert reason(floor) is None
    assert reason(below) == "under_value_floor"


def test_a_repair_needs_the_goods_back_so_it_is_never_returnless() -> None:
    inputs = shipping(reason="defective", item_value="10.00", return_shipping_estimate="40.00",
                      wanted_outcome="repair")
    decision = evaluate("return.shipping", inputs)
    assert (decision.outcome, decision.details["returnless"]) == ("merchant", False)
    assert "shipping.goods_needed" in decision.rules
    assert evaluate("return.shipping", {**inputs, "wanted_outcome": "refund"}) \
        .details["returnless"] is True
