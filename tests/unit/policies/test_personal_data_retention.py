"""``personal_data.retention``: kept while a case is open and for N whole days (UTC) after the
last case closed or (v2) the last fact of the customer's orders, whichever is later; erased
from the first moment after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales_core import policies
from aftersales_core.errors import InvalidCommandError
from aftersales_core.policies.personal_data_retention import erase_after


def inputs(now: datetime, *closed: datetime | None, days: int = 30,
           orders: tuple[datetime, ...] = ()) -> dict[str, Any]:
    return {"customer_id": "c-1", "retention_days": days, "now": now.isoformat(),
            "cases": [{"case_id": f"k-{i}", "case_type": "complaint",
                       "status": "closed" if at else "open",
                       "closed_at": at.isoformat() if at else None}
                      for i, at in enumerate(closed)],
            "orders": [{"order_id": f"o-{i}", "last_fact_at": at.isoformat()}
                       for i, at in enumerate(orders)]}


def decide(now: datetime, *closed: datetime | None, days: int = 30,
           orders: tuple[datetime, ...] = ()) -> Any:
    return policies.evaluate("personal_data.retention",
                             inputs(now, *closed, days=days, orders=orders))


@pytest.mark.parametrize("closed", [datetime(2026, 6, 1, 0, 0, tzinfo=UTC),
                                    datetime(2026, 6, 1, 23, 59, 59, 999999, tzinfo=UTC)])
def test_day_n_is_kept_and_day_n_plus_one_is_erased(closed: datetime) -> None:
    last_kept_moment = datetime(2026, 7, 1, 23, 59, 59, 999999, tzinfo=UTC)  # 1 June + 30 days
    assert decide(last_kept_moment, closed).outcome == "keep"
    erased = decide(last_kept_moment + timedelta(microseconds=1), closed)
    assert erased.outcome == "erase" and erased.rules == ("retention.expired",)
    assert erased.details["erase_after"] == "2026-07-02T00:00:00+00:00"
    assert "kept 30 days after 2026-06-01T" in erased.reasons[0]
    assert "to the end of 2026-07-01 (UTC)" in erased.reasons[0]


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
    assert (nothing.outcome, nothing.rules) == ("keep", ("retention.nothing_held",))


def test_a_customer_with_orders_and_no_case_is_erased_after_their_last_order_fact() -> None:
    """v2: most buyers never open a case; their orders' unknown fields (name, address, phone)
    are erased N days after the last fact of their orders, counted like a case's close."""
    first, last = datetime(2026, 3, 5, 9, tzinfo=UTC), datetime(2026, 6, 1, 23, tzinfo=UTC)
    last_kept_moment = datetime(2026, 7, 1, 23, 59, 59, 999999, tzinfo=UTC)
    assert decide(last_kept_moment, orders=(first, last)).outcome == "keep"
    erased = decide(last_kept_moment + timedelta(microseconds=1), orders=(last, first))
    assert (erased.outcome, erased.rules) == ("erase", ("retention.expired",))
    assert erased.details["kept_from"] == erased.details["last_order_fact_at"] == last.isoformat()
    assert erased.details["erase_after"] == "2026-07-02T00:00:00+00:00"
    assert "the last fact of their 2 order(s) at 2026-06-01T23:00:00+00:00" in erased.reasons[0]
    assert policies.rerun(erased).same_result_as(erased)
    # v1, as recorded before, knew cases only: such a customer was kept until erased by hand
    v1 = policies.evaluate("personal_data.retention", inputs(datetime(2035, 1, 1, tzinfo=UTC)),
                           version=1)
    assert (v1.outcome, v1.rules) == ("keep", ("retention.no_cases",))


def test_the_later_of_the_last_closed_case_and_the_last_order_fact_counts() -> None:
    closed, ordered = datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)
    kept = decide(datetime(2026, 7, 1, 12, tzinfo=UTC), closed, orders=(ordered,))
    assert (kept.outcome, kept.rules) == ("keep", ("retention.within",))
    assert decide(datetime(2026, 7, 2, tzinfo=UTC), closed, orders=(ordered,)).outcome == "erase"
    late_case = decide(datetime(2026, 7, 2, tzinfo=UTC), ordered, orders=(closed,))
    assert late_case.details["kept_from"] == ordered.isoformat()
    assert late_case.outcome == "erase"
    still_open = decide(datetime(2035, 1, 1, tzinfo=UTC), None, orders=(closed,))
    assert (still_open.outcome, still_open.rules) == ("keep", ("retention.open_case",))


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
                                                "status": "x", "closed_at": None}]},
                                    {"orders": [{"order_id": "o-1"}]},
                                    {"orders": [{"order_id": "o-1", "last_fact_at": "soon"}]}])
def test_bad_inputs_name_the_field(change: dict[str, Any]) -> None:
    with pytest.raises(InvalidCommandError, match=r"personal_data\.retention"):
        policies.evaluate("personal_data.retention",
                          {**inputs(datetime(2026, 1, 1, tzinfo=UTC)), **change})
