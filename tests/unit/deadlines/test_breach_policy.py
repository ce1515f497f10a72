"""deadlines.breach v1: an in-policy return nobody decided is approved, a return not shipped
back expires, everything else escalates; complaints climb supervisor -> platform arbitration."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from aftersales_core.decisions import JSON
from aftersales_core.errors import InvalidCommandError
from aftersales_core.policies import evaluate, rerun
from aftersales_core.policies.deadline_breach import decide
from aftersales_core.policies.deadlines_settings import SETTINGS_V1
from aftersales_core.policies.deadlines_v3_settings import SETTINGS_V3, DeadlineSettingsV3


def breach(**overrides: Any) -> JSON:
    return {
        "case_type": "return",
        "name": "decision",
        "action": "auto_decide",
        "due_at": "2026-01-07T10:00:00+00:00",
        "fired_at": "2026-01-07T10:00:02+00:00",
        "escalations": [],
        "eligibility_outcome": "approve",
        **overrides,
    }


@pytest.mark.parametrize(
    ("overrides", "outcome", "level"),
    [
        ({}, "auto_approve", None),
        ({"eligibility_outcome": "review"}, "escalate", "supervisor"),
        ({"eligibility_outcome": None}, "escalate", "supervisor"),
        ({"name": "ship_back", "action": "expire"}, "expire", None),
        ({"name": "refund", "action": "escalate"}, "escalate", "supervisor"),
        (
            {
                "case_type": "refund",
                "name": "refund",
                "action": "escalate",
                "escalations": ["supervisor"],
            },
            "escalate",
            "supervisor",
        ),
        (
            {"case_type": "complaint", "name": "first_response", "action": "escalate"},
            "escalate",
            "supervisor",
        ),
        (
            {
                "case_type": "complaint",
                "name": "resolution",
                "action": "escalate",
                "escalations": ["supervisor"],
            },
            "escalate",
            "platform_arbitration",
        ),
        (
            {
                "case_type": "complaint",
                "name": "resolution_escalated",
                "action": "escalate",
                "escalations": ["supervisor", "platform_arbitration"],
            },
            "none",
            None,
        ),
        (
            {
                "case_type": "complaint",
                "name": "resolution",
                "action": "escalate",
                "escalations": ["regulator"],
            },
            "none",
            None,
        ),
    ],
)
def test_a_breach_approves_in_policy_returns_expires_or_climbs_the_ladder(
    overrides: dict[str, Any], outcome: str, level: str | None
) -> None:
    decision = evaluate("deadlines.breach", breach(**overrides))
    assert (decision.outcome, decision.details["level"]) == (outcome, level)
    assert decision.details["hours_late"] == 0.0 and rerun(decision).same_result_as(decision)


def test_the_watchdog_is_not_a_breach_policy_matter() -> None:
    with pytest.raises(InvalidCommandError, match="case_type"):
        evaluate("deadlines.breach", breach(case_type="order", action="open_complaint"))


FULL_LADDER = ("supervisor", "platform_arbitration", "regulator")


@pytest.mark.parametrize(
    ("ladder", "escalations", "level"),
    [
        # a hand escalation above a step of the book's ladder: the next step above it, never
        # back down to the step skipped (the complaint refuses an escalation that does not climb)
        (FULL_LADDER, ["platform_arbitration"], "regulator"),
        (FULL_LADDER, [], "supervisor"),
        (("supervisor", "regulator"), ["platform_arbitration"], "regulator"),
        (("supervisor", "regulator"), ["supervisor"], "regulator"),
        # at or above the top of the book's ladder: the breach escalates no further
        (("supervisor",), ["platform_arbitration"], None),
        (FULL_LADDER, ["regulator"], None),
    ],
)
def test_a_breach_escalates_above_the_highest_level_reached(
    ladder: tuple[str, ...], escalations: list[str], level: str | None
) -> None:
    """v2 (and deadlines v5, which stops scheduling escalated targets at the same point)."""
    settings = replace(SETTINGS_V1, complaint_ladder=ladder)
    decision = decide(breach(case_type="complaint", name="resolution", action="escalate",
                             escalations=escalations), settings, 2)
    assert decision.details["level"] == level
    assert decision.outcome == ("escalate" if level else "none")
    assert settings.beyond_the_ladder(escalations) is (level is None)
    v3: DeadlineSettingsV3 = replace(SETTINGS_V3, complaint_ladder=ladder)
    assert v3.beyond_the_ladder(escalations) is (level is None)  # deadlines v5 waits on it


def test_v1_still_decides_as_recorded_going_down_after_a_skip() -> None:
    """Recorded v1 decisions re-run to the same result: after a hand escalation that skipped
    the supervisor, v1 took the first step not reached (the supervisor, a step down)."""
    escalated = breach(case_type="complaint", name="resolution", action="escalate",
                       escalations=["platform_arbitration"])
    full = replace(SETTINGS_V1, complaint_ladder=FULL_LADDER)
    assert decide(escalated, full, 1).details["level"] == "supervisor"
    assert decide(escalated, full, 2).details["level"] == "regulator"
