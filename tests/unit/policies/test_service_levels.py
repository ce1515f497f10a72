"""The clocks service levels run on: calendar hours, or the desk's business hours in the
market's calendar (working days, public holidays, closed days), stopped while waiting on the
customer."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales_core.policies.service_levels import MarketCalendar, NoOpenHoursError, due_after

SHANGHAI = ZoneInfo("Asia/Shanghai")
DESK = MarketCalendar(zone="Asia/Shanghai", opens=time(9), closes=time(18))


def cn(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def test_calendar_hours_run_around_the_clock() -> None:
    start = datetime(2026, 1, 2, 23, 0, tzinfo=UTC)
    assert due_after(start, 24, "calendar", DESK, "CN") == start + timedelta(hours=24)


def test_business_hours_start_at_opening_and_stop_at_closing() -> None:
    # filed Monday 2026-03-02 at 07:00 (before opening): 9 business hours end at 18:00
    assert due_after(cn("2026-03-02 07:00"), 9, "business", DESK, "CN") == cn("2026-03-02 18:00")
    # filed at 17:00: one hour that day, the rest from Tuesday 09:00
    assert due_after(cn("2026-03-02 17:00"), 4, "business", DESK, "CN") == cn("2026-03-03 12:00")


def test_a_weekend_does_not_count() -> None:
    # Friday 2026-03-06 16:00 + 4 business hours: 2 on Friday, 2 on Monday
    assert due_after(cn("2026-03-06 16:00"), 4, "business", DESK, "CN") == cn("2026-03-09 11:00")


def test_chinas_public_holidays_and_swapped_working_weekends_count_as_the_law_says() -> None:
    # National Day 2026: 1 to 7 October off; Saturday 10 October is a working day
    start = cn("2026-09-30 17:00")
    assert due_after(start, 2, "business", DESK, "CN") == cn("2026-10-08 10:00")
    assert DESK.is_working_day(date(2026, 10, 10), "CN")
    assert not DESK.is_working_day(date(2026, 10, 1), "CN")
    assert DESK.why_off(date(2026, 10, 1), "CN") == "National Day"


def test_the_merchants_own_closed_and_open_days_win() -> None:
    desk = MarketCalendar(zone="Europe/Berlin", closed=frozenset({date(2026, 12, 24)}),
                          open=frozenset({date(2026, 12, 26)}))
    assert not desk.is_working_day(date(2026, 12, 24), "DE")  # a Thursday
    assert desk.is_working_day(date(2026, 12, 26), "DE")  # a Saturday and a holiday
    assert desk.why_off(date(2026, 12, 24), "DE") == "closed by the merchant"


def test_an_explicit_working_week_replaces_the_markets_but_keeps_its_holidays() -> None:
    six_days = MarketCalendar(zone="Europe/Berlin",
                              working_days=("mon", "tue", "wed", "thu", "fri", "sat"))
    assert six_days.is_working_day(date(2026, 3, 7), "DE")  # a Saturday
    assert not six_days.is_working_day(date(2026, 12, 26), "DE")  # Boxing Day, a Saturday
    no_holidays = MarketCalendar(public_holidays=False)
    assert no_holidays.is_working_day(date(2026, 12, 25), "DE")


def test_business_hours_follow_daylight_saving_time() -> None:
    desk = MarketCalendar(zone="Europe/Berlin")
    # Friday 27 March 2026 17:00 CET; clocks go forward on Sunday 29 March
    due = due_after(datetime(2026, 3, 27, 16, 0, tzinfo=UTC), 2, "business", desk, "DE")
    assert due == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # Monday 10:00 CEST


def test_a_pause_stops_the_clock_and_only_the_part_after_the_start_counts() -> None:
    start = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    pauses = [(start - timedelta(hours=5), start + timedelta(hours=2)),
              (start + timedelta(hours=10), start + timedelta(hours=13))]
    assert due_after(start, 24, "calendar", DESK, None, pauses) == start + timedelta(hours=29)


def test_a_pause_inside_business_hours_moves_the_due_time_by_its_business_part() -> None:
    start = cn("2026-03-02 09:00")
    pauses = [(cn("2026-03-02 12:00"), cn("2026-03-02 20:00"))]  # 6 business hours paused
    assert due_after(start, 9, "business", DESK, "CN", pauses) == cn("2026-03-03 15:00")


def test_a_calendar_without_open_hours_is_an_error_not_a_hang() -> None:
    closed = MarketCalendar(working_days=("sun",), public_holidays=False,
                            closed=frozenset(date(2026, 1, 4) + timedelta(weeks=w)
                                             for w in range(200)))
    with pytest.raises(NoOpenHoursError, match="no open hours"):
        due_after(datetime(2026, 1, 1, tzinfo=UTC), 1, "business", closed, "DE")


@given(st.integers(1, 200), st.integers(0, 24 * 14))
def test_business_hours_never_end_sooner_than_calendar_hours(hours: int, offset: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=offset)
    business = due_after(start, hours, "business", DESK, "CN")
    assert business >= due_after(start, hours, "calendar", DESK, "CN")
    local = business.astimezone(SHANGHAI)
    assert time(9) < local.time() <= time(18)
