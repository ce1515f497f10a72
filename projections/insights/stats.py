"""The statistics the insights rest on: rates with their support and Wilson interval, exact
binomial tails, Benjamini-Hochberg q-values and the normal range of a weekly rate.

Pure functions of integers and floats: no I/O, no clock. Defined once here and documented in
the README ("Insights: how the numbers are made")."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Z95 = 1.959963984540054  # two-sided 95 %
SMALL_N = 30  # below this support a rate is shown as k/n with its interval, never bare
CONTROL_TAIL = 0.00135  # one-sided tail of a 3-sigma control limit


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of k successes in n trials (0..1; (0, 1) when n is 0)."""
    if n <= 0:
        return 0.0, 1.0
    if not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    p = k / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True)
class Rate:
    """k of n, never above 100 %: its value, its support n and its 95 % Wilson interval.

    ``per`` is how it is shown: 100 (a percentage) or 1000 (per 1,000, e.g. lost parcels)."""

    k: int
    n: int
    per: int = 100

    def __post_init__(self) -> None:
        if self.n < 0 or not 0 <= self.k <= max(self.n, 0):
            raise ValueError(f"a rate needs 0 <= k <= n, got {self.k} of {self.n}")

    @property
    def value(self) -> float | None:
        return self.k / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.k, self.n)

    @property
    def unit(self) -> str:
        return "%" if self.per == 100 else f"per {self.per:,}"

    def as_json(self) -> dict[str, Any]:
        """{k, n, rate, low, high, per}: the rate and its 95 % bounds per 100 (or per 1,000)."""
        low, high = self.interval
        value = self.value
        return {"k": self.k, "n": self.n,
                "rate": None if value is None else round(value * self.per, 3),
                "low": None if not self.n else round(low * self.per, 3),
                "high": None if not self.n else round(high * self.per, 3), "per": self.per}

    def text(self) -> str:
        """'12.3 % (n=1,234)'; below SMALL_N '3/5 = 60.0 % (95 % CI 23.1-88.2 %)'."""
        if not self.n:
            return "n/a (n=0)"
        figures = self.as_json()
        if self.n < SMALL_N:
            return (f"{self.k}/{self.n} = {figures['rate']:.1f} {self.unit} "
                    f"(95 % CI {figures['low']:.1f}-{figures['high']:.1f})")
        return (f"{figures['rate']:.1f} {self.unit} [{figures['low']:.1f}-"
                f"{figures['high']:.1f}] (n={self.n:,})")


def percentile(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank percentile (q in 0..1: the smallest value with at least q of all values
    at or below it), unrounded (JSON, CSV and the API carry 6 decimals, ``machine_float``;
    tables round); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(q * len(ordered))))
    return float(ordered[rank - 1])


def _beta_fraction(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny, eps = 1e-300, 1e-15
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < eps:
            return h
    raise ArithmeticError(f"incomplete beta did not converge for a={a}, b={b}, x={x}")


def regularized_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b) for a, b > 0 and 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_fraction(a, b, x) / a
    return 1.0 - front * _beta_fraction(b, a, 1.0 - x) / b


def binomial_sf(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p): the exact one-sided p-value of k or more."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    return min(1.0, max(0.0, regularized_beta(k, n - k + 1, p)))


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p)."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    return min(1.0, max(0.0, 1.0 - binomial_sf(k + 1, n, p))) if p < 0.5 else \
        binomial_sf(n - k, n, 1.0 - p)


def benjamini_hochberg(pvalues: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q-values), in the order given.

    Rejecting every hypothesis with q <= alpha keeps the expected share of false discoveries
    among the rejections at or below alpha (independent or positively dependent tests)."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: (pvalues[i], i))
    adjusted = [1.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        index = order[rank - 1]
        running = min(running, pvalues[index] * (m / rank))
        adjusted[index] = min(1.0, running)
    return adjusted


@dataclass(frozen=True)
class Control:
    """Where a week's k of n falls against its normal range (from the weeks before it)."""

    baseline: float | None  # the pooled rate of the reference weeks (None: too little history)
    low: float | None  # the normal range of the rate at this week's n
    high: float | None
    flag: str  # "above", "below", "" (inside) or "no baseline"


def control(k: int, n: int, history: Sequence[tuple[int, int]], min_weeks: int = 4,
            min_support: int = 30, tail: float = CONTROL_TAIL) -> Control:
    """Is this week's rate outside its normal range?

    The baseline is the pooled rate of the reference weeks, (K + 1/2) / (N + 1) (a Jeffreys-style
    correction so that a history of zeros does not make every event an alarm). The normal range
    is the central 1 - 2·tail of Binomial(n, baseline): the week is flagged "above" when
    P(X >= k) < tail, "below" when P(X <= k) < tail, with exact binomial tails (a p-chart with
    3-sigma limits that holds at small n)."""
    weeks = [(hk, hn) for hk, hn in history if hn > 0]
    big_k, big_n = sum(w[0] for w in weeks), sum(w[1] for w in weeks)
    if n <= 0 or len(weeks) < min_weeks or big_n < min_support:
        return Control(None, None, None, "no baseline")
    baseline = (big_k + 0.5) / (big_n + 1.0)
    low_count, high_count = normal_range(n, baseline, tail)
    flag = ""
    if binomial_sf(k, n, baseline) < tail:
        flag = "above"
    elif binomial_cdf(k, n, baseline) < tail:
        flag = "below"
    return Control(baseline, low_count / n, high_count / n, flag)


def normal_range(n: int, p: float, tail: float = CONTROL_TAIL) -> tuple[int, int]:
    """(lowest, highest) count not flagged: P(X <= lowest - 1) < tail <= P(X <= lowest), and
    P(X >= highest + 1) < tail <= P(X >= highest)."""
    low, high = 0, n
    lo, hi = 0, n  # smallest k with cdf(k) >= tail
    while lo < hi:
        mid = (lo + hi) // 2
        if binomial_cdf(mid, n, p) >= tail:
            hi = mid
        else:
            lo = mid + 1
    low = lo
    lo, hi = 0, n  # largest k with sf(k) >= tail
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if binomial_sf(mid, n, p) >= tail:
            lo = mid
        else:
            hi = mid - 1
    high = lo
    return low, high
