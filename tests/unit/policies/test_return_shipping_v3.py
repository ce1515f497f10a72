"""return.shipping v3: who pays for a return that is not the merchant's fault, per market."""

from __future__ import annotations

from typing import Any

from aftersales_core.decisions import PolicyDecision
from aftersales_core.policies import current_version, evaluate
from aftersales_core.policybook.bindings import shipping_v3
from tests.unit.policies.builders import shipping
from tests.unit.policies.golden import corpus
from tests.unit.policybook.books import book


def decide(changes: dict[str, Any] | None = None, **overrides: Any) -> PolicyDecision:
    return evaluate("return.shipping", shipping(**overrides), 3,
                    shipping_v3(book(**(changes or {}))))


def test_v3_is_current_and_decides_as_v2_under_the_built_in_book() -> None:
    assert current_version("return.shipping") == 3
    for inputs in corpus.shipping():
        v2, v3 = (evaluate("return.shipping", inputs, v) for v in (2, 3))
        assert (v3.outcome, v3.details, v3.reasons) == (v2.outcome, v2.details, v2.reasons)


def test_a_merchant_may_pay_for_every_return_in_a_market() -> None:
    changes = {"return_shipping.markets.US": "merchant"}
    paid = decide(changes, market="US", currency="USD", regime="us_merchant")
    assert paid.outcome == "merchant" and "shipping.merchant_pays_policy" in paid.rules
    assert decide(market="US", currency="USD", regime="us_merchant").outcome == "buyer"


def test_an_eu_member_state_follows_the_eu_entry_unless_it_has_its_own() -> None:
    informed = {"market": "FR", "currency": "EUR", "regime": "eu_withdrawal",
                "buyer_informed_of_return_cost": True}
    assert decide(**informed).outcome == "buyer"
    assert decide({"return_shipping.markets.FR": "merchant"}, **informed).outcome == "merchant"


def test_the_merchant_always_pays_for_its_own_faults() -> None:
    assert decide({"return_shipping.default": "buyer"}, reason="damaged").outcome == "merchant"


def test_returnless_thresholds_come_from_the_book() -> None:
    changes = {"returnless.share": "0.20", "return_shipping.markets.US": "merchant"}
    common = {"market": "US", "currency": "USD", "regime": "us_merchant",
              "item_value": "100.00"}
    assert decide(changes, return_shipping_estimate="20.01", **common).details["returnless"]
    assert not decide(changes, return_shipping_estimate="20.00", **common).details[
        "returnless"]
