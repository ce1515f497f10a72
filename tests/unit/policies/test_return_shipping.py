"""return.shipping v1 (still registered for re-runs): who pays the return label, and when the
buyer keeps the goods. v2 is in test_return_shipping_v2.py."""

from __future__ import annotations

import pytest

from aftersales_core.policies import evaluate
from aftersales_core.policies.vocabulary import MERCHANT_FAULT_REASONS
from tests.unit.policies.builders import shipping


@pytest.mark.parametrize("reason", sorted(MERCHANT_FAULT_REASONS))
def test_the_merchant_pays_return_shipping_when_the_reason_is_its_fault(reason: str) -> None:
    decision = evaluate("return.shipping", shipping(reason=reason), version=1)
    assert decision.outcome == "merchant"
    assert decision.details["payer"] == "merchant"


def test_the_buyer_pays_a_cn_no_reason_return() -> None:
    assert evaluate("return.shipping", shipping(), version=1).outcome == "buyer"


def test_the_buyer_pays_a_us_return_without_fault() -> None:
    inputs = shipping(market="US", currency="USD", regime="us_merchant")
    assert evaluate("return.shipping", inputs, version=1).outcome == "buyer"


@pytest.mark.parametrize("market", ["DE", "GB"])
def test_an_eu_or_uk_buyer_pays_only_when_told_beforehand(market: str) -> None:
    told = shipping(market=market, currency="EUR", buyer_informed_of_return_cost=True)
    untold = shipping(market=market, currency="EUR", buyer_informed_of_return_cost=False)
    assert evaluate("return.shipping", told, version=1).outcome == "buyer"
    assert evaluate("return.shipping", untold, version=1).outcome == "merchant"


def test_a_fault_regime_makes_the_merchant_pay_whatever_the_reason_code() -> None:
    inputs = shipping(market="DE", currency="EUR", reason="other", regime="eu_legal_guarantee",
                      buyer_informed_of_return_cost=True)
    assert evaluate("return.shipping", inputs, version=1).outcome == "merchant"


def test_shipping_at_exactly_60_percent_of_the_item_value_is_returned() -> None:
    decision = evaluate("return.shipping", shipping(return_shipping_estimate="60.00"), version=1)
    assert decision.details["returnless"] is False
    assert decision.details["returnless_reason"] is None


def test_shipping_one_cent_above_60_percent_of_the_item_value_is_returnless() -> None:
    decision = evaluate("return.shipping", shipping(return_shipping_estimate="60.01"), version=1)
    assert decision.details["returnless"] is True
    assert decision.details["returnless_reason"] == "shipping_over_share"


@pytest.mark.parametrize(("currency", "floor", "below"), [
    ("CNY", "50.00", "49.99"), ("EUR", "8.00", "7.99"), ("GBP", "7.00", "6.99"),
    ("USD", "10.00", "9.99"), ("BRL", "40.00", "39.99"),
])
def test_items_under_the_value_floor_are_returnless(currency: str, floor: str,
                                                    below: str) -> None:
    def returnless(value: str) -> object:
        inputs = shipping(currency=currency, item_value=value, return_shipping_estimate="0.01")
        return evaluate("return.shipping", inputs, version=1).details["returnless_reason"]

    assert returnless(below) == "under_value_floor"
    assert returnless(floor) is None


def test_without_an_estimate_the_rate_table_prices_the_label_by_fulfilment() -> None:
    near = evaluate("return.shipping", shipping(return_shipping_estimate=None), version=1)
    far = evaluate("return.shipping", shipping(return_shipping_estimate=None,
                                               fulfilment="direct_mail", market="CN"), version=1)
    assert near.details["return_shipping_estimate"] == "15.00"
    assert near.details["estimate_source"] == "rate_table"
    assert far.details["return_shipping_estimate"] == "180.00"
    assert far.details["returnless"] is True


def test_a_currency_without_a_rate_table_gets_no_estimate_and_no_returnless_offer() -> None:
    decision = evaluate("return.shipping", shipping(market="JP", currency="JPY",
                                                    item_value="1000",
                                                    return_shipping_estimate=None), version=1)
    assert decision.details["return_shipping_estimate"] is None
    assert decision.details["returnless"] is False
    assert "shipping.no_estimate" in decision.rules
