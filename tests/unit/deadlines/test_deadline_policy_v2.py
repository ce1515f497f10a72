"""deadlines v2: refund deadlines in whole calendar days (or working days without the market's
public holidays) of the buyer's zone, ending at the end of the last day; the decision records
the zone, the last day and the days off it skipped."""

from __future__ import annotations

from typing import Any

import pytest

from aftersales_core.decisions import JSON, PolicyDecision
from aftersales_core.policies import current_version, rerun
from aftersales_core.policies import evaluate as evaluate_any


def evaluate(policy_id: str, inputs: JSON, version: int = 2) -> PolicyDecision:
    """These tests are of deadlines v2 (v4 is current; still registered for re-runs)."""
    return evaluate_any(policy_id, inputs, version)


def returns(*names: str, **facts: Any) -> JSON:
    return {
        "case_type": "return",
        "wanted": [{"name": n, "since": "2026-01-05T10:00:00+00:00"} for n in names],
        "market": "DE", "is_withdrawal": True, "requested_at": "2026-01-05T10:00:00+00:00",
        "approved_at": "2026-01-05T10:00:00+00:00", "shipped_at": "2026-01-07T10:00:00+00:00",
        "received_at": "2026-01-09T15:00:00+00:00", "returnless": False,
        "ship_back_by": "2026-01-19T23:59:59.999999+01:00", "buyer_timezone": None, **facts,
    }


def refund_deadline(decision: PolicyDecision) -> JSON:
    found = [d for d in decision.details["deadlines"] if d["name"] == "refund"]
    assert len(found) == 1, decision.reasons
    return found[0]


def test_v2_stays_registered_and_reruns() -> None:
    assert current_version("deadlines") == 6
    decision = evaluate("deadlines", returns("decision", "ship_back", "refund"), version=2)
    assert rerun(decision).same_result_as(decision)


@pytest.mark.parametrize(("market", "withdrawal", "zone", "last_day"), [
    ("CN", True, "Asia/Shanghai", "2026-01-16"),  # 7 days after receipt, 9 January
    ("DE", True, "Europe/Berlin", "2026-01-19"),  # 14 days after the withdrawal notice
    ("GB", True, "Europe/London", "2026-01-19"),
    ("DE", False, "Europe/Berlin", "2026-01-23"),  # 14 days after receipt
    ("US", False, "Pacific/Honolulu", "2026-01-21"),  # 7 working days, MLK day skipped
    ("BR", False, "America/Rio_Branco", "2026-01-23"),
])
def test_each_market_refund_deadline_ends_at_the_end_of_its_last_local_day(
        market: str, withdrawal: bool, zone: str, last_day: str) -> None:
    deadline = refund_deadline(evaluate("deadlines", returns(
        "refund", market=market, is_withdrawal=withdrawal)))
    assert (deadline["zone"], deadline["last_day"]) == (zone, last_day)
    assert deadline["due_at"].startswith(f"{last_day}T23:59:59.999999")


def test_us_working_days_skip_martin_luther_king_day_and_say_so() -> None:
    decision = evaluate("deadlines", returns("refund", market="US", is_withdrawal=False,
                                             buyer_timezone="America/New_York"))
    deadline = refund_deadline(decision)
    # received Friday 9 January: 12, 13, 14, 15, 16, [19 MLK day], 20, 21
    assert deadline["last_day"] == "2026-01-21"
    assert deadline["due_at"] == "2026-01-21T23:59:59.999999-05:00"
    assert {"day": "2026-01-19", "why": "Martin Luther King Jr. Day"} in deadline["days_off"]
    assert "skipping the public holidays 2026-01-19 Martin Luther King Jr. Day" in \
        deadline["basis"]


def test_a_receipt_late_in_the_utc_day_counts_from_the_buyers_next_day() -> None:
    # 17:00 UTC on 9 January is 10 January in Shanghai: 7 days later is 17 January
    deadline = refund_deadline(evaluate("deadlines", returns(
        "refund", market="CN", is_withdrawal=False, received_at="2026-01-09T17:00:00+00:00")))
    assert deadline["last_day"] == "2026-01-17"


def test_a_held_withdrawal_refund_is_due_at_the_end_of_the_third_day_after_the_goods() -> None:
    deadline = refund_deadline(evaluate("deadlines", returns(
        "refund", shipped_at=None, received_at="2026-01-25T10:00:00+00:00")))
    assert deadline["last_day"] == "2026-01-28"
    assert deadline["due_at"] == "2026-01-28T23:59:59.999999+01:00"


def test_a_refund_of_its_own_is_due_in_the_buyers_calendar_from_its_request() -> None:
    decision = evaluate("deadlines", {
        "case_type": "refund", "wanted": [{"name": "refund",
                                           "since": "2026-03-27T12:00:00+00:00"}],
        "market": "DE", "source": "goodwill", "inherited_due_at": None,
        "buyer_timezone": None})
    deadline = refund_deadline(decision)
    assert deadline["last_day"] == "2026-04-10"  # across the spring daylight-saving change
    assert deadline["due_at"] == "2026-04-10T23:59:59.999999+02:00"


def test_an_unknown_buyer_timezone_is_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match="buyer_timezone"):
        evaluate("deadlines", returns("refund", buyer_timezone="Europe/Atlantis"))
