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
