"""Reporting periods (UTC weeks and months) and weekly series with their flags."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from projections.insights.periods import month_of, since_bound, week_of
from projections.insights.stats import Rate
from projections.insights.trends import maturing_from, weekly


def test_weeks_start_on_monday_in_utc_whatever_the_buyers_offset() -> None:
    assert week_of("2026-03-01T23:59:59+00:00") == "2026-02-23"  # Sunday
    assert week_of("2026-03-02T00:00:00+00:00") == "2026-03-02"  # Monday
    # Sunday 22:00 in São Paulo is Monday 01:00 UTC: the next week
    assert week_of("2026-03-01T22:00:00-03:00") == "2026-03-02"
    assert month_of("2026-03-31T22:30:00-03:00") == "2026-04"
    with pytest.raises(ValueError, match="offset"):
        week_of("2026-03-01T10:00:00")


def test_since_takes_a_date_as_utc_midnight_or_an_aware_time() -> None:
    assert since_bound("2011-01-01") == "2011-01-01T00:00:00+00:00"
    assert since_bound("2011-01-01T02:00:00+02:00") == "2011-01-01T00:00:00+00:00"
    assert since_bound(None) is None
    assert since_bound("2011-01-01T02:00:00.5Z") == "2011-01-01T02:00:00.500000+00:00"
    for bad in ("2011-13-01", "yesterday", "2011-01-01T02:00:00", "0000-01-01"):
        with pytest.raises(ValueError):
            since_bound(bad)


@pytest.mark.parametrize(("bad", "said"), [
    ("20261201", "times must be RFC 3339 strings with an offset"),  # compact ISO 8601
    ("2026-12-01T10:00:00", "times must be RFC 3339 strings with an offset"),
    ("2026-12-01 10:00:00+00:00", "times must be RFC 3339 strings with an offset"),
    ("2026-12-01T10:00+00:00", "times must be RFC 3339 strings with an offset"),
    ("1764590000", "times must be RFC 3339 strings with an offset"),
    ("2026-W48", "times must be RFC 3339 strings with an offset"),
    ("2011-13-01", "'2011-13-01' is not a day of the calendar (YYYY-MM-DD)"),
    ("2026-02-30", "'2026-02-30' is not a day of the calendar (YYYY-MM-DD)"),
    ("1969-12-31", "outside the supported range 1970-01-01T00:00:00Z to 2199-12-31T23:59:59Z"),
    ("2200-01-01T00:00:00+00:00", "outside the supported range"),
])
def test_since_follows_the_time_rules_of_messages_in_the_projects_words(bad: str, said: str
                                                                        ) -> None:
    with pytest.raises(ValueError) as caught:
        since_bound(bad)
    assert said in str(caught.value)
    assert "must be in" not in str(caught.value)  # not Python's own "month must be in 1..12"


def test_weeks_that_end_less_than_the_maturity_before_the_latest_time_are_maturing() -> None:
    # latest Wednesday 2026-03-25; 30 days before is Monday 2026-02-23: the week of
    # 2026-02-16 ended on the 22nd (mature), the week of the 23rd has not
    assert maturing_from("2026-03-25T10:00:00+00:00", 30) == "2026-02-23"
    # 30 days before 2026-03-23 is Sunday 2026-02-22: the week of the 16th ends that day
    assert maturing_from("2026-03-24T10:00:00+00:00", 30) == "2026-02-23"
    assert maturing_from(None, 30) is None


def series(start: date, counts: list[tuple[int, int]]) -> list[tuple[str, int, int]]:
    return [((start + timedelta(weeks=i)).isoformat(), k, n) for i, (k, n) in enumerate(counts)]


def test_a_jump_after_eight_normal_weeks_is_flagged_and_maturing_weeks_are_not() -> None:
    start = date(2026, 1, 5)
    points = series(start, [(5, 100)] * 8 + [(25, 100), (25, 100)])
    rows = weekly(points, maturing_from=(start + timedelta(weeks=9)).isoformat())
    assert [r["flag"] for r in rows[:4]] == ["no baseline"] * 4
    assert all(r["flag"] == "" for r in rows[4:8])
    assert rows[8]["flag"] == "above" and rows[8]["rate"] == Rate(25, 100)
    assert rows[9]["flag"] == "maturing" and rows[9]["normal_high"] is None


def test_the_reference_is_the_eight_calendar_weeks_before_not_the_last_eight_with_data() -> None:
    start = date(2026, 1, 5)
    old = series(start, [(50, 100)] * 8)  # a bad period long ago
    later = series(start + timedelta(weeks=20), [(5, 100)] * 5)
    rows = weekly(old + later)
    assert rows[8]["flag"] == "no baseline"  # its 8 weeks before hold no data
    assert rows[-1]["flag"] == ""  # judged on the 4 weeks at 5 %, not on the 50 % ones


def test_weekly_rates_are_scaled_per_thousand_when_asked() -> None:
    rows = weekly(series(date(2026, 1, 5), [(1, 1000)]), per=1000)
    assert rows[0]["rate"] == Rate(1, 1000, 1000)
    assert datetime.fromisoformat(rows[0]["week"] + "T00:00:00+00:00").weekday() == 0
