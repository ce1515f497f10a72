"""deadlines v1 (still registered for re-runs; v2 in test_deadline_policy_v2.py) and
deadlines.breach v1: each market's numbers from SPEC §3.2, the complaint
deadlines, the watchdog limits, and what a breach does."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales_core.decisions import JSON
from aftersales_core.errors import InvalidCommandError
from aftersales_core.policies import current_version, evaluate, rerun
from aftersales_core.policies import logistics_exception as logistics
from aftersales_core.policies.deadlines_settings import SETTINGS_V1, SETTINGS_V2
from aftersales_core.policies.refund_terms import add_working_days
from aftersales_core.policies.return_windows import ReturnWindows
from tests.unit.policies.builders import triage

REQUESTED = "2026-01-05T10:00:00+00:00"  # a Monday
APPROVED = "2026-01-05T10:00:00+00:00"
RECEIVED = "2026-01-09T15:00:00+00:00"  # a Friday


def returns(*names: str, **facts: Any) -> JSON:
    return {
        "case_type": "return",
        "wanted": [{"name": n, "since": APPROVED} for n in names],
        "market": "DE",
        "is_withdrawal": True,
        "requested_at": REQUESTED,
        "approved_at": APPROVED,
        "shipped_at": "2026-01-07T10:00:00+00:00",
        "received_at": RECEIVED,
        "returnless": False,
        "ship_back_by": "2026-01-19T10:00:00+00:00",
        **facts,
    }


def due(decision_inputs: JSON, name: str) -> str | None:
    decision = evaluate("deadlines", decision_inputs, version=1)
    found = [d for d in decision.details["deadlines"] if d["name"] == name]
    return found[0]["due_at"] if found else None


def test_both_policies_are_registered_and_v1_reruns_to_the_same_result() -> None:
    assert (current_version("deadlines"), current_version("deadlines.breach")) == (6, 2)
    decision = evaluate("deadlines", returns("decision", "ship_back", "refund"), version=1)
    assert decision.outcome == "scheduled" and decision.reasons and decision.rules
    assert rerun(decision).same_result_as(decision)


@pytest.mark.parametrize(
    ("market", "withdrawal", "expected"),
    [
        ("CN", True, "2026-01-16T15:00:00+00:00"),  # 7 days after the return is received
        ("CN", False, "2026-01-16T15:00:00+00:00"),
        ("DE", True, "2026-01-19T10:00:00+00:00"),  # 14 days from the withdrawal notice
        ("FR", True, "2026-01-19T10:00:00+00:00"),
        ("GB", True, "2026-01-19T10:00:00+00:00"),
        ("DE", False, "2026-01-23T15:00:00+00:00"),  # a fault return: 14 days from receipt
        ("GB", False, "2026-01-23T15:00:00+00:00"),
        ("US", False, "2026-01-20T15:00:00+00:00"),  # 7 working days from Friday: Tuesday week
        ("BR", False, "2026-01-23T15:00:00+00:00"),  # merchant default: 14 days from receipt
    ],
)
def test_each_market_has_its_refund_deadline(market: str, withdrawal: bool, expected: str) -> None:
    assert due(returns("refund", market=market, is_withdrawal=withdrawal), "refund") == expected


def test_a_refund_counted_from_receipt_waits_for_the_goods() -> None:
    decision = evaluate("deadlines", returns("refund", market="CN", received_at=None), version=1)
    assert decision.outcome == "none" and decision.details["deadlines"] == []
    assert "waiting for the goods" in decision.reasons[0]


def test_a_withdrawal_refund_may_be_held_until_the_goods_or_proof_of_dispatch_arrive() -> None:
    held = returns("refund", shipped_at=None, received_at=None)
    decision = evaluate("deadlines", held, version=1)
    assert decision.outcome == "none" and "held until the goods" in decision.reasons[0]
    proof = returns("refund", shipped_at=None, received_at="2026-01-12T10:00:00+00:00")
    assert due(proof, "refund") == "2026-01-19T10:00:00+00:00"  # still 14 days from notice
    late = returns("refund", shipped_at="2026-01-18T12:00:00+00:00", received_at=None)
    assert due(late, "refund") == "2026-01-21T12:00:00+00:00"  # 3 days after a late dispatch
    returnless = returns("refund", shipped_at=None, received_at=None, returnless=True)
    assert due(returnless, "refund") == "2026-01-19T10:00:00+00:00"


def test_a_returnless_refund_is_counted_from_the_approval() -> None:
    inputs = returns("refund", market="CN", received_at=None, returnless=True)
    assert due(inputs, "refund") == "2026-01-12T10:00:00+00:00"


def test_a_return_in_review_is_decided_within_48_hours_and_shipped_back_by_eligibility() -> None:
    inputs = returns("decision", "ship_back")
    assert due(inputs, "decision") == "2026-01-07T10:00:00+00:00"
    assert due(inputs, "ship_back") == "2026-01-19T10:00:00+00:00"
    assert due(returns("ship_back", ship_back_by=None), "ship_back") is None


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        ("2026-01-05T10:00:00+00:00", 7, "2026-01-14T10:00:00+00:00"),  # Mon -> Wed week
        ("2026-01-09T10:00:00+00:00", 1, "2026-01-12T10:00:00+00:00"),  # Fri -> Mon
        ("2026-01-10T10:00:00+00:00", 1, "2026-01-12T10:00:00+00:00"),  # Sat -> Mon
        ("2026-01-11T10:00:00+00:00", 5, "2026-01-16T10:00:00+00:00"),  # Sun -> Fri
    ],
)
def test_working_days_skip_saturdays_and_sundays(start: str, days: int, expected: str) -> None:
    assert add_working_days(datetime.fromisoformat(start), days).isoformat() == expected


@given(
    start=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    days=st.integers(min_value=1, max_value=60),
)
@settings(max_examples=200)
def test_working_days_never_end_on_a_weekend_and_count_exactly(start: datetime, days: int) -> None:
    end = add_working_days(start, days)
    assert end.weekday() < 5 and end.time() == start.time()
    weekdays = sum(
        1 for i in range(1, (end - start).days + 1) if (start + timedelta(days=i)).weekday() < 5
    )
    assert weekdays == days


def complaint(*names: str, channel: str = "email", escalations: list[str] | None = None) -> JSON:
    return {
        "case_type": "complaint",
        "channel": channel,
        "escalations": escalations or [],
        "wanted": [{"name": n, "since": "2026-01-05T10:00:00+00:00"} for n in names],
    }


@pytest.mark.parametrize(
    ("channel", "hours"),
    [
        ("email", 24),
        ("chat", 24),
        ("phone", 24),
        ("social", 24),
        ("platform", 12),
        ("regulator", 12),
    ],
)
def test_complaints_get_a_first_response_deadline_by_channel_and_agree_with_triage(
    channel: str, hours: int
) -> None:
    inputs = complaint("first_response", "resolution", channel=channel)
    assert (
        due(inputs, "first_response") == f"2026-01-0{5 if hours == 12 else 6}T"
        f"{'22' if hours == 12 else '10'}:00:00+00:00"
    )
    assert due(inputs, "resolution") == "2026-01-12T10:00:00+00:00"
    triaged = evaluate("complaint.triage", triage(channel=channel), version=1).details
    assert triaged["first_response_due"] == due(inputs, "first_response")
    assert triaged["resolution_due"] == due(inputs, "resolution")


def test_a_missed_resolution_gets_three_more_days_unless_escalated_to_the_top() -> None:
    assert (
        due(complaint("resolution_escalated"), "resolution_escalated")
        == "2026-01-08T10:00:00+00:00"
    )
    for top in (["supervisor", "platform_arbitration"], ["regulator"]):
        assert (
            due(complaint("resolution_escalated", escalations=top), "resolution_escalated") is None
        )


def test_a_refund_is_due_by_market_from_its_request_or_carries_its_returns_deadline() -> None:
    base = {
        "case_type": "refund",
        "source": "goodwill",
        "inherited_due_at": None,
        "wanted": [{"name": "refund", "since": REQUESTED}],
    }
    assert due({**base, "market": "DE"}, "refund") == "2026-01-19T10:00:00+00:00"
    assert due({**base, "market": "CN"}, "refund") == "2026-01-12T10:00:00+00:00"
    assert due({**base, "market": "US"}, "refund") == "2026-01-14T10:00:00+00:00"
    carried = {
        **base,
        "market": "DE",
        "source": "return",
        "inherited_due_at": "2026-01-30T00:00:00+00:00",
    }
    assert due(carried, "refund") == "2026-01-30T00:00:00+00:00"


@pytest.mark.parametrize(
    ("kind", "limit"),
    [
        ("no_scan", logistics.SETTINGS_V1.no_scan_limit_hours),
        ("customs_hold", logistics.SETTINGS_V1.customs_hold_limit_hours),
    ],
)
def test_the_watchdog_uses_the_logistics_exception_limits(kind: str, limit: int) -> None:
    inputs = {
        "case_type": "order",
        "wanted": [{"name": "watchdog:s-1", "since": "2026-01-05T10:00:00+00:00", "kind": kind}],
    }
    expected = datetime.fromisoformat("2026-01-05T10:00:00+00:00") + timedelta(hours=limit)
    assert due(inputs, "watchdog:s-1") == expected.isoformat()
    late = expected + timedelta(seconds=1)
    fired = evaluate(
        "logistics.exception",
        {
            "event_type": {"no_scan": "NoScan", "customs_hold": "CustomsHeld"}[kind],
            "direction": "outbound",
            "occurred_at": late.isoformat(),
            "since": "2026-01-05T10:00:00+00:00",
            "market": "CN",
            "fulfilment": "bonded",
            "currency": "CNY",
            "order_value": "100.00",
            "delivered_parcels": [],
            "parcels_on_the_way": [],
            "delivered_at": None,
        },
    )
    assert fired.outcome == "open_complaint"  # any firing after the due time opens a case
    assert f"{limit} hours 0 minutes 1 second, over the {limit}-hour limit" in fired.reasons[0]


@pytest.mark.parametrize(
    ("name", "inputs", "problem"),
    [
        ("unknown deadline", returns("lunch"), "not a return deadline"),
        ("unknown case type", {**returns("decision"), "case_type": "shipment"}, "case_type"),
        ("missing since", {**returns(), "wanted": [{"name": "decision"}]}, r"wanted\[0\].since"),
        ("refund without market", returns("refund", market=None), "market"),
    ],
)
def test_invalid_inputs_are_refused_naming_the_field(name: str, inputs: JSON, problem: str) -> None:
    with pytest.raises(InvalidCommandError, match=problem):
        evaluate("deadlines", inputs, version=1)


def test_the_settings_are_the_spec_defaults() -> None:
    s = SETTINGS_V1
    assert (
        s.return_decision_hours,
        s.first_response_hours,
        s.fast_first_response_hours,
        s.resolution_days,
    ) == (48, 24, 12, 7)
    assert s.fast_channels == {"platform", "regulator"}
    assert s.auto_approve_in_policy_returns and s.held_refund_days == 3


@pytest.mark.parametrize(("regime", "market"), [
    ("cn_cross_border_no_reason", "CN"), ("cn_cross_border_fault", "CN"), ("cn_no_reason", "CN"),
    ("eu_withdrawal", "DE"), ("eu_legal_guarantee", "FR"), ("uk_withdrawal", "GB"),
    ("uk_right_to_reject", "GB"), ("us_merchant", "US"), ("merchant_default", "JP")])
def test_a_returns_refund_deadline_counts_the_term_its_eligibility_named(
        regime: str, market: str) -> None:
    """One table of refund terms: what return.eligibility records (refund_due_*) is the term
    the deadlines policy schedules the refund by, in every version of both."""
    named = getattr(ReturnWindows(), regime)
    for deadline_settings in (SETTINGS_V1, SETTINGS_V2):
        assert deadline_settings.refund_term(market, named.is_withdrawal) is named.refund
