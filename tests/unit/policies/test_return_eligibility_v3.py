"""return.eligibility v3: the book's windows per market and reason, its exclusions as far as
the law lets them, and v2's results under the built-in book."""

from __future__ import annotations

from typing import Any

import pytest

from aftersales_core.decisions import PolicyDecision
from aftersales_core.policies import current_version, evaluate
from aftersales_core.policybook.bindings import eligibility_v3
from tests.unit.policies.builders import eligibility, line
from tests.unit.policies.golden import pre_book
from tests.unit.policybook.books import book

DELIVERED = "2026-06-01T10:00:00+00:00"  # a Monday; day N ends at the end of 1 June + N


def decide(changes: dict[str, Any] | None = None, **overrides: Any) -> PolicyDecision:
    settings = eligibility_v3(book(**(changes or {})))
    return evaluate("return.eligibility", eligibility(**overrides), 3, settings)


def test_v3_stays_registered_with_a_later_version_current() -> None:
    """v4 is v3 with category vocabulary 2 (test_return_eligibility_v4.py), v5 v4 with zone
    spans (test_return_eligibility_v5.py), v6 v5 with a note's words
    (test_return_eligibility_v6.py)."""
    assert current_version("return.eligibility") == 6


@pytest.mark.parametrize("inputs", list(pre_book.eligibility()))
def test_under_the_built_in_book_v3_decides_as_v2(inputs: dict[str, Any]) -> None:
    v2 = evaluate("return.eligibility", inputs, 2)
    v3 = evaluate("return.eligibility", inputs, 3)
    assert v3.outcome == v2.outcome
    ignored = {"categories", "refund_due_days"}  # v3: China's refund term for a fault too
    assert {k: v for k, v in v3.details.items() if k not in ignored} == \
        {k: v for k, v in v2.details.items() if k not in ignored}


def test_a_30_day_eu_window_takes_day_30_but_not_day_31() -> None:
    thirty = {"returns.markets.EU.no_fault": "30 days"}
    common = {"market": "DE", "currency": "EUR", "delivered_at": DELIVERED,
              "buyer_timezone": "UTC"}
    assert decide(thirty, requested_at="2026-07-01T23:59:59+00:00", **common).outcome == \
        "approve"
    late = decide(thirty, requested_at="2026-07-02T00:00:00+00:00", **common)
    assert late.outcome == "reject" and "eu.withdrawal" in late.rules
    assert "30-day withdrawal period" in " ".join(late.reasons)
    assert decide(requested_at="2026-06-20T10:00:00+00:00", **common).outcome == "reject"


def test_a_reasons_own_window_wins_over_its_markets() -> None:
    changes = {"returns.markets.US.reasons": {"doesnt_fit": "60 days"}}
    common = {"market": "US", "currency": "USD", "delivered_at": DELIVERED,
              "buyer_timezone": "UTC", "requested_at": "2026-07-20T10:00:00+00:00"}
    fits = decide(changes, reason="doesnt_fit", **common)
    assert fits.outcome == "approve" and "window.reason" in fits.rules
    assert decide(changes, reason="changed_mind", **common).outcome == "reject"


def test_a_market_without_its_own_entry_takes_the_default() -> None:
    changes = {"returns.default.no_fault": "45 days"}
    decision = decide(changes, market="BR", currency="BRL", delivered_at=DELIVERED,
                      buyer_timezone="UTC", requested_at="2026-07-15T10:00:00+00:00")
    assert decision.outcome == "approve" and decision.details["regime"] == "merchant_default"


def test_zero_days_means_no_returns_without_a_fault_where_the_law_allows_it() -> None:
    changes = {"returns.markets.US": {"no_fault": "0 days", "fault": "30 days"}}
    common = {"market": "US", "currency": "USD", "delivered_at": DELIVERED,
              "buyer_timezone": "UTC", "requested_at": DELIVERED}
    refused = decide(changes, **common)
    assert refused.outcome == "reject" and "takes no returns" in " ".join(refused.reasons)
    assert decide(changes, reason="defective", **common).outcome == "approve"


def test_a_merchant_exclusion_applies_in_its_own_markets_but_not_against_eu_law() -> None:
    changes = {"returns.excluded_categories": ["custom_made", "cosmetics"]}
    lines = [line(category="cosmetics")]
    us = decide(changes, market="US", currency="USD", lines=lines)
    assert us.outcome == "reject" and "category.cosmetics" in us.rules
    eu = decide(changes, market="DE", currency="EUR", lines=lines)
    assert eu.outcome == "approve"
    assert "does not let a seller exclude it" in " ".join(eu.reasons)
    faulty = decide(changes, market="US", currency="USD", lines=lines, reason="defective")
    assert faulty.outcome == "approve"


def test_a_category_the_law_lets_one_exclude_can_be_accepted_by_the_merchant() -> None:
    changes = {"returns.excluded_categories": []}
    decision = decide(changes, market="DE", currency="EUR",
                      lines=[line(category="newspapers")])
    assert decision.outcome == "approve"
    assert "the merchant accepts its return" in " ".join(decision.reasons)


def test_the_books_buyer_zone_counts_the_days() -> None:
    changes = {"buyer_zones": {"DE": "Pacific/Kiritimati"}}  # UTC+14: the day ends earlier
    common = {"market": "DE", "currency": "EUR",
              "delivered_at": "2026-06-01T08:00:00+00:00",  # 1 June 22:00 in Kiritimati
              "requested_at": "2026-06-15T10:30:00+00:00"}  # 16 June 00:30 in Kiritimati
    assert decide(**common).outcome == "approve"  # Europe/Berlin: still 15 June
    late = decide(changes, **common)
    assert late.outcome == "reject" and late.details["zone"] == "Pacific/Kiritimati"


def test_refund_terms_in_the_details_come_from_the_book() -> None:
    changes = {"refunds.markets.US": {"working_days": 5}}
    decision = decide(changes, market="US", currency="USD")
    assert decision.details["refund_due_working_days"] == 5
    assert decision.details["refund_due_days"] is None
