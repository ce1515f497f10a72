"""The law's limits: a book below a market's statutory minimum is refused, naming the rule,
the law and the field; day N is refused where day N+1 is not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import available_timezones

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales_core.policies.calendar import MARKET_ZONES, end_of_day, local_day, zone
from aftersales_core.policies.periods import days
from aftersales_core.policies.vocabulary import EU_MARKETS
from aftersales_core.policybook.bindings import eligibility_v3
from aftersales_core.policybook.documents import InvalidBookError, UnlawfulBookError, lawful
from aftersales_core.policybook.floors import check_law, first_other_day
from tests.unit.policybook.books import DELETE, book


def problems(**changes: Any) -> list[str]:
    return [p.rule for p in check_law(book(**changes))]


@pytest.mark.parametrize(("path", "short", "enough", "rule"), [
    ("returns.markets.EU.no_fault", "13 days", "14 days", "eu.withdrawal_14d"),
    ("returns.markets.EU.fault", "730 days", "731 days", "eu.legal_guarantee_2y"),
    ("returns.markets.EU.fault", "1 year", "2 years", "eu.legal_guarantee_2y"),
    ("returns.markets.GB.no_fault", "13 days", "14 days", "uk.cancellation_14d"),
    ("returns.markets.GB.fault", "29 days", "30 days", "uk.right_to_reject_30d"),
    ("returns.markets.CN.no_fault", "6 days", "7 days", "cn.no_reason_7d"),
    ("returns.markets.CN.fault", "6 days", "7 days", "cn.fault_return_7d"),
    ("returns.markets.CN.fault", "0 days", "7 days", "cn.fault_return_7d"),
    ("returns.markets.CN.cross_border", "6 days", "7 days", "cn.no_reason_7d"),
    ("returns.ship_back", "13 days", "14 days", "eu.send_back_14d"),
])
def test_a_window_one_day_short_of_the_law_is_refused(path: str, short: str, enough: str,
                                                      rule: str) -> None:
    assert rule in problems(**{path: short})
    assert rule not in problems(**{path: enough})


@pytest.mark.parametrize(("path", "too_long", "limit", "rule"), [
    ("returns.markets.CN.cross_border", "31 days", "30 days", "cn.customs_clock"),
    ("returns.markets.CN.bonded_return", "46 days", "45 days", "cn.customs_clock"),
    ("refunds.markets.CN", {"days": 8}, {"days": 7}, "cn.refund_7d"),
    ("refunds.markets.EU", {"days": 15}, {"days": 14}, "eu.refund_14d"),
    ("refunds.markets.GB", {"days": 15}, {"days": 14}, "uk.refund_14d"),
])
def test_a_clock_one_day_past_the_law_is_refused(path: str, too_long: Any, limit: Any,
                                                 rule: str) -> None:
    assert rule in problems(**{path: too_long})
    assert rule not in problems(**{path: limit})


def test_the_goods_cannot_be_due_back_before_the_return_may_be_applied_for() -> None:
    assert "cn.customs_clock" in problems(**{"returns.markets.CN.cross_border": "30 days",
                                             "returns.markets.CN.bonded_return": "29 days"})


def test_a_reasons_own_window_keeps_the_floor_of_its_kind() -> None:
    assert "eu.withdrawal_14d" in problems(**{"returns.markets.EU.reasons":
                                              {"doesnt_fit": "10 days"}})
    assert "eu.legal_guarantee_2y" in problems(**{"returns.markets.EU.reasons":
                                                  {"defective": "60 days"}})
    assert problems(**{"returns.markets.EU.reasons": {"doesnt_fit": "60 days"}}) == []


def test_china_takes_faulty_goods_back_at_least_as_long_as_goods_without_a_fault() -> None:
    """Else a defective item is refused on day 2 while a changed mind is taken back."""
    assert problems(**{"returns.markets.CN.reasons": {"defective": "3 days"}}) == \
        ["cn.fault_return_7d"]
    assert problems(**{"returns.markets.CN.reasons": {"defective": "7 days"}}) == []
    found = check_law(book(**{"returns.markets.CN": DELETE, "returns.default.fault": "0 days"}))
    assert [(p.rule, p.where) for p in found] == [("cn.fault_return_7d", "returns.default.fault")]
    assert "Consumer Rights and Interests Protection Law art. 24" in found[0].message


def test_a_member_states_own_entry_is_checked_and_wins_over_the_eu_one() -> None:
    assert problems(**{"returns.markets.DE": {"no_fault": "10 days", "fault": "2 years"}}) == \
        ["eu.withdrawal_14d"]
    assert problems(**{"returns.markets.EU.no_fault": "10 days",
                       "returns.markets.DE": {"no_fault": "14 days", "fault": "2 years"}}) == \
        ["eu.withdrawal_14d"]


def test_without_an_eu_entry_the_default_must_keep_the_eu_floors() -> None:
    found = check_law(book(**{"returns.markets.EU": DELETE, "returns.default.no_fault":
                              "10 days"}))
    eu = [p for p in found if p.rule == "eu.withdrawal_14d"]
    assert len(eu) == 1 and eu[0].where == "returns.default.no_fault"
    assert "(applies to AT, BE" in eu[0].message


def test_without_a_cn_entry_the_default_must_keep_chinas_customs_clock() -> None:
    """The default applies to CN when it has no entry of its own, cross-border clocks included:
    40 and 60 days there were accepted and enforced, while under returns.markets.CN they were
    refused."""
    found = check_law(book(**{"returns.markets.CN": DELETE,
                              "returns.default.cross_border": "40 days",
                              "returns.default.bonded_return": "60 days"}))
    assert [(p.rule, p.where) for p in found] == [
        ("cn.customs_clock", "returns.default.cross_border"),
        ("cn.customs_clock", "returns.default.bonded_return")]
    assert found[0].message.startswith("returns.default.cross_border (applies to CN): 40 days "
                                       "is longer than the CN cross-border customs clock")
    assert found[0].message.endswith("allows: at most 30 days")
    assert found[1].message.endswith("allows: at most 45 days")
    assert "GACC Announcement No. 194 of 2018" in found[1].message


@pytest.mark.parametrize(("clocks", "rule"), [
    ({"cross_border": "31 days"}, "cn.customs_clock"),
    ({"bonded_return": "46 days"}, "cn.customs_clock"),
    ({"cross_border": "30 days", "bonded_return": "29 days"}, "cn.customs_clock"),
    ({"cross_border": "6 days"}, "cn.no_reason_7d"),
])
def test_the_customs_clock_is_checked_where_it_applies(clocks: dict[str, str],
                                                       rule: str) -> None:
    through_default = {f"returns.default.{name}": value for name, value in clocks.items()}
    assert rule in problems(**{"returns.markets.CN": DELETE, **through_default})
    # with an entry of its own, CN has that entry's clocks (the built-in ones when it sets
    # none): the default's then apply to no market
    assert problems(**through_default) == []


def test_the_clock_the_floor_checks_is_the_one_the_engine_applies() -> None:
    lawful_book = book(**{"returns.markets.CN": DELETE, "returns.default.cross_border": "20 days",
                          "returns.default.bonded_return": "40 days"})
    assert check_law(lawful_book) == []
    windows = eligibility_v3(lawful_book).windows("CN")
    assert (windows.cross_border, windows.bonded_return) == (days(20), days(40))


@pytest.mark.parametrize(("market", "path", "short", "rule"), [
    ("EU", "returns.default.no_fault", "13 days", "eu.withdrawal_14d"),
    ("EU", "returns.default.fault", "1 year", "eu.legal_guarantee_2y"),
    ("GB", "returns.default.no_fault", "13 days", "uk.cancellation_14d"),
    ("GB", "returns.default.fault", "29 days", "uk.right_to_reject_30d"),
    ("CN", "returns.default.no_fault", "6 days", "cn.no_reason_7d"),
    ("CN", "returns.default.fault", "6 days", "cn.fault_return_7d"),
    ("CN", "returns.default.cross_border", "31 days", "cn.customs_clock"),
    ("CN", "returns.default.bonded_return", "46 days", "cn.customs_clock"),
])
def test_every_markets_floor_holds_for_the_default_when_the_market_has_no_entry(
        market: str, path: str, short: str, rule: str) -> None:
    found = check_law(book(**{f"returns.markets.{market}": DELETE, path: short}))
    assert (rule, path) in [(p.rule, p.where) for p in found]


@pytest.mark.parametrize(("market", "rule"), [("EU", "eu.refund_14d"), ("GB", "uk.refund_14d"),
                                              ("CN", "cn.refund_7d")])
def test_every_markets_refund_limit_holds_for_the_default_when_the_market_has_no_entry(
        market: str, rule: str) -> None:
    found = check_law(book(**{f"refunds.markets.{market}": DELETE,
                              "refunds.default": {"days": 15}}))
    assert (rule, "refunds.default") in [(p.rule, p.where) for p in found]


def test_regulated_markets_refund_in_calendar_days_not_working_days() -> None:
    assert "eu.refund_14d" in problems(**{"refunds.markets.EU": {"working_days": 10}})
    assert problems(**{"refunds.markets.US": {"working_days": 10}}) == []


def test_the_buyer_pays_return_postage_in_the_eu_and_uk_only_if_told_beforehand() -> None:
    assert problems(**{"return_shipping.markets.EU": "buyer"}) == ["eu.return_cost_informed"]
    assert problems(**{"return_shipping.markets": {}, "return_shipping.default": "buyer"}) == \
        ["eu.return_cost_informed", "uk.return_cost_informed"]
    assert problems(**{"return_shipping.default": "merchant", "return_shipping.markets": {}}) \
        == []


def test_merchant_policy_markets_have_no_floor() -> None:
    assert problems(**{"returns.markets.US": {"no_fault": "0 days", "fault": "10 days"},
                       "returns.default": {"no_fault": "0 days", "fault": "7 days"},
                       "refunds.default": {"working_days": 20}}) == []


def test_the_refusal_names_each_rule_the_law_and_the_field() -> None:
    with pytest.raises(UnlawfulBookError) as error:
        lawful(book(**{"returns.markets.EU.no_fault": "10 days",
                       "returns.markets.GB.fault": "20 days"}))
    message = str(error.value)
    assert "2 places" in message
    assert "returns.markets.EU.no_fault" in message and "EU 14-day right of withdrawal" in \
        message and "Directive 2011/83/EU art. 9" in message
    assert "returns.markets.GB.fault: 20 days is shorter than the UK 30-day short-term right " \
           "to reject (Consumer Rights Act 2015 s. 22)" in message


@pytest.mark.parametrize(("market", "other", "rule"), [
    ("DE", "Pacific/Kiritimati", "eu.buyer_zone"),  # UTC+14: the day ends 13 hours sooner
    ("DE", "Europe/Kaliningrad", "eu.buyer_zone"),  # UTC+2 all year: sooner in winter
    ("PT", "Europe/Lisbon", "eu.buyer_zone"),  # the built-in zone is the Azores'
    ("GB", "Africa/Lagos", "uk.buyer_zone"),  # UTC+1 all year: as London in summer only
    ("CN", "Asia/Tokyo", "cn.buyer_zone"),
    # days that end later move an event near midnight to the day before
    ("DE", "Europe/London", "eu.buyer_zone"), ("DE", "America/New_York", "eu.buyer_zone"),
    ("GB", "Atlantic/Azores", "uk.buyer_zone"), ("CN", "Asia/Kolkata", "cn.buyer_zone"),
    ("FR", "Etc/GMT+12", "eu.buyer_zone"),
])
def test_a_buyer_zone_that_counts_days_otherwise_than_the_markets_own_is_refused(
        market: str, other: str, rule: str) -> None:
    assert problems(**{"buyer_zones": {market: other}}) == [rule]


@pytest.mark.parametrize(("market", "same"), [
    ("DE", "Europe/Berlin"), ("DE", "Europe/Paris"), ("DE", "Europe/Amsterdam"),
    ("GB", "Europe/Jersey"), ("GB", "Europe/Isle_of_Man"), ("CN", "Asia/Hong_Kong"),
    ("CN", "Asia/Chongqing"), ("PT", "Atlantic/Azores"),
])
def test_a_buyer_zone_with_the_markets_offset_on_every_day_is_allowed(market: str,
                                                                       same: str) -> None:
    assert problems(**{"buyer_zones": {market: same}}) == []


def test_a_zone_whose_days_end_later_would_still_shorten_a_period() -> None:
    """Why the floor wants the same days, not later ones: a delivery at 00:30 in Berlin is the
    evening before in New York, so 14 days counted there end 18 hours before Berlin's count."""
    delivered = datetime(2026, 6, 2, 0, 30, tzinfo=zone("Europe/Berlin"))
    berlin = end_of_day(local_day(delivered, zone("Europe/Berlin")) + timedelta(days=14),
                        zone("Europe/Berlin"))
    new_york = end_of_day(local_day(delivered, zone("America/New_York")) + timedelta(days=14),
                          zone("America/New_York"))
    assert new_york == berlin - timedelta(hours=18)


