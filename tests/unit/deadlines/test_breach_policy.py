"""deadlines.breach v1: an in-policy return nobody decided is approved, a return not shipped
back expires, everything else escalates; complaints climb supervisor -> platform arbitration."""

from __future__ import annotations

from typing import Any

import pytest

from aftersales_core.decisions import JSON
from aftersales_core.errors import InvalidCommandError
from aftersales_core.policies import evaluate, rerun


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
