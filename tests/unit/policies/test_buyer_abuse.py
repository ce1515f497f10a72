"""buyer.abuse_signal v1: a high return rate over the last orders sends a buyer to review."""

from __future__ import annotations

import pytest

from aftersales_core.errors import InvalidCommandError
from aftersales_core.policies import evaluate
from tests.unit.policies.builders import abuse


def test_a_return_rate_above_half_of_at_least_4_orders_goes_to_review() -> None:
    decision = evaluate("buyer.abuse_signal", abuse(recent_orders=6, recent_returns=4))
    assert decision.outcome == "review"
    assert decision.details["return_rate"] == "0.6667"
    assert "66.67%" in decision.reasons[0] and "50%" in decision.reasons[0]


def test_a_return_rate_of_exactly_half_is_ok() -> None:
    assert evaluate("buyer.abuse_signal", abuse(recent_orders=4, recent_returns=2)).outcome == "ok"


def test_fewer_than_4_orders_say_nothing_about_a_buyer() -> None:
    decision = evaluate("buyer.abuse_signal", abuse(recent_orders=3, recent_returns=3))
    assert decision.outcome == "ok"
    assert decision.rules == ("abuse.min_orders",)


def test_a_buyer_without_orders_is_ok() -> None:
    assert evaluate("buyer.abuse_signal", abuse(recent_orders=0, recent_returns=0)).outcome == "ok"


def test_more_than_the_last_20_orders_is_refused_as_input() -> None:
    with pytest.raises(InvalidCommandError, match="recent_orders"):
        evaluate("buyer.abuse_signal", abuse(recent_orders=21))
