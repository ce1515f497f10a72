"""``personal_data.retention``: kept while a case is open and for N whole days (UTC) after the
last case closed; erased from the first moment after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales_core import policies
from aftersales_core.errors import InvalidCommandError
from aftersales_core.policies.personal_data_retention import erase_after


def inputs(now: datetime, *closed: datetime | None, days: int = 30) -> dict[str, Any]:
    return {"customer_id": "c-1", "retention_days": days, "now": now.isoformat(),
            "cases": [{"case_id": f"k-{i}", "case_type": "complaint",
                       "status": "closed" if at else "open",
                       "closed_at": at.isoformat() if at else None}
                      for i, at in enumerate(closed)]}


def decide(now: datetime, *closed: datetime | None, days: int = 30) -> Any:
    return policies.evaluate("personal_data.retention", inputs(now, *closed, days=days))


@pytest.mark.parametrize("closed", [datetime(2026, 6, 1, 0, 0, tzinfo=UTC),
                                    datetime(2026, 6, 1, 23, 59, 59, 999999, tzinfo=UTC)])
def test_day_n_is_kept_and_day_n_plus_one_is_erased(closed: datetime) -> None:
    last_kept_moment = datetime(2026, 7, 1, 23, 59, 59, 999999, tzinfo=UTC)  # 1 June + 30 days
    assert decide(last_kept_moment, closed).outcome == "keep"
    erased = decide(last_kept_moment + timedelta(microseconds=1), closed)
    assert erased.outcome == "erase" and erased.rules == ("retention.expired",)
    assert erased.details["erase_after"] == "2026-07-02T00:00:00+00:00"
    assert "kept 30 days after that, to the end of 2026-07-01 (UTC)" in erased.reasons[0]


def test_the_day_is_counted_in_utc_whatever_the_offset_of_the_times() -> None:
    berlin_evening = datetime(2026, 6, 1, 23, 30, tzinfo=timezone(timedelta(hours=2)))  # 21:30Z
    assert erase_after(berlin_evening, 30) == datetime(2026, 7, 2, tzinfo=UTC)
    shanghai_morning = datetime(2026, 6, 2, 7, 0, tzinfo=timezone(timedelta(hours=8)))  # 1 June
    assert erase_after(shanghai_morning, 30) == datetime(2026, 7, 2, tzinfo=UTC)


def test_the_last_closed_case_counts_and_an_open_one_keeps_everything() -> None:
    early, late = datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)
    assert decide(datetime(2026, 6, 15, tzinfo=UTC), early, late).outcome == "keep"
    assert decide(datetime(2026, 7, 2, tzinfo=UTC), early, late).outcome == "erase"
    kept = decide(datetime(2030, 1, 1, tzinfo=UTC), early, None)
    assert kept.outcome == "keep" and kept.rules == ("retention.open_case",)
    assert kept.reasons == ("complaint k-1 is still open (open)",)
    nothing = decide(datetime(2030, 1, 1, tzinfo=UTC))
    assert (nothing.outcome, nothing.rules) == ("keep", ("retention.no_cases",))


@given(days=st.integers(1, 4000), hours=st.integers(0, 10**6))
def test_a_decision_re_runs_to_the_same_result(days: int, hours: int) -> None:
    closed = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(hours=hours)
    decision = decide(closed + timedelta(days=days, hours=hours % 48), closed, days=days)
    assert policies.rerun(decision).same_result_as(decision)
    erase = decision.outcome == "erase"
    assert erase == (closed.date() + timedelta(days=days) < (closed + timedelta(
        days=days, hours=hours % 48)).date())


@pytest.mark.parametrize("change", [{"retention_days": 0}, {"retention_days": "30"},
                                    {"now": "yesterday"}, {"cases": [{"case_id": "k"}]},
                                    {"cases": [{"case_id": "k", "case_type": "order",
                                                "status": "x", "closed_at": None}]}])
def test_bad_inputs_name_the_field(change: dict[str, Any]) -> None:
    with pytest.raises(InvalidCommandError, match=r"personal_data\.retention"):
        policies.evaluate("personal_data.retention",
                          {**inputs(datetime(2026, 1, 1, tzinfo=UTC)), **change})