def test_merchant_policy_markets_may_take_any_buyer_zone() -> None:
    assert problems(**{"buyer_zones": {"US": "Pacific/Kiritimati",
                                       "BR": "Asia/Tokyo"}}) == []


def test_the_zone_refusal_names_the_market_the_zone_and_the_law() -> None:
    with pytest.raises(UnlawfulBookError) as error:
        lawful(book(**{"buyer_zones": {"DE": "Pacific/Kiritimati"}}))
    message = str(error.value)
    assert "buyer_zones.DE: Pacific/Kiritimati does not count calendar days as Europe/Berlin, " \
           "the built-in zone of DE" in message
    assert "ends at 2015-01-01 10:00 UTC there, before 2015-01-01 23:00 UTC in Europe/Berlin" \
        in message
    assert "Regulation (EEC, Euratom) No 1182/71 art. 3" in message


ZONES = sorted(z for z in available_timezones()
               if z.startswith(("Europe/", "Asia/", "Africa/", "Atlantic/", "Pacific/", "Etc/")))
MARKETS = sorted({*EU_MARKETS, "GB", "CN"})


@settings(max_examples=200, deadline=None)
@given(market=st.sampled_from(MARKETS), chosen=st.sampled_from(ZONES),
       moment=st.datetimes(min_value=datetime(2015, 1, 2), max_value=datetime(2064, 12, 1),
                           timezones=st.just(UTC)), length=st.integers(0, 60))
def test_an_allowed_buyer_zone_never_shortens_a_period(
        market: str, chosen: str, moment: datetime, length: int) -> None:
    """Against the calendar itself: N days from any moment end no sooner in a zone the floor
    lets through than in the market's own; a refused one ends the day it names otherwise."""
    refused = problems(**{"buyer_zones": {market: chosen}})
    mine, builtin = zone(chosen), zone(MARKET_ZONES[market])
    if not refused:
        assert end_of_day(local_day(moment, mine) + timedelta(days=length), mine) >= \
            end_of_day(local_day(moment, builtin) + timedelta(days=length), builtin)
    else:
        named = first_other_day(chosen, MARKET_ZONES[market])
        assert named is not None
        assert end_of_day(named[0], mine) != end_of_day(named[0], builtin)


def test_a_buyer_zone_for_the_eu_group_is_refused_not_ignored() -> None:
    """Windows and refund terms take an EU entry for every member state; a zone cannot (the
    member states span several), and an EU zone was accepted and silently never applied."""
    with pytest.raises(InvalidBookError) as error:
        book(**{"buyer_zones": {"EU": "Europe/Berlin"}})
    assert "buyer_zones.EU: a buyer zone is set per market" in str(error.value)
