"""refund.calculation v2 and later: a goodwill refund's amount is booked as goodwill, not as
items."""

from __future__ import annotations

from aftersales_core.policies import current_version, evaluate
from tests.unit.policies.builders import refund


def test_v2_books_a_goodwill_amount_as_goodwill_and_v1_as_items() -> None:
    assert current_version("refund.calculation") >= 2
    inputs = refund(source="goodwill", refund_lines=[], amount="30.00")
    old = evaluate("refund.calculation", inputs, 1)
    assert old.details["components"] == {"items": "30.00"}
    for new in (evaluate("refund.calculation", inputs, 2), evaluate("refund.calculation", inputs)):
        assert new.details["components"] == {"goodwill": "30.00"}
        assert new.details["total"] == "30.00" and new.rules == ("refund.goodwill",)


def test_an_amount_asked_for_by_a_complaint_stays_items_and_goodwill_adds_on_top() -> None:
    decision = evaluate("refund.calculation", refund(source="complaint", refund_lines=[],
                                                     amount="30.00", goodwill="5.00"))
    assert decision.details["components"] == {"items": "30.00", "goodwill": "5.00"}
    assert decision.details["total"] == "35.00"


def test_goodwill_on_a_goodwill_refund_adds_up_in_one_component() -> None:
    decision = evaluate("refund.calculation", refund(source="goodwill", refund_lines=[],
                                                     amount="30.00", goodwill="5.00"))
    assert decision.details["components"] == {"goodwill": "35.00"}


def test_goodwill_is_capped_at_what_is_left_to_refund() -> None:
    decision = evaluate("refund.calculation", refund(source="goodwill", refund_lines=[],
                                                     amount="50.00", already_refunded="150.00"))
    assert decision.outcome == "capped" and decision.details["total"] == "40.00"
