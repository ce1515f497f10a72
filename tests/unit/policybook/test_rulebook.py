"""Decisions record the book they used, and re-run with exactly its settings."""

from __future__ import annotations

from dataclasses import replace

import pytest

from aftersales_core.decisions import PolicyDecision
from aftersales_core.errors import UnknownPolicyError
from aftersales_core.policies import evaluate, rerun
from aftersales_core.policybook.builtin import builtin_book
from aftersales_core.policybook.rulebook import (
    PLATFORM_BOOK,
    BookId,
    Rulebook,
    SettingsMismatchError,
    builtin_rules,
    merchant_book,
)
from aftersales_core.policybook.rulebook import rerun as rerun_with_books
from tests.unit.policies import builders
from tests.unit.policybook.books import book


class Archive:
    """Books by id and version, as the store keeps them."""

    def __init__(self) -> None:
        self.books: dict[tuple[BookId, int], Rulebook] = {}

    def add(self, rulebook: Rulebook) -> None:
        self.books[(rulebook.book_id, rulebook.version)] = rulebook

    def rulebook(self, book_id: BookId, version: int) -> Rulebook:
        if version == 0:
            return Rulebook(builtin_book(), book_id, 0)
        try:
            return self.books[(book_id, version)]
        except KeyError:
            raise SettingsMismatchError(f"no {book_id} version {version}") from None


LUMEN = merchant_book("lumen")
THIRTY = Rulebook(book(**{"returns.markets.EU.no_fault": "30 days"}), LUMEN, 2)
LATE_DE = builders.eligibility(market="DE", currency="EUR",
                               requested_at="2026-01-25T10:00:00+00:00")  # day 20


def test_a_decision_records_the_merchant_its_book_version_and_the_settings_hash() -> None:
    decision = THIRTY.for_merchant("lumen").evaluate("return.eligibility", LATE_DE)
    assert decision.outcome == "approve" and decision.policy_version == 6
    assert decision.book is not None
    assert decision.book["merchant_id"] == "lumen" and decision.book["book"] == "merchant"
    assert decision.book["book_version"] == 2
    assert decision.book["settings_hash"] == THIRTY.settings("return.eligibility")[1]


def test_the_platform_book_applies_to_an_order_without_its_own_and_says_so() -> None:
    decision = builtin_rules("no-book-merchant").evaluate("return.eligibility", LATE_DE)
    assert decision.outcome == "reject"
    assert decision.book == {"merchant_id": "no-book-merchant", "book": "platform",
                             "book_version": 0,
                             "settings_hash": decision.book["settings_hash"]}


def test_a_rerun_uses_the_recorded_book_not_the_current_one() -> None:
    archive = Archive()
    archive.add(THIRTY)
    decision = THIRTY.for_merchant("lumen").evaluate("return.eligibility", LATE_DE)
    again = rerun_with_books(decision, archive)
    assert again.to_json() == decision.to_json()
    archive.add(Rulebook(book(), LUMEN, 3))  # a later version changes nothing recorded
    assert rerun_with_books(decision, archive).same_result_as(decision)


def test_settings_that_no_longer_hash_as_recorded_are_refused() -> None:
    archive = Archive()
    archive.add(Rulebook(book(), LUMEN, 2))  # version 2 is not what the decision used
    decision = THIRTY.for_merchant("lumen").evaluate("return.eligibility", LATE_DE)
    with pytest.raises(SettingsMismatchError, match="not to the sha256"):
        rerun_with_books(decision, archive)


def test_a_forged_or_broken_book_record_is_refused() -> None:
    decision = builtin_rules().evaluate("return.eligibility", LATE_DE)
    assert decision.book is not None
    for record in ({**decision.book, "book": "moon"}, {**decision.book, "book_version": -1},
                   {"book": "platform"}, {**decision.book, "book_version": True}):
        with pytest.raises(SettingsMismatchError):
            rerun_with_books(replace(decision, book=record), Archive())


def test_a_decision_recorded_before_books_reruns_with_its_versions_built_in_settings() -> None:
    old = evaluate("return.eligibility", LATE_DE, version=2)
    assert old.book is None
    assert rerun_with_books(old, Archive()).to_json() == old.to_json()
    assert rerun(old).to_json() == old.to_json()


def test_the_plain_rerun_refuses_a_decision_that_used_a_book() -> None:
    decision = builtin_rules().evaluate("return.eligibility", LATE_DE)
    with pytest.raises(UnknownPolicyError, match="re-run it with that book"):
        rerun(decision)


def test_a_decision_round_trips_through_json_with_its_book() -> None:
    decision = THIRTY.for_merchant("lumen").evaluate("refund.approval", builders.approval())
    assert PolicyDecision.from_json(decision.to_json()) == decision


def test_book_ids_name_a_merchant_or_the_platform_never_both() -> None:
    assert str(PLATFORM_BOOK) == "the platform default" and str(LUMEN) == "merchant lumen"
    with pytest.raises(ValueError):
        BookId("merchant")
    with pytest.raises(ValueError):
        BookId("platform", "lumen")
