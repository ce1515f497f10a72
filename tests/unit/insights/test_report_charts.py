"""The report's charts show what the tables show: each rate with its 95 % interval and support
n, the weekly series with their interval and normal range, no line across weeks without data."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.collections import PolyCollection

from aftersales.report_render import _figure
from projections.insights.stats import Rate, wilson
from projections.insights.view import Chart
from projections.report import Section


def section(chart: Chart, rows: list[dict[str, Any]]) -> Section:
    return Section("t", list(rows[0]), [list(r.values()) for r in rows], chart=chart,
                   chart_rows=rows)


def test_rate_bars_carry_their_interval_and_support() -> None:
    rows = [{"market": "CZ", "return_rate": Rate(2, 2)},
            {"market": "GB", "return_rate": Rate(240, 1768)},
            {"market": "BR", "return_rate": Rate(0, 4789)}]
    fig = _figure(section(Chart("bar", "market", "return_rate"), rows))
    assert fig is not None
    ax = fig.axes[0]
    labels = {t.get_text().strip() for t in ax.texts}
    assert {"n=2", "n=1,768", "n=4,789"} <= labels
    caps = [c for c in ax.containers if c.__class__.__name__ == "ErrorbarContainer"]
    assert len(caps) == 1
    segments = caps[0].lines[2][0].get_segments()  # one whisker per bar, bottom bar first
    spans = sorted((round(float(s[0][0]), 6), round(float(s[1][0]), 6)) for s in segments)
    wanted = sorted((round(lo * 100, 6), round(hi * 100, 6))
                    for lo, hi in (wilson(2, 2), wilson(240, 1768), wilson(0, 4789)))
    assert spans == wanted
    assert ax.get_xlim()[1] >= 100.0  # CZ's 2/2 reaches 100 %: the axis shows it


def test_a_chart_of_zero_rates_still_shows_how_far_they_could_be() -> None:
    rows = [{"path": "accepted coupon", "satisfied": Rate(0, 40)},
            {"path": "accepted apology", "satisfied": Rate(0, 3)}]
    fig = _figure(section(Chart("bar", "path", "satisfied"), rows))
    assert fig is not None
    low, high = fig.axes[0].get_xlim()
    assert low == 0.0 and high >= wilson(0, 3)[1] * 100


def test_weekly_lines_draw_the_interval_the_normal_range_and_break_at_gaps() -> None:
    weeks = ["2024-01-01", "2024-01-08", "2024-01-15", "2024-02-05", "2024-02-12"]
    rows = [{"carrier": "DHL", "week": w, "on_time": Rate(k, 10), "normal_low": 60.0,
             "normal_high": 100.0, "flag": ""}
            for w, k in zip(weeks[:4], (8, 9, 10, 10), strict=True)]
    rows.append({"carrier": "DHL", "week": weeks[4], "on_time": Rate(1, 10),
                 "normal_low": None, "normal_high": None, "flag": "below"})
    chart = Chart("line", "week", "on_time", series="carrier", band=("normal_low",
                                                                     "normal_high"))
    fig = _figure(section(chart, rows))
    assert fig is not None
    ax = fig.axes[0]
    main = next(line for line in ax.lines if line.get_label() == "on_time")
    ys = np.asarray(main.get_ydata(), dtype=float)
    assert sum(math.isnan(y) for y in ys) == 1  # three weeks without data: the line breaks
    assert [y for y in ys if not math.isnan(y)] == [80.0, 90.0, 100.0, 100.0, 10.0]
    assert any(isinstance(c, PolyCollection) for c in ax.collections)  # the 95 % band
    normal = [line for line in ax.lines if line.get_label() == "normal range"]
    assert normal and not any(math.isnan(y) for y in
                              np.asarray(normal[0].get_ydata(), dtype=float)[:3])


def test_each_bar_is_one_row_with_its_own_label_interval_and_n() -> None:
    """FR sells in EUR and USD: five rows are five bars, and CZ's interval stays on CZ's bar
    (labels on a categorical axis merged the two FR rows and shifted every interval after)."""
    rows = [{"market": "DE", "currency": "EUR", "return_rate": Rate(110, 457)},
            {"market": "FR", "currency": "EUR", "return_rate": Rate(55, 392)},
            {"market": "FR", "currency": "USD", "return_rate": Rate(3, 31)},
            {"market": "CZ", "currency": "CZK", "return_rate": Rate(8, 40)},
            {"market": "GB", "currency": "GBP", "return_rate": Rate(240, 1768)}]
    fig = _figure(section(Chart("bar", "market", "return_rate", label=("currency",)), rows))
    assert fig is not None
    ax = fig.axes[0]
    drawn = rows[::-1]  # the first row at the top
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        f"{r['market']} · {r['currency']}" for r in drawn]
    assert [round(b.get_y() + b.get_height() / 2, 6) for b in ax.patches] == list(range(5))
    whiskers = next(c for c in ax.containers if c.__class__.__name__ == "ErrorbarContainer")
    for segment in whiskers.lines[2][0].get_segments():
        row = drawn[round(float(segment[0][1]))]
        low, high = row["return_rate"].interval
        assert (round(float(segment[0][0]), 6), round(float(segment[1][0]), 6)) == (
            round(low * 100, 6), round(high * 100, 6))
    for text in ax.texts:
        rate = drawn[round(text.get_position()[1])]["return_rate"]
        assert text.get_text().strip() == f"n={rate.n:,}"


def test_refunded_shares_draw_every_reason_of_a_market_as_its_own_bar() -> None:
    rows = [{"market": "FR", "currency": "EUR", "reason": reason, "refunded_%_of_sales": share}
            for reason, share in (("all reasons", 9.0), ("return: changed_mind", 6.0),
                                  ("complaint: damaged", 3.0))]
    fig = _figure(section(Chart("bar", "market", "refunded_%_of_sales",
                                label=("reason", "currency")), rows))
    assert fig is not None
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "FR · complaint: damaged · EUR", "FR · return: changed_mind · EUR",
        "FR · all reasons · EUR"]
    assert [b.get_width() for b in ax.patches] == [3.0, 6.0, 9.0]
