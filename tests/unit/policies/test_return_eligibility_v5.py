"""return.eligibility v5: without the buyer's zone, a period is counted in whichever of the
market's zones ends it last, so a delivery in the first hours of a day further east than the
default zone no longer starts (and ends) the period a day early; v4 stays registered and
re-runs as it was recorded."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales_core.policies import current_version, evaluate, rerun
from aftersales_core.policies.calendar import MARKET_ZONES, BuyerZone, calendar_period
from aftersales_core.policies.zone_spans import MARKET_SPANS
from tests.unit.policies import strategies
from tests.unit.policies.builders import eligibility, line


def withdrawal(market: str, currency: str, delivered: str, requested: str,
               **overrides: Any) -> dict[str, Any]:
    return eligibility(market=market, currency=currency, delivered_at=delivered,
                       requested_at=requested, lines=[line(category="apparel")], **overrides)


# Delivered at 00:30 on 2 June in Madrid (23:30 on 1 June in the Canaries); asked at noon on
# 16 June in Madrid: the 14th day after the day of delivery, within the period.
MADRID = withdrawal("ES", "EUR", "2026-06-01T22:30:00+00:00", "2026-06-16T10:00:00+00:00")
# 00:30 on 2 June in Lisbon (23:30 on 1 June in the Azores).
LISBON = withdrawal("PT", "EUR", "2026-06-01T23:30:00+00:00", "2026-06-16T10:00:00+00:00")


def test_v5_and_v4_stay_registered_beside_v6() -> None:
    assert current_version("return.eligibility") == 6
    old = evaluate("return.eligibility", MADRID, 4)
    assert old.policy_version == 4 and rerun(old).same_result_as(old)


def test_a_mainland_spanish_buyers_14_days_end_with_the_16th_not_the_15th() -> None:
    v4 = evaluate("return.eligibility", MADRID, 4)
    assert v4.outcome == "reject"  # counted in the Canaries from 1 June: ended with 15 June
    v5 = evaluate("return.eligibility", MADRID)
    assert v5.outcome == "approve", v5.reasons
    assert v5.details["window_last_day"] == "2026-06-16"
    assert v5.details["window_zone"] == "Europe/Madrid"
    assert v5.details["zone"] == "Atlantic/Canary" and v5.details["zone_span"] == [
        "Europe/Madrid"]
    assert any("whichever of ES's time zones" in reason for reason in v5.reasons)


def test_the_day_after_still_ends_the_period() -> None:
    late = withdrawal("ES", "EUR", "2026-06-01T22:30:00+00:00", "2026-06-16T22:30:00+00:00")
    assert evaluate("return.eligibility", late).outcome == "reject"  # 00:30 on the 17th


def test_mainland_portugal_likewise() -> None:
    assert evaluate("return.eligibility", LISBON, 4).outcome == "reject"
    decision = evaluate("return.eligibility", LISBON)
    assert decision.outcome == "approve" and decision.details["window_zone"] == "Europe/Lisbon"


def test_a_named_zone_is_counted_alone_as_before() -> None:
    named = {**MADRID, "buyer_timezone": "Atlantic/Canary"}
    decision = evaluate("return.eligibility", named)
    assert decision.outcome == "reject" and "zone_span" not in decision.details
    assert "window_zone" not in decision.details


def test_a_market_of_one_zone_records_what_v4_recorded() -> None:
    inputs = withdrawal("DE", "EUR", "2026-06-01T22:30:00+00:00", "2026-06-16T10:00:00+00:00")
    v4, v5 = evaluate("return.eligibility", inputs, 4), evaluate("return.eligibility", inputs)
    assert (v5.outcome, v5.reasons, v5.details) == (v4.outcome, v4.reasons, v4.details)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(MARKET_SPANS)), strategies.moments(), st.integers(0, 40))
def test_a_spanned_period_ends_no_sooner_than_in_any_zone_of_the_market(
        market: str, start: datetime, days: int) -> None:
    where = BuyerZone(MARKET_ZONES[market], "market", MARKET_SPANS[market])
    spanned = calendar_period(start, where, days=days)
    for name in (where.name, *where.span):
        alone = calendar_period(start, BuyerZone(name, "market"), days=days)
        assert spanned.ends_at >= alone.ends_at
    assert spanned.ends_at - start <= timedelta(days=days + 3)


@settings(max_examples=200, deadline=None)
@given(strategies.eligibility_inputs())
def test_v5_approves_whatever_v4_approves_and_reruns_as_recorded(inputs: dict[str, Any]) -> None:
    v4, v5 = evaluate("return.eligibility", inputs, 4), evaluate("return.eligibility", inputs)
    if v4.outcome == "approve":
        assert v5.outcome == "approve", (v4.reasons, v5.reasons)
    assert rerun(v5).same_result_as(v5)
