"""return.eligibility v2: windows of whole calendar days in the buyer's zone, the category
vocabulary, units already in other returns, and the bonded zone counted on arrival."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from aftersales_core.decisions import JSON, PolicyDecision
from aftersales_core.policies import current_version, rerun
from aftersales_core.policies import evaluate as evaluate_any
from aftersales_core.policies.categories import ALIASES, CATEGORIES
from tests.unit.policies.builders import cross_border, eligibility, line


def evaluate(policy_id: str, inputs: JSON, version: int = 2) -> PolicyDecision:
    """These tests are of return.eligibility v2 (v4 is current; still registered for re-runs)."""
    return evaluate_any(policy_id, inputs, version)


DELIVERED_DE = "2026-06-01T10:00:00+00:00"


def decide(**overrides: object) -> PolicyDecision:
    return evaluate("return.eligibility", eligibility(**overrides))


def withdrawal(requested_at: str, **overrides: object) -> PolicyDecision:
    return decide(market="DE", currency="EUR", delivered_at=DELIVERED_DE,
                  requested_at=requested_at, **overrides)


def test_v2_stays_registered_beside_v1_and_the_later_versions() -> None:
    assert current_version("return.eligibility") == 6
    old = evaluate("return.eligibility", eligibility(), version=1)
    assert rerun(old).same_result_as(old)


def test_the_issues_withdrawal_in_the_evening_of_day_14_is_accepted() -> None:
    decision = withdrawal("2026-06-15T20:00:00+00:00")  # 22:00 in Berlin
    assert decision.outcome == "approve"
    assert decision.details["zone"] == "Europe/Berlin"
    assert decision.details["zone_source"] == "market"
    assert decision.details["window_last_day"] == "2026-06-15"
    assert decision.details["window_ends_at"] == "2026-06-15T23:59:59.999999+02:00"
    assert decision.details["window_days"] == 14
    assert "calendar.days" in decision.rules


def test_the_first_instant_of_day_15_in_berlin_is_too_late() -> None:
    assert withdrawal("2026-06-15T21:59:59.999999+00:00").outcome == "approve"
    late = withdrawal("2026-06-15T22:00:00+00:00")
    assert late.outcome == "reject"
    assert late.reasons[1] == ("requested on 2026-06-16; the 14-day withdrawal period counted "
                               "from delivery on 2026-06-01 ended at the end of 2026-06-15 "
                               "(Europe/Berlin)")


def test_the_buyers_own_zone_overrides_the_market_default() -> None:
    # 23:00 UTC on 15 June is already 16 June in Berlin, but still 15 June in Lisbon
    assert withdrawal("2026-06-15T22:30:00+00:00").outcome == "reject"
    lisbon = withdrawal("2026-06-15T22:30:00+00:00", buyer_timezone="Europe/Lisbon")
    assert lisbon.outcome == "approve"
    assert (lisbon.details["zone"], lisbon.details["zone_source"]) == ("Europe/Lisbon", "buyer")
    assert "the buyer's time zone Europe/Lisbon" in lisbon.reasons[0]


def test_a_delivery_late_in_the_utc_day_starts_the_count_on_the_next_local_day() -> None:
    # delivered 20:00 UTC on 5 January = 04:00 on 6 January in Shanghai: day 7 is 13 January
    on_time = decide(delivered_at="2026-01-05T20:00:00+00:00",
                     requested_at="2026-01-13T15:59:59+00:00")
    assert on_time.outcome == "approve"
    assert on_time.details["window_last_day"] == "2026-01-13"
    assert decide(delivered_at="2026-01-05T20:00:00+00:00",
                  requested_at="2026-01-13T16:00:00+00:00").outcome == "reject"


def test_a_window_across_the_spring_daylight_saving_change_keeps_whole_days() -> None:
    decision = decide(market="FR", currency="EUR", delivered_at="2026-03-20T12:00:00+00:00",
                      requested_at="2026-04-03T21:59:00+00:00")  # 23:59 CEST on 3 April
    assert decision.outcome == "approve"
    assert decision.details["window_ends_at"] == "2026-04-03T23:59:59.999999+02:00"


@pytest.mark.parametrize(("market", "currency", "reason", "days", "last_instant"), [
    ("CN", "CNY", "changed_mind", 7, "2026-01-12T23:59:59.999999+08:00"),
    ("GB", "GBP", "changed_mind", 14, "2026-01-19T23:59:59.999999+00:00"),
    ("GB", "GBP", "defective", 30, "2026-02-04T23:59:59.999999+00:00"),
    ("US", "USD", "changed_mind", 30, "2026-02-04T23:59:59.999999-10:00"),  # Honolulu
    ("BR", "BRL", "changed_mind", 30, "2026-02-04T23:59:59.999999-05:00"),  # Rio Branco
])
def test_every_window_ends_at_the_end_of_its_last_local_day(market: str, currency: str,
                                                            reason: str, days: int,
                                                            last_instant: str) -> None:
    # delivered 10:00 UTC on 5 January: the same local day in each of these default zones
    end = datetime.fromisoformat(last_instant)
    decision = decide(market=market, currency=currency, reason=reason,
                      requested_at=end.isoformat())
    assert decision.outcome == "approve", decision.reasons
    assert decision.details["window_days"] == days
    assert decision.details["window_ends_at"] == last_instant
    later = decide(market=market, currency=currency, reason=reason,
                   requested_at=(end + timedelta(microseconds=1)).isoformat())
    assert later.outcome in ("reject", "review")


def test_the_eu_guarantee_runs_two_calendar_years_to_the_end_of_the_same_date() -> None:
    on_time = decide(market="IT", currency="EUR", reason="defective",
                     delivered_at="2024-02-29T10:00:00+00:00",
                     requested_at="2026-02-28T22:59:00+00:00")  # 23:59 in Rome
    assert on_time.outcome == "approve"
    assert on_time.details["window_last_day"] == "2026-02-28"
    assert decide(market="IT", currency="EUR", reason="defective",
                  delivered_at="2024-02-29T10:00:00+00:00",
                  requested_at="2026-02-28T23:00:00+00:00").outcome == "reject"


def test_cross_border_30_days_are_counted_from_the_day_of_customs_release() -> None:
    # released 10:00 UTC on 3 January (18:00 in Shanghai): day 30 is 2 February
    on_time = evaluate("return.eligibility", cross_border(
        reason="defective", requested_at="2026-02-02T15:59:00+00:00"))
    assert on_time.outcome == "approve"
    assert on_time.details["window_last_day"] == "2026-02-02"
    late = evaluate("return.eligibility", cross_border(
        reason="defective", requested_at="2026-02-02T16:00:00+00:00"))
    assert late.outcome == "reject" and "cn.cross_border_30d" in late.rules


def test_the_bonded_zone_deadline_is_the_end_of_day_45_and_is_about_arrival() -> None:
    decision = evaluate("return.eligibility", cross_border())
    assert decision.details["back_in_zone_by"] == "2026-02-17T23:59:59.999999+08:00"
    assert decision.details["ship_back_by"] == decision.details["back_in_zone_by"]
    assert decision.details["customs_return_required"] is True
    assert decision.details["quota_restorable"] == "100.00"
    assert "arrive back in the bonded zone" in decision.reasons[-1]
    assert "no customs return" in decision.reasons[-1]


# ---- the category vocabulary -----------------------------------------------------------

@pytest.mark.parametrize(("given", "canonical"), [
    ("newspapers", "newspapers_periodicals"), ("Newspapers", "newspapers_periodicals"),
    ("custom-made", "custom_made"), ("Custom made", "custom_made"),
    ("digital_downloads", "digital_download"), ("perishables", "perishable"),
    ("newspapers_periodicals", "newspapers_periodicals"),
])
def test_excluded_categories_and_their_aliases_block_a_no_reason_return(given: str,
                                                                       canonical: str) -> None:
    decision = decide(lines=[line(category=given)])
    assert decision.outcome == "reject"
    assert f"category.{canonical}" in decision.rules
    assert decision.details["categories"]["L1"] == {"given": given, "category": canonical,
                                                    "rule": f"category.{canonical}"}


@pytest.mark.parametrize("market", ["CN", "DE", "GB", "US", "BR"])
def test_every_no_fault_regime_applies_the_category_exclusions(market: str) -> None:
    currency = {"CN": "CNY", "DE": "EUR", "GB": "GBP", "US": "USD", "BR": "BRL"}[market]
    decision = decide(market=market, currency=currency, lines=[line(category="newspapers")])
    assert decision.outcome == "reject"


def test_faulty_goods_are_returnable_whatever_their_category_and_the_rule_is_named() -> None:
    decision = decide(reason="damaged", lines=[line(category="custom-made")])
    assert decision.outcome == "approve"
    assert "category.custom_made" in decision.rules
    assert "faulty goods are returnable whatever their category" in " ".join(decision.reasons)


def test_media_is_returnable_sealed_and_not_once_unsealed() -> None:
    sealed = decide(lines=[line(category="cds_dvds_musicals")], goods_intact=None)
    assert sealed.outcome == "approve"
    assert "seal unbroken" in " ".join(sealed.reasons)
    opened = decide(market="DE", currency="EUR", lines=[line(category="dvds")],
                    goods_intact=False)
    assert opened.outcome == "reject"
    assert "category.audio_video_software" in opened.rules


def test_an_unknown_category_is_recorded_as_unclassified_and_gets_the_merchant_default() -> None:
    decision = decide(lines=[line(category="widgets")])
    assert decision.outcome == "approve"
    assert "category.unclassified" in decision.rules
    assert decision.details["categories"]["L1"]["category"] == "unclassified"
    assert decision.details["unclassified_lines"] == ["L1"]
    assert "merchant default" in " ".join(decision.reasons)


def test_a_standard_category_names_the_standard_rule() -> None:
    decision = decide(lines=[line(category="health_beauty")])  # Olist's name
    assert decision.details["categories"]["L1"]["category"] == "cosmetics"
    assert "category.standard" in decision.rules


def test_every_alias_names_a_canonical_category() -> None:
    assert set(ALIASES.values()) <= set(CATEGORIES)
    assert not set(ALIASES) & set(CATEGORIES)


# ---- units already in other returns -------------------------------------------------------

def test_units_already_in_other_returns_count_against_what_was_ordered() -> None:
    two = [line(quantity=1)]
    within = decide(lines=two, already_returned=[{"line_id": "L1", "ordered": 2,
                                                  "returned": 1}])
    assert within.outcome == "approve"
    beyond = decide(lines=two, already_returned=[{"line_id": "L1", "ordered": 2,
                                                  "returned": 2}])
    assert beyond.outcome == "reject"
    assert "return.quantity_left" in beyond.rules
    assert "2 of the 2 units ordered are in other returns already, so 0 more" in \
        " ".join(beyond.reasons)


def test_the_quantity_cap_holds_even_for_faulty_goods_and_undelivered_orders() -> None:
    full = [{"line_id": "L1", "ordered": 1, "returned": 1}]
    assert "return.quantity_left" in decide(reason="defective", already_returned=full).rules
    assert "return.quantity_left" in decide(delivered_at=None, already_returned=full).rules


def test_an_unknown_buyer_timezone_is_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match="buyer_timezone"):
        decide(buyer_timezone="Mars/Olympus")
