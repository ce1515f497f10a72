"""What changed between two books, field by field."""

from __future__ import annotations

from aftersales_core.policybook.diff import diff
from aftersales_core.policybook.documents import canonical_document
from tests.unit.policybook.books import DELETE, book


def test_a_changed_window_is_one_change_with_both_values() -> None:
    before = canonical_document(book())
    after = canonical_document(book(**{"returns.markets.EU.no_fault": "30 days"}))
    changes = diff(before, after)
    assert [c.to_json() for c in changes] == [{"path": "returns.markets.EU.no_fault",
                                               "change": "changed", "before": "14 days",
                                               "after": "30 days"}]


def test_added_and_removed_fields_are_named() -> None:
    before = canonical_document(book())
    after = canonical_document(book(**{"support": {"email": "help@example.com"},
                                       "returns.markets.US": DELETE}))
    kinds = {c.path: c.kind for c in diff(before, after)}
    assert kinds["support.email"] == "added"
    assert kinds["returns.markets.US.no_fault"] == "removed"


def test_the_order_of_a_set_does_not_count_as_a_change() -> None:
    before = canonical_document(book(currencies=["EUR", "GBP"]))
    after = canonical_document(book(currencies=["GBP", "EUR"]))
    assert diff(before, after) == []
    assert diff(before, before) == []


def test_amounts_and_rates_compare_by_value_names_by_text() -> None:
    """"500" and "500.00" are one threshold (as "0500" was already): no change; another
    value, or a name that reads like a number, is one."""
    before = canonical_document(book(**{"approval.thresholds.GBP": "500",
                                        "returnless.share": "0.6"}))
    same = canonical_document(book(**{"approval.thresholds.GBP": "500.00",
                                      "returnless.share": "0.60"}))
    assert same["approval"]["thresholds"]["GBP"] == "500.00"  # stored as the author wrote it
    assert diff(before, same) == []
    other = canonical_document(book(**{"approval.thresholds.GBP": "500.01"}))
    assert "approval.thresholds.GBP" in [c.path for c in diff(before, other)]
    named = canonical_document(book(merchant_name="0500"))
    assert [c.path for c in diff(canonical_document(book(merchant_name="500")), named)] == \
        ["merchant_name"]
