"""exchange.settlement: an exchange the buyer chose settles its price difference; v2's
replacement as a remedy for goods that do not conform (after a failed repair) is free of charge
(Directive (EU) 2019/771 art. 14(1)(a); UK Consumer Rights Act 2015 s.23(2)(b))."""

from __future__ import annotations

from typing import Any

import pytest

from aftersales_core.decisions import JSON
from aftersales_core.errors import InvalidCommandError
from aftersales_core.policies import current_version, evaluate, rerun


def settlement(**overrides: Any) -> JSON:
    """Line l1, 1 x SKU-A at 40.00, with an order discount of 14.00 of which the line took
    4.00 (the other line, 1 x SKU-B at 100.00, took 10.00): the buyer paid 36.00 for l1."""
    return {"currency": "EUR",
            "order_lines": [
                {"line_id": "l1", "sku": "SKU-A", "category": "home", "quantity": 1,
                 "unit_price": "40.00"},
                {"line_id": "l2", "sku": "SKU-B", "category": "home", "quantity": 1,
                 "unit_price": "100.00"}],
            "discount": "14.00",
            "returned_lines": [{"line_id": "l1", "quantity": 1}],
            "replacement_sku": "SKU-A", "replacement_quantity": 1,
            "replacement_unit_price": "40.00", "remedy": True, **overrides}


def test_a_replacement_as_a_remedy_costs_the_buyer_nothing() -> None:
    assert current_version("exchange.settlement") == 2
    decision = evaluate("exchange.settlement", settlement())
    assert decision.outcome == "even"
    assert decision.rules == ("exchange.remedy_free_of_charge",)
    assert (decision.details["paid_for_returned"], decision.details["replacement_value"]) == (
        "36.00", "40.00")
    assert decision.details["owed_by_buyer"] is None and decision.details["refund"] is None
    assert decision.details["remedy"] is True
    assert "free of charge" in decision.reasons[0]
    assert "2019/771 art. 14" in decision.reasons[0]
    assert rerun(decision) == decision


def test_an_exchange_the_buyer_chose_still_settles_the_price_difference() -> None:
    same_item = evaluate("exchange.settlement", settlement(remedy=False))
    assert (same_item.outcome, same_item.details["owed_by_buyer"]) == ("buyer_owes", "4.00")
    other = evaluate("exchange.settlement", settlement(
        remedy=False, replacement_sku="SKU-C", replacement_unit_price="30.00"))
    assert (other.outcome, other.details["refund"]) == ("refund_difference", "6.00")


def test_v1_charged_the_remedy_as_an_exchange_and_still_re_runs_so() -> None:
    v1 = evaluate("exchange.settlement", {k: v for k, v in settlement().items()
                                          if k != "remedy"}, version=1)
    assert (v1.outcome, v1.details["owed_by_buyer"]) == ("buyer_owes", "4.00")
    assert "remedy" not in v1.details
    assert rerun(v1) == v1


def test_v2_needs_to_know_whether_the_replacement_is_a_remedy() -> None:
    inputs = settlement()
    del inputs["remedy"]
    with pytest.raises(InvalidCommandError, match="remedy is missing"):
        evaluate("exchange.settlement", inputs)


@pytest.mark.parametrize("overrides", [
    {"replacement_sku": "SKU-B"},
    {"replacement_quantity": 2, "order_lines": [
        {"line_id": "l1", "sku": "SKU-A", "category": "home", "quantity": 2,
         "unit_price": "40.00"}]},
    {"returned_lines": [{"line_id": "l1", "quantity": 1}, {"line_id": "l2", "quantity": 1}]},
])
def test_a_remedy_replaces_the_same_goods_only(overrides: dict[str, Any]) -> None:
    with pytest.raises(InvalidCommandError, match=r"exchange\.settlement: (replacement_sku|"
                                                  r"returned_lines)"):
        evaluate("exchange.settlement", settlement(**overrides))
