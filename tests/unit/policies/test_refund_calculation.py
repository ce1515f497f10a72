"""refund.calculation, its current version: components, pro-rating, deductions, floor and cap
(where v3 differs from v2, both are shown; v3 alone: ``test_refund_calculation_v3.py``)."""

from __future__ import annotations

import pytest

from aftersales_core.decisions import PolicyDecision
from aftersales_core.errors import InvalidCommandError
from aftersales_core.policies import evaluate
from tests.unit.policies.builders import line, refund


def calc(version: int | None = None, **overrides: object) -> PolicyDecision:
    return evaluate("refund.calculation", refund(**overrides), version)


def components(**overrides: object) -> dict[str, str]:
    result: dict[str, str] = calc(**overrides).details["components"]
    return result


def test_a_returned_line_is_refunded_less_its_share_of_the_order_discount() -> None:
    decision = calc()
    assert decision.outcome == "calculated"
    assert decision.details["components"] == {"items": "90.00"}
    assert decision.details["total"] == "90.00"
    assert decision.details["currency"] == "USD"
    assert decision.details["refundable_before"] == "190.00"


def test_part_of_a_line_is_refunded_in_proportion_to_its_quantity() -> None:
    assert components(refund_lines=[{"line_id": "L1", "quantity": 1}]) == {"items": "45.00"}


def test_the_discount_shares_of_all_lines_add_up_to_the_discount_exactly() -> None:
    lines = [line("A", unit_price="33.33"), line("B", unit_price="33.33"),
             line("C", unit_price="33.34", quantity=3)]
    everything = [{"line_id": "A", "quantity": 1}, {"line_id": "B", "quantity": 1},
                  {"line_id": "C", "quantity": 3}]
    decision = calc(order_lines=lines, refund_lines=everything, discount="10.01",
                    paid="1000.00")
    assert decision.details["components"]["items"] == "156.67"  # 166.68 - 10.01


def test_the_outbound_shipping_is_not_refunded_for_a_voluntary_return() -> None:
    assert "outbound_shipping" not in components()


def test_a_merchant_fault_refunds_the_outbound_shipping_pro_rata() -> None:
    assert components(merchant_fault=True)["outbound_shipping"] == "5.00"


def test_an_eu_withdrawal_refunds_the_outbound_shipping_pro_rata() -> None:
    result = components(market="DE", currency="EUR", regime="eu_withdrawal", is_withdrawal=True)
    assert result["outbound_shipping"] == "5.00"


def test_a_cn_no_reason_return_refunds_the_goods_but_not_the_outbound_shipping() -> None:
    result = components(market="CN", currency="CNY", regime="cn_no_reason_7d",
                        is_withdrawal=True)
    assert "outbound_shipping" not in result


def test_a_cancellation_without_lines_refunds_everything_paid() -> None:
    decision = calc(source="cancellation", refund_lines=[], duties="3.00", taxes="7.00",
                    paid="200.00")
    assert decision.details["components"] == {
        "items": "180.00", "outbound_shipping": "10.00", "duties": "3.00", "taxes": "7.00"}
    assert decision.details["total"] == "200.00"


def test_a_lost_parcel_refunds_everything_not_yet_refunded() -> None:
    decision = calc(source="logistics_exception", refund_lines=[], already_refunded="40.00")
    assert decision.outcome == "capped"
    assert decision.details["total"] == "150.00"
    assert decision.details["uncapped_total"] == "190.00"
    assert decision.details["components"] == {"items": "142.11", "outbound_shipping": "7.89"}
    v2 = calc(2, source="logistics_exception", refund_lines=[], already_refunded="40.00")
    assert v2.details["total"] == "150.00"
    assert v2.details["components"] == {"items": "180.00", "outbound_shipping": "10.00"}


def test_duties_and_taxes_are_refunded_pro_rata_when_the_tax_is_refundable() -> None:
    result = components(tax_refundable=True, duties="3.01", taxes="8.00", paid="201.01")
    assert (result["duties"], result["taxes"]) == ("1.50", "4.00")  # 1.505 half to even
    v2 = calc(2, tax_refundable=True, duties="3.01", taxes="8.00", paid="201.01")
    assert (v2.details["components"]["duties"], v2.details["components"]["taxes"]) == (
        "1.51", "4.00")  # Money.allocate: the remainder to the larger part


