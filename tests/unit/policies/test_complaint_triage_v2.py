"""complaint.triage v2: the merchant's service levels per priority and channel, on its clock."""

from __future__ import annotations

from typing import Any

from aftersales_core.decisions import PolicyDecision
from aftersales_core.policies import current_version, evaluate
from aftersales_core.policybook.bindings import triage_v2
from tests.unit.policies.builders import triage
from tests.unit.policies.golden import pre_book
from tests.unit.policybook.books import book

FASTER = {"complaints.first_response_hours": {"P1": 2, "P2": 8, "P3": 24},
          "complaints.resolution_hours": {"P1": 24, "P2": 72, "P3": 120}}


def decide(changes: dict[str, Any] | None = None, **overrides: Any) -> PolicyDecision:
    return evaluate("complaint.triage", triage(**overrides), 2,
                    triage_v2(book(**(changes or {}))))


def test_v2_stays_registered_and_under_the_built_in_book_sets_v1s_deadlines() -> None:
    assert current_version("complaint.triage") == 4  # v3 counts whole days as days, v4 too
    for inputs in pre_book.triage():
        v1, v2 = (evaluate("complaint.triage", inputs, v) for v in (1, 2))
        assert v2.outcome == v1.outcome
        for key in ("first_response_due", "resolution_due", "route", "first_response_hours"):
            assert v2.details[key] == v1.details[key]


def test_targets_follow_the_priority() -> None:
    urgent = decide(FASTER, category="counterfeit_suspected")
    assert (urgent.outcome, urgent.details["first_response_hours"]) == ("P1", 2)
    assert urgent.details["first_response_due"] == "2026-01-05T12:00:00+00:00"
    assert urgent.details["resolution_due"] == "2026-01-06T10:00:00+00:00"
    normal = decide(FASTER)
    assert (normal.outcome, normal.details["resolution_hours"]) == ("P3", 120)


def test_a_channels_own_target_applies_only_when_stricter() -> None:
    changes = {**FASTER, "complaints.channel_first_response_hours": {"platform": 4}}
    assert decide(changes, channel="platform").details["first_response_hours"] == 4  # P2: 8
    assert decide(changes, channel="regulator").details["first_response_hours"] == 2  # P1: 2


def test_business_hours_count_in_the_markets_desk_calendar() -> None:
    changes = {"complaints.clock": "business",
               "calendars.markets.CN": {"zone": "Asia/Shanghai", "hours": "09:00-18:00"}}
    # filed Friday 2026-01-09 17:30 Shanghai, 24 business hours: half an hour on Friday,
    # 9 on Monday and 9 on Tuesday, 5.5 on Wednesday: 14:30 Shanghai
    decision = decide(changes, filed_at="2026-01-09T09:30:00+00:00")
    assert decision.details["first_response_due"] == "2026-01-14T06:30:00+00:00"
    assert decision.details["clock"] == "business"
    assert "business hours (09:00-18:00 Asia/Shanghai" in " ".join(decision.reasons)
