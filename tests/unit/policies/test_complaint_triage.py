"""complaint.triage v1: priority, first-response and resolution deadlines, routing."""

from __future__ import annotations

import pytest

from aftersales_core.decisions import JSON, PolicyDecision
from aftersales_core.errors import InvalidCommandError
from aftersales_core.policies import evaluate as evaluate_any
from tests.unit.policies.builders import triage


def evaluate(policy_id: str, inputs: JSON, version: int = 1) -> PolicyDecision:
    """These tests are of complaint.triage v1 (v2 is current; still registered for re-runs)."""
    return evaluate_any(policy_id, inputs, version)


@pytest.mark.parametrize(("overrides", "priority"), [
    ({"category": "counterfeit_suspected"}, "P1"),
    ({"channel": "regulator"}, "P1"),
    ({"channel": "regulator", "category": "damaged"}, "P1"),
    ({"channel": "platform"}, "P2"),
    ({"channel": "social"}, "P2"),
    ({"category": "damaged"}, "P2"),
    ({"category": "customs"}, "P2"),
    ({"category": "refund_delay"}, "P2"),
    ({"prior_complaints": 2}, "P2"),
    ({"prior_complaints": 1}, "P3"),
    ({"channel": "chat", "category": "logistics_delay"}, "P3"),
    ({}, "P3"),
])
def test_priority_follows_category_channel_and_history(overrides: dict[str, object],
                                                       priority: str) -> None:
    decision = evaluate("complaint.triage", triage(**overrides))
    assert decision.outcome == priority
    assert decision.details["priority"] == priority


def test_first_response_is_due_within_24_hours_and_resolution_within_7_days() -> None:
    details = evaluate("complaint.triage", triage()).details
    assert details["first_response_hours"] == 24
    assert details["first_response_due"] == "2026-01-06T10:00:00+00:00"
    assert details["resolution_days"] == 7
    assert details["resolution_due"] == "2026-01-12T10:00:00+00:00"


@pytest.mark.parametrize("channel", ["platform", "regulator"])
def test_platform_and_regulator_complaints_get_a_first_response_within_12_hours(
        channel: str) -> None:
    details = evaluate("complaint.triage", triage(channel=channel)).details
    assert details["first_response_hours"] == 12
    assert details["first_response_due"] == "2026-01-05T22:00:00+00:00"


@pytest.mark.parametrize(("category", "route"), [
    ("logistics_delay", "logistics"), ("damaged", "logistics"), ("customs", "customs"),
    ("not_as_described", "quality"), ("counterfeit_suspected", "quality"),
    ("refund_delay", "payments"), ("service", "general"), ("other", "general"),
])
def test_each_category_is_routed_to_its_team(category: str, route: str) -> None:
    assert evaluate("complaint.triage", triage(category=category)).details["route"] == route


def test_a_complaint_without_an_order_is_triaged() -> None:
    decision = evaluate("complaint.triage", triage(market=None, order_value=None, currency=None))
    assert decision.outcome == "P3"


def test_an_order_value_without_a_currency_is_refused() -> None:
    with pytest.raises(InvalidCommandError, match="currency"):
        evaluate("complaint.triage", triage(currency=None))