def test_duties_and_taxes_stay_when_the_tax_is_not_refundable() -> None:
    result = components(duties="3.00", taxes="8.00", paid="201.00")
    assert "duties" not in result and "taxes" not in result


@pytest.mark.parametrize("grade", ["C", "D"])
def test_a_restocking_fee_of_10_percent_is_charged_for_grades_c_and_d(grade: str) -> None:
    decision = calc(inspection_grade=grade)
    assert decision.details["components"]["restocking_fee"] == "-9.00"
    assert decision.details["total"] == "81.00"


@pytest.mark.parametrize("grade", ["A", "B"])
def test_no_restocking_fee_for_grades_a_and_b(grade: str) -> None:
    assert "restocking_fee" not in components(inspection_grade=grade)


def test_no_restocking_fee_ever_on_a_withdrawal_or_a_merchant_fault() -> None:
    assert "restocking_fee" not in components(inspection_grade="D", is_withdrawal=True,
                                              regime="eu_withdrawal")
    assert "restocking_fee" not in components(inspection_grade="D", merchant_fault=True)


def test_the_restocking_fee_rounds_half_to_even() -> None:
    decision = calc(amount="0.25", inspection_grade="C")  # 10% is 0.025
    assert decision.details["components"]["restocking_fee"] == "-0.02"
    assert decision.details["total"] == "0.23"


def test_return_shipping_is_deducted_when_the_buyer_pays_for_the_merchants_label() -> None:
    result = components(return_shipping_payer="buyer", return_shipping_cost="7.50")
    assert result["return_shipping"] == "-7.50"


def test_return_shipping_is_not_deducted_when_the_merchant_pays() -> None:
    result = components(return_shipping_payer="merchant", return_shipping_cost="7.50")
    assert "return_shipping" not in result


def test_goodwill_is_added() -> None:
    assert calc(goodwill="5.00").details["total"] == "95.00"


def test_an_explicit_amount_is_the_items_component() -> None:
    decision = calc(source="complaint", refund_lines=[], amount="25.00")
    assert decision.details["components"] == {"items": "25.00"}


def test_the_total_is_floored_at_zero() -> None:
    decision = calc(amount="3.00", return_shipping_payer="buyer", return_shipping_cost="7.50")
    assert decision.outcome == "nothing_to_refund"
    assert decision.details["total"] == "0.00"
    assert decision.details["uncapped_total"] == "-4.50"
    assert decision.details["components"] == {"items": "3.00", "return_shipping": "-3.00"}
    v2 = calc(2, amount="3.00", return_shipping_payer="buyer", return_shipping_cost="7.50")
    assert v2.details["components_total"] == "-4.50"
    assert v2.details["components"] == {"items": "3.00", "return_shipping": "-7.50"}


def test_the_total_is_capped_at_what_was_paid_and_not_yet_refunded() -> None:
    decision = calc(already_refunded="150.00")
    assert decision.outcome == "capped"
    assert decision.details["total"] == "40.00"


def test_an_order_refunded_in_full_has_nothing_left_to_refund() -> None:
    assert calc(already_refunded="190.00").outcome == "nothing_to_refund"


def test_a_currency_without_minor_units_is_computed_in_whole_units() -> None:
    decision = calc(currency="JPY", order_lines=[line(unit_price="1001")],
                    refund_lines=[{"line_id": "L1", "quantity": 1}], shipping_fee="500",
                    discount="0", paid="1501", merchant_fault=True)
    assert decision.details["components"] == {"items": "1001", "outbound_shipping": "500"}


@pytest.mark.parametrize(("overrides", "field"), [
    ({"refund_lines": [{"line_id": "L9", "quantity": 1}]}, "refund_lines[0].line_id"),
    ({"refund_lines": [{"line_id": "L2", "quantity": 2}]}, "refund_lines[0].quantity"),
    ({"refund_lines": [{"line_id": "L2", "quantity": 1}, {"line_id": "L2", "quantity": 1}]},
     "refund_lines[1].line_id"),
    ({"already_refunded": "190.01"}, "already_refunded"),
    ({"discount": "200.01"}, "discount"),
])
def test_inconsistent_inputs_are_refused_naming_the_field(overrides: dict[str, object],
                                                         field: str) -> None:
    with pytest.raises(InvalidCommandError, match=field.replace("[", r"\[").replace("]", r"\]")):
        calc(**overrides)
