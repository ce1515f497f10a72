"""Lengths of time as books write them, and comparing them with the law's minimums for every
start date (a leap day included)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales_core.policies.periods import Length, days, years


@pytest.mark.parametrize(("text", "length"), [
    ("14 days", days(14)), ("1 day", days(1)), ("0 days", days(0)), ("2 years", years(2)),
    ("1 year", years(1)), (" 30 days ", days(30)), ("3660 days", days(3660)),
])
def test_a_length_reads_days_or_years(text: str, length: Length) -> None:
    assert Length.parse(text) == length


@pytest.mark.parametrize("text", ["14", "14d", "two weeks", "-1 days", "3661 days", "0 years",
                                  "11 years", "14 days 2 years", "1.5 days", "",
                                  "\u0661\u0664 days"])
def test_anything_else_is_refused_naming_it(text: str) -> None:
    with pytest.raises(ValueError, match=r"period|years|days"):
        Length.parse(text)


def test_it_prints_as_it_is_written() -> None:
    assert [str(x) for x in (days(1), days(14), years(1), years(2))] == \
        ["1 day", "14 days", "1 year", "2 years"]


def test_730_days_do_not_always_cover_two_years_but_731_do() -> None:
    assert not days(730).always_covers(years(2))
    assert days(731).always_covers(years(2))
    assert years(2).always_covers(years(2)) and not years(1).always_covers(years(2))
    assert years(1).always_covers(days(365)) and not years(1).always_covers(days(366))


def test_day_n_against_day_n_plus_one() -> None:
    assert days(14).always_covers(days(14)) and not days(13).always_covers(days(14))
    assert days(30).never_exceeds(days(30)) and not days(31).never_exceeds(days(30))


@given(st.integers(0, 3660), st.integers(0, 3660))
def test_covering_days_is_comparing_them(a: int, b: int) -> None:
    assert days(a).always_covers(days(b)) == (a >= b)
