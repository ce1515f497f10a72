"""Counting days as the law does: whole calendar days in the buyer's zone, the end of the last
day across daylight-saving changes, years that land on 29 February, and working days that skip
the market's public holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales_core.errors import InvalidCommandError
from aftersales_core.policies.calendar import (
    ANYWHERE_ON_EARTH,
    MARKET_ZONES,
    buyer_zone,
    calendar_period,
    end_of_day,
    is_working_day,
    is_zone,
    working_period,
    zone,
)
from aftersales_core.policies.vocabulary import EU_MARKETS


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


BERLIN = buyer_zone(None, "DE")


def test_a_14_day_period_from_a_delivery_at_any_hour_ends_at_the_end_of_day_14() -> None:
    for hour in ("00:00:00", "10:00:00", "21:59:59"):  # all on 1 June in Berlin
        period = calendar_period(moment(f"2026-06-01T{hour}+00:00"), BERLIN, days=14)
        assert period.last_day == date(2026, 6, 15)
        assert period.ends_at.isoformat() == "2026-06-15T23:59:59.999999+02:00"


def test_day_n_is_within_and_the_first_instant_of_day_n_plus_1_is_not() -> None:
    period = calendar_period(moment("2026-06-01T10:00:00+00:00"), BERLIN, days=14)
    assert period.contains(moment("2026-06-15T21:59:59.999999+00:00"))
    assert not period.contains(moment("2026-06-15T22:00:00+00:00"))  # 00:00, 16 June, Berlin


def test_the_local_date_counts_where_it_differs_from_the_utc_date() -> None:
    shanghai = buyer_zone(None, "CN")
    # 20:00 UTC on 5 January is already 6 January in Shanghai: the period runs from then
    period = calendar_period(moment("2026-01-05T20:00:00+00:00"), shanghai, days=7)
    assert period.last_day == date(2026, 1, 13)
    new_york = buyer_zone("America/New_York", "US")
    # 03:00 UTC on 6 January is still 5 January in New York
    assert calendar_period(moment("2026-01-06T03:00:00+00:00"), new_york,
                           days=7).last_day == date(2026, 1, 12)


@pytest.mark.parametrize(("day", "zone_name", "expected"), [
    ("2026-03-28", "Europe/Berlin", "2026-03-28T23:59:59.999999+01:00"),  # before spring fwd
    ("2026-03-29", "Europe/Berlin", "2026-03-29T23:59:59.999999+02:00"),  # the 23-hour day
    ("2026-10-25", "Europe/Berlin", "2026-10-25T23:59:59.999999+01:00"),  # the 25-hour day
    ("2026-03-08", "America/New_York", "2026-03-08T23:59:59.999999-04:00"),
    ("2026-09-05", "America/Santiago", "2026-09-05T23:59:59.999999-04:00"),  # next day at 01:00
    ("2026-04-05", "Australia/Lord_Howe", "2026-04-05T23:59:59.999999+10:30"),  # 30-min shift
])
def test_the_end_of_a_day_holds_across_daylight_saving_changes(day: str, zone_name: str,
                                                              expected: str) -> None:
    end = end_of_day(date.fromisoformat(day), zone(zone_name))
    assert end.isoformat() == expected
    after = end + timedelta(microseconds=1)
    assert after.astimezone(zone(zone_name)).date() == date.fromisoformat(day) + timedelta(days=1)


def test_a_period_across_the_spring_change_still_counts_whole_days() -> None:
    period = calendar_period(moment("2026-03-20T12:00:00+00:00"), BERLIN, days=14)
    assert period.last_day == date(2026, 4, 3)
    assert period.ends_at.utcoffset() == timedelta(hours=2)
    # 13:00 CET on 20 March to 23:59:59.999999 CEST on 3 April: 29 March had 23 hours
    assert period.ends_at - period.start == timedelta(days=14, hours=9, minutes=59, seconds=59,
                                                      microseconds=999999)


def test_a_period_in_years_from_29_february_ends_on_28_february() -> None:
    period = calendar_period(moment("2024-02-29T10:00:00+00:00"), BERLIN, years=2)
    assert period.last_day == date(2026, 2, 28)
    assert calendar_period(moment("2024-02-28T10:00:00+00:00"), BERLIN,
                           years=2).last_day == date(2026, 2, 28)


def test_the_zone_is_the_buyers_else_the_markets_else_anywhere_on_earth() -> None:
    assert buyer_zone("Asia/Tokyo", "DE").to_json() == {"zone": "Asia/Tokyo",
                                                        "zone_source": "buyer"}
    assert buyer_zone(None, "GB").to_json() == {"zone": "Europe/London", "zone_source": "market"}
    assert buyer_zone(None, "ZZ").to_json() == {"zone": ANYWHERE_ON_EARTH,
                                                "zone_source": "fallback"}


def test_every_eu_market_and_the_usual_import_markets_have_a_default_zone() -> None:
    assert set(MARKET_ZONES) >= EU_MARKETS
    assert {"CN", "HK", "JP", "KR", "SG", "AU", "CA", "US", "GB", "BR"} <= set(MARKET_ZONES)
    assert all(is_zone(name) for name in MARKET_ZONES.values())


@pytest.mark.parametrize("name", ["Mars/Olympus", "../../etc/passwd", "/etc/localtime",
                                  "europe/berlin", "", "Europe/Berlin\x00", "+08:00",
                                  "localtime", "Factory", "posixrules", "right/UTC",
                                  "posix/Europe/Berlin"])
def test_anything_but_an_iana_zone_name_is_refused(name: str) -> None:
    assert not is_zone(name)
    with pytest.raises(InvalidCommandError, match="IANA"):
        buyer_zone(name, "DE")


def test_us_working_days_skip_independence_day_and_record_it() -> None:
    new_york = buyer_zone("America/New_York", "US")
    counted = working_period(moment("2026-07-01T15:00:00+00:00"), 7, "US", new_york)
    assert counted.period.last_day == date(2026, 7, 13)
    assert counted.holidays_named() == ["2026-07-03 Independence Day (observed)",
                                        "2026-07-04 Independence Day"]


def test_china_working_days_skip_national_day_and_count_its_swapped_saturday() -> None:
    shanghai = buyer_zone(None, "CN")
    counted = working_period(moment("2026-09-28T02:00:00+00:00"), 7, "CN", shanghai)
    # 29, 30 Sep; 1-7 Oct off; 8, 9, Saturday 10 (a working day), 12, 13 Oct
    assert counted.period.last_day == date(2026, 10, 13)
    assert is_working_day(date(2026, 10, 10), "CN")
    assert not is_working_day(date(2026, 10, 1), "CN")


def test_a_market_without_a_holiday_calendar_skips_weekends_only() -> None:
    counted = working_period(moment("2026-01-02T12:00:00+00:00"), 1, "ZZ", buyer_zone(None, "ZZ"))
    assert counted.period.last_day == date(2026, 1, 5)  # Friday -> Monday
    assert [why for _, why in counted.skipped] == ["weekend", "weekend"]


@given(start=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 1, 1),
                          timezones=st.just(UTC)),
       days=st.integers(0, 400),
       zone_name=st.sampled_from(["Europe/Berlin", "Asia/Shanghai", "America/Santiago",
                                  "Pacific/Kiritimati", "Etc/GMT+12", "Australia/Lord_Howe"]))
def test_a_period_ends_on_the_last_instant_of_its_last_local_day(start: datetime, days: int,
                                                                 zone_name: str) -> None:
    where = buyer_zone(zone_name, "DE")
    period = calendar_period(start, where, days=days)
    local = zone(zone_name)
    assert period.last_day == start.astimezone(local).date() + timedelta(days=days)
    assert period.ends_at.astimezone(local).date() == period.last_day
    assert (period.ends_at + timedelta(microseconds=1)).astimezone(local).date() == \
        period.last_day + timedelta(days=1)
    assert period.contains(period.ends_at)
    assert not period.contains(period.ends_at + timedelta(microseconds=1))
