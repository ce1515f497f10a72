"""Weekly series and the weeks where a rate left its normal range (method: stats.control)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from projections.insights.stats import Rate, control

LOOKBACK_WEEKS = 8  # the reference period: the 8 calendar weeks before the week


def weekly(points: Sequence[tuple[str, int, int]], per: int = 100,
           maturing_from: str | None = None) -> list[dict[str, Any]]:
    """Rows (week, rate, normal_low, normal_high, flag) for (week Monday, k, n) points.

    Each week is judged against the pooled rate of the LOOKBACK_WEEKS calendar weeks before it
    (at least 4 with data and 30 trials). Weeks on or after ``maturing_from`` (a Monday) are not
    judged: their cases are still coming in (returns arrive weeks after delivery)."""
    by_week = {week: (k, n) for week, k, n in points}
    rows = []
    for week in sorted(by_week):
        k, n = by_week[week]
        monday = date.fromisoformat(week)
        history = [by_week.get((monday - timedelta(weeks=i)).isoformat(), (0, 0))
                   for i in range(1, LOOKBACK_WEEKS + 1)]
        if maturing_from is not None and week >= maturing_from:
            rows.append({"week": week, "rate": Rate(k, n, per), "normal_low": None,
                         "normal_high": None, "flag": "maturing"})
            continue
        judged = control(k, n, history)
        scale = float(per)
        rows.append({"week": week, "rate": Rate(k, n, per),
                     "normal_low": None if judged.low is None else judged.low * scale,
                     "normal_high": None if judged.high is None else judged.high * scale,
                     "flag": judged.flag})
    return rows


def maturing_from(latest: str | None, days: int) -> str | None:
    """The Monday of the first week that ends less than ``days`` before ``latest`` (a UTC ISO
    time): weeks from then on are still maturing."""
    if latest is None:
        return None
    cut = date.fromisoformat(latest[:10]) - timedelta(days=days)
    # a week is mature when its Sunday is on or before the cut
    first_immature = cut - timedelta(days=cut.weekday())
    if cut.weekday() == 6:
        first_immature += timedelta(weeks=1)
    return first_immature.isoformat()
