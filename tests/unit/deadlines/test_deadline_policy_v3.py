"""deadlines v3: the book's refund terms and working days per market, complaint targets per
priority on the book's clock, stopped while waiting on the customer."""

from __future__ import annotations

from typing import Any

import pytest

from aftersales_core.decisions import JSON, PolicyDecision
from aftersales_core.errors import InvalidCommandError
from aftersales_core.policies import current_version, evaluate
from aftersales_core.policybook.bindings import deadlines_v3_settings
from tests.unit.policies.golden import pre_book
from tests.unit.policybook.books import book

FILED = "2026-01-05T10:00:00+00:00"


def decide(inputs: JSON, changes: dict[str, Any] | None = None) -> PolicyDecision:
    return evaluate("deadlines", inputs, 3, deadlines_v3_settings(book(**(changes or {}))))


def complaint(*names: str, **facts: Any) -> JSON:
    return {"case_type": "complaint", "wanted": [{"name": n, "since": FILED} for n in names],
            "channel": "email", "escalations": [], "priority": "P3", "market": None,
            "opened_at": FILED, "pauses": [], "waiting_since": None, "buyer_timezone": None,
            **facts}


def due(decision: PolicyDecision, name: str) -> str | None:
    found = [d["due_at"] for d in decision.details["deadlines"] if d["name"] == name]
    return found[0] if found else None


def test_v3_stays_registered_and_sets_v2s_return_and_refund_deadlines_under_the_built_in_book(
) -> None:
    assert current_version("deadlines") == 6
    for inputs in pre_book.deadlines():
        if inputs["case_type"] == "complaint":
            continue
        v2, v3 = (evaluate("deadlines", inputs, v) for v in (2, 3))
        assert [(d["name"], d["due_at"]) for d in v3.details["deadlines"]] == \
            [(d["name"], d["due_at"]) for d in v2.details["deadlines"]]


def test_complaint_targets_follow_priority_and_channel() -> None:
    changes = {"complaints.first_response_hours": {"P1": 2, "P2": 8, "P3": 24},
               "complaints.resolution_hours": {"P1": 24, "P2": 72, "P3": 120}}
    urgent = decide(complaint("first_response", "resolution", priority="P1"), changes)
    assert due(urgent, "first_response") == "2026-01-05T12:00:00+00:00"
    assert due(urgent, "resolution") == "2026-01-06T10:00:00+00:00"
    platform = decide(complaint("first_response", channel="platform"), changes)
    assert due(platform, "first_response") == "2026-01-05T22:00:00+00:00"  # 12 h on platform


def test_waiting_on_the_customer_stops_the_resolution_clock() -> None:
    waiting = decide(complaint("resolution", waiting_since="2026-01-06T10:00:00+00:00"))
    assert waiting.outcome == "none"
    assert "waiting on the customer since 2026-01-06T10:00:00+00:00" in waiting.reasons[0]
    resumed = decide(complaint(
        "resolution", pauses=[{"from": "2026-01-06T10:00:00+00:00",
                               "to": "2026-01-08T16:00:00+00:00"}]))
    assert due(resumed, "resolution") == "2026-01-14T16:00:00+00:00"  # 7 days + 54 hours
    assert "not counting 54 hours waiting on the customer" in resumed.reasons[0]


def test_a_book_that_does_not_pause_keeps_the_clock_running() -> None:
    changes = {"complaints.pause_while_waiting_on_customer": False}
    decision = decide(complaint("resolution", waiting_since="2026-01-06T10:00:00+00:00",
                                pauses=[{"from": "2026-01-06T10:00:00+00:00",
                                         "to": "2026-01-06T12:00:00+00:00"}]), changes)
    assert due(decision, "resolution") == "2026-01-12T10:00:00+00:00"


def test_a_pause_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(InvalidCommandError, match=r"pauses\[0\].to is before from"):
        decide(complaint("resolution", pauses=[{"from": "2026-01-06T10:00:00+00:00",
                                                "to": "2026-01-06T09:00:00+00:00"}]))


def test_business_hours_refund_working_days_use_the_markets_calendar() -> None:
    changes = {"calendars.markets.US": {"closed": ["2026-01-12"]}}
    inputs = {"case_type": "refund", "wanted": [{"name": "refund", "since": FILED}],
              "market": "US", "source": "goodwill", "inherited_due_at": None,
              "buyer_timezone": "America/New_York"}
    plain = decide(inputs)
    closed = decide(inputs, changes)
    # 7 working days from Monday 5 January: 6-9, 13-15 with the 12th closed (and MLK day on 19)
    assert plain.details["deadlines"][0]["last_day"] == "2026-01-14"
    assert closed.details["deadlines"][0]["last_day"] == "2026-01-15"
    assert {"day": "2026-01-12", "why": "closed by the merchant"} in \
        closed.details["deadlines"][0]["days_off"]


def test_the_escalated_resolution_target_and_the_ladder_come_from_the_book() -> None:
    changes = {"escalation.escalated_resolution_hours": 24,
               "escalation.complaint_ladder": ["supervisor", "platform_arbitration",
                                               "regulator"]}
    again = decide(complaint("resolution_escalated",
                             escalations=["supervisor", "platform_arbitration"]), changes)
    assert due(again, "resolution_escalated") == "2026-01-06T10:00:00+00:00"
    top = decide(complaint("resolution_escalated", escalations=["supervisor",
                                                                "platform_arbitration"]))
    assert top.outcome == "none"
