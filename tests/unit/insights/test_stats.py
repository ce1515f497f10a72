"""The statistics behind the insights, against textbook values and exact rational arithmetic."""

from __future__ import annotations

from fractions import Fraction
from math import comb

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projections.insights.stats import (
    Rate,
    benjamini_hochberg,
    binomial_cdf,
    binomial_sf,
    control,
    normal_range,
    percentile,
    wilson,
)


def exact_sf(k: int, n: int, p: Fraction) -> float:
    return float(sum(comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(max(k, 0), n + 1)))


def reference_bh(pvalues: list[float]) -> list[float]:
    """Benjamini-Hochberg by its definition: q_i = min over j with p_j >= p_i of p_j m / rank_j."""
    m = len(pvalues)
    ranked = sorted(pvalues)
    out = []
    for p in pvalues:
        candidates = [ranked[j] * m / (j + 1) for j in range(m) if ranked[j] >= p]
        out.append(min(1.0, min(candidates)))
    return out


def test_wilson_interval_matches_the_textbook_values() -> None:
    # Newcombe (1998), Table I: 81/263 -> 0.2553 to 0.3662; 15/148 -> 0.0624 to 0.1605
    assert wilson(81, 263) == pytest.approx((0.2553, 0.3662), abs=5e-5)
    assert wilson(15, 148) == pytest.approx((0.0624, 0.1605), abs=5e-5)
    assert wilson(0, 20) == pytest.approx((0.0, 0.1611), abs=5e-5)
    assert wilson(0, 0) == (0.0, 1.0)


@given(st.integers(0, 500), st.integers(0, 500))
def test_a_rate_and_its_interval_never_leave_0_to_100_percent(k: int, extra: int) -> None:
    rate = Rate(k, k + extra)
    low, high = rate.interval
    assert 0.0 <= low <= high <= 1.0
    if rate.value is not None:
        assert low <= rate.value <= high <= 1.0


def test_a_rate_above_100_percent_cannot_be_made() -> None:
    with pytest.raises(ValueError, match="0 <= k <= n"):
        Rate(3, 2)  # the CZ report of old: 3 returns on 2 orders
    with pytest.raises(ValueError):
        Rate(-1, 5)


def test_small_support_shows_counts_and_interval_large_support_shows_n() -> None:
    assert Rate(5, 5).text() == "5/5 = 100.0 % (95 % CI 56.6-100.0)"
    assert Rate(29, 29).text().startswith("29/29 = ")
    assert Rate(30, 30).text() == "100.0 % [88.6-100.0] (n=30)"
    assert Rate(3, 2000, 1000).text() == "1.5 per 1,000 [0.5-4.4] (n=2,000)"
    assert Rate(0, 0).text() == "n/a (n=0)"
    assert Rate(1, 4).as_json() == {"k": 1, "n": 4, "rate": 25.0, "low": 4.559,
                                    "high": 69.936, "per": 100}


@settings(max_examples=300)
@given(st.integers(0, 120), st.integers(0, 120), st.fractions(0, 1, max_denominator=1000))
def test_binomial_tails_equal_exact_rational_sums(k: int, n: int, p: Fraction) -> None:
    sf = binomial_sf(k, n, float(p))
    assert sf == pytest.approx(exact_sf(k, n, p), rel=1e-9, abs=1e-300)
    assert binomial_cdf(k, n, float(p)) == pytest.approx(1 - exact_sf(k + 1, n, p),
                                                         rel=1e-9, abs=1e-12)


def test_binomial_tail_at_the_edges() -> None:
    assert binomial_sf(0, 10, 0.3) == 1.0
    assert binomial_sf(11, 10, 0.3) == 0.0
    assert binomial_sf(1, 10, 0.0) == 0.0
    assert binomial_sf(10, 10, 1.0) == 1.0
    assert binomial_sf(3, 20, 0.016) == pytest.approx(0.0038082152158704, rel=1e-12)


@settings(max_examples=200)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=40))
def test_benjamini_hochberg_equals_its_definition(pvalues: list[float]) -> None:
    assert benjamini_hochberg(pvalues) == pytest.approx(reference_bh(pvalues), abs=1e-12)


@given(st.lists(st.floats(0, 1), min_size=1, max_size=40))
def test_q_values_keep_the_order_of_p_values_and_are_never_smaller(pvalues: list[float]
                                                                   ) -> None:
    q = benjamini_hochberg(pvalues)
    for i, p_i in enumerate(pvalues):
        assert q[i] >= p_i
        for j, p_j in enumerate(pvalues):
            if p_i < p_j:
                assert q[i] <= q[j]


def test_benjamini_hochberg_on_the_classic_example() -> None:
    # Benjamini & Hochberg (1995): 15 p-values, 4 rejected at q = 0.05
    pvalues = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459,
               0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.000]
    assert sum(q <= 0.05 for q in benjamini_hochberg(pvalues)) == 4


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 0.5) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0
    assert percentile([float(i) for i in range(1, 11)], 0.9) == 9.0


def test_a_week_far_above_its_history_is_flagged_and_an_ordinary_one_is_not() -> None:
    history = [(5, 100)] * 8
    assert control(5, 100, history).flag == ""
    assert control(20, 100, history).flag == "above"
    assert control(0, 400, history).flag == "below"
    judged = control(5, 100, history)
    assert judged.low is not None and judged.high is not None
    assert judged.low <= 0.05 <= judged.high


def test_the_normal_range_is_the_central_band_of_the_binomial() -> None:
    low, high = normal_range(100, 0.05)
    assert binomial_sf(high, 100, 0.05) >= 0.00135 > binomial_sf(high + 1, 100, 0.05)
    assert binomial_cdf(low, 100, 0.05) >= 0.00135 > binomial_cdf(low - 1, 100, 0.05)
    flagged_at = control(high + 1, 100, [(5, 100)] * 8)
    inside = control(high, 100, [(5, 100)] * 8)
    assert inside.flag == "" and flagged_at.flag == "above"


def test_no_flag_without_enough_history() -> None:
    assert control(50, 100, [(1, 100)] * 3).flag == "no baseline"  # 3 weeks of 4
    assert control(5, 10, [(0, 7)] * 4).flag == "no baseline"  # 28 trials of 30
    assert control(5, 10, [(0, 8)] * 4).flag == "above"  # 32 trials; zeros are no certainty
    assert control(0, 0, [(5, 100)] * 8).flag == "no baseline"
