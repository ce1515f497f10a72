"""deadlines v4: an EU/UK withdrawal's refund is due by the end of day 14 after the notice when
the goods or proof of their dispatch come back by then; only a later release moves it, to the
end of the third day after the release. v3 (the later of the two) stays for re-runs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales_core.decisions import JSON
from aftersales_core.policies import current_version, evaluate
from aftersales_core.policybook.bindings import deadlines_v3_settings
from tests.unit.policies.golden import pre_book
from tests.unit.policybook.books import book

NOTICE = "2026-06-05T10:00:00+02:00"  # a withdrawal on 5 June in Berlin: day 14 is 19 June
DAY_14_ENDS = "2026-06-19T23:59:59.999999+02:00"


def returns(**facts: Any) -> JSON:
    return {"case_type": "return", "wanted": [{"name": "refund", "since": NOTICE}],
            "market": "DE", "is_withdrawal": True, "requested_at": NOTICE,
            "approved_at": NOTICE, "shipped_at": None, "received_at": None,
            "returnless": False, "ship_back_by": None, "buyer_timezone": None, **facts}


def refund(inputs: JSON, version: int = 4) -> dict[str, Any]:
    decision = evaluate("deadlines", inputs, version, deadlines_v3_settings(book()))
    found = [d for d in decision.details["deadlines"] if d["name"] == "refund"]
    assert len(found) == 1, decision.reasons
    return found[0]


def test_v4_stays_registered_under_v5() -> None:
    assert current_version("deadlines") == 6  # v5 counts a resolution of whole days as days


@pytest.mark.parametrize("released", [
    "2026-06-05T11:00:00+02:00",  # dispatched on the day of the notice
    "2026-06-18T10:00:00+02:00",  # day 13: the tester's case (v3 said 21 June)
    "2026-06-19T23:59:59.999999+02:00",  # the last instant of day 14
])
def test_goods_back_by_day_14_leave_the_refund_due_at_the_end_of_day_14(released: str) -> None:
    for fact in ("shipped_at", "received_at"):
        deadline = refund(returns(**{fact: released}))
        assert (deadline["due_at"], deadline["last_day"]) == (DAY_14_ENDS, "2026-06-19")
        assert "held until" not in deadline["basis"]


def test_the_tester_s_case_still_re_runs_as_v3_decided_it() -> None:
    deadline = refund(returns(shipped_at="2026-06-18T10:00:00+02:00"), version=3)
    assert deadline["due_at"] == "2026-06-21T23:59:59.999999+02:00"


def test_goods_back_after_day_14_move_the_refund_to_three_days_later() -> None:
    deadline = refund(returns(shipped_at="2026-06-20T00:00:00+02:00"))  # day 15 begins
    assert (deadline["due_at"], deadline["last_day"]) == ("2026-06-23T23:59:59.999999+02:00",
                                                          "2026-06-23")
    assert "held until 2026-06-20T00:00:00+02:00" in deadline["basis"]
    assert "so due 3 days after that" in deadline["basis"]


def test_a_returnless_refund_approved_by_day_14_is_due_at_its_end() -> None:
    deadline = refund(returns(returnless=True, approved_at="2026-06-18T10:00:00+02:00"))
    assert deadline["due_at"] == DAY_14_ENDS


def test_until_the_goods_or_the_proof_come_the_refund_waits() -> None:
    decision = evaluate("deadlines", returns(), 4, deadlines_v3_settings(book()))
    assert decision.outcome == "none" and "held until the goods" in decision.reasons[0]


def test_v4_sets_v3s_deadlines_but_a_withdrawal_refund_released_by_day_14() -> None:
    """Decisions, ship-back, repairs and refunds counted from receipt are v3's; a withdrawal's
    refund differs only by coming due sooner, at the end of its term."""
    for inputs in pre_book.deadlines():
        if inputs["case_type"] == "complaint":
            continue  # recorded before complaint priorities: v3 and v4 need one
        v3, v4 = (evaluate("deadlines", inputs, v) for v in (3, 4))
        if v4.details == v3.details:
            assert v4.reasons == v3.reasons
            continue
        assert inputs["case_type"] == "return" and inputs["is_withdrawal"]
        before = {d["name"]: d for d in v3.details["deadlines"]}
        for deadline in v4.details["deadlines"]:
            if deadline["name"] != "refund":
                assert deadline == before[deadline["name"]]
            else:
                assert deadline["due_at"] < before["refund"]["due_at"]
                assert "held until" not in deadline["basis"]


@settings(max_examples=200, deadline=None)
@given(minutes=st.integers(min_value=0, max_value=60 * 24 * 40),
       fact=st.sampled_from(["shipped_at", "received_at"]))
def test_the_refund_is_due_by_day_14_or_three_days_after_a_late_release(
        minutes: int, fact: str) -> None:
    released = datetime.fromisoformat(NOTICE) + timedelta(minutes=minutes)
    inputs = returns(**{fact: released.isoformat()})
    v3, v4 = (datetime.fromisoformat(refund(inputs, v)["due_at"]) for v in (3, 4))
    day_14 = datetime.fromisoformat(DAY_14_ENDS)
    if released <= day_14:
        assert v4 == day_14
    else:
        assert v4 == v3 > released  # the grace after a late release, as v3 gave it
    assert day_14 <= v4 <= v3
