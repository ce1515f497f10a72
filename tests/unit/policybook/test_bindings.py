"""What each policy version takes from a book: the built-in book gives exactly the settings
decisions used before books, and a change reaches only the policies it concerns."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aftersales_core.policies import registry
from aftersales_core.policies.registry import NO_SETTINGS
from aftersales_core.policybook.bindings import BINDINGS, governed, settings_for
from aftersales_core.policybook.builtin import builtin_book
from aftersales_core.policybook.canonical import digest
from tests.unit.policybook.books import book

FIXED = {"return.disposition", "return.customs_return", "exchange.settlement",
         "repair.remedies", "logistics.exception"}


@pytest.mark.parametrize(("policy_id", "version"), sorted(BINDINGS))
def test_the_built_in_book_gives_the_versions_built_in_settings(policy_id: str,
                                                                version: int) -> None:
    assert settings_for(builtin_book(), policy_id, version) == \
        registry.version_of(policy_id, version).defaults


def test_every_current_version_is_governed_by_books_or_named_as_fixed() -> None:
    for policy_id, found in registry.describe().items():
        version = found["current"]
        if registry.version_of(policy_id, version).defaults is NO_SETTINGS:
            continue
        assert governed(policy_id, version) or policy_id in FIXED, policy_id


def test_a_fixed_policy_takes_its_built_in_settings_whatever_the_book() -> None:
    other = book(**{"returns.markets.EU.no_fault": "30 days"})
    assert settings_for(other, "return.disposition", 1) == \
        registry.version_of("return.disposition", 1).defaults


def test_a_change_reaches_only_the_policies_it_concerns() -> None:
    base, other = builtin_book(), book(**{"approval.thresholds.EUR": "400"})
    changed = {key for key in BINDINGS
               if digest(settings_for(base, *key)) != digest(settings_for(other, *key))}
    assert changed == {("refund.approval", 2), ("refund.approval", 3), ("refund.approval", 4)}
    assert settings_for(other, "refund.approval", 2).thresholds["EUR"] == Decimal("400")
    assert settings_for(other, "refund.approval", 3).thresholds["EUR"] == Decimal("400")


def test_the_settings_hash_is_stable_and_sees_every_difference() -> None:
    one = digest(settings_for(book(), "deadlines", 3))
    assert one == digest(settings_for(book(), "deadlines", 3))
    assert one != digest(settings_for(book(**{"complaints.clock": "business"}), "deadlines", 3))
    assert one.startswith("sha256:") and len(one) == 71
