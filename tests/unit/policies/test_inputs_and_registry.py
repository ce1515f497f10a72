"""Invalid inputs are refused naming the field; every policy is registered and versioned."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from aftersales_core.decisions import JSON
from aftersales_core.errors import InvalidCommandError, InvalidMoneyError, UnknownPolicyError
from aftersales_core.policies import current_version, evaluate, rerun
from aftersales_core.policies.refund_terms import CN_REFUND
from aftersales_core.policies.return_eligibility import decide
from aftersales_core.policies.return_windows import Regime, ReturnWindows, Window
from aftersales_core.policies.vocabulary import EU_MARKETS
from tests.unit.policies import builders

POLICIES: dict[str, Callable[..., JSON]] = {
    "return.eligibility": builders.eligibility,
    "buyer.abuse_signal": builders.abuse,
    "return.shipping": builders.shipping,
    "refund.calculation": builders.refund,
    "refund.approval": builders.approval,
    "complaint.triage": builders.triage,
    "logistics.exception": builders.logistics,
    "return.disposition": builders.disposition,
}


CURRENT = {"return.eligibility": 6, "return.shipping": 3, "refund.calculation": 6,
           "refund.approval": 4, "complaint.triage": 4, "logistics.exception": 3}


@pytest.mark.parametrize("policy_id", sorted(POLICIES))
def test_every_policy_is_registered_at_its_current_version_with_the_old_ones_kept(
        policy_id: str) -> None:
    current = CURRENT.get(policy_id, 1)
    assert current_version(policy_id) == current
    for version in range(1, current + 1):
        decision = evaluate(policy_id, POLICIES[policy_id](), version)
        assert (decision.policy_id, decision.policy_version) == (policy_id, version)
        assert decision.reasons and decision.rules


@pytest.mark.parametrize("policy_id", sorted(POLICIES))
def test_every_input_field_is_required(policy_id: str) -> None:
    for name in POLICIES[policy_id]():
        inputs = POLICIES[policy_id]()
        del inputs[name]
        with pytest.raises(InvalidCommandError, match=f"{name} is missing"):
            evaluate(policy_id, inputs)


@pytest.mark.parametrize(("policy_id", "overrides", "error", "field"), [
    ("refund.approval", {"currency": "XYZ"}, InvalidMoneyError, "currency"),
    ("refund.approval", {"amount": "-1.00"}, InvalidMoneyError, "amount"),
    ("refund.approval", {"amount": 1.5}, InvalidMoneyError, "amount"),
    ("refund.approval", {"amount": "1.005"}, InvalidMoneyError, "amount"),
    ("refund.approval", {"amount": "NaN"}, InvalidMoneyError, "amount"),
    ("return.eligibility", {"requested_at": "2026-01-08T10:00:00"}, InvalidCommandError,
     "requested_at"),
    ("return.eligibility", {"requested_at": "yesterday"}, InvalidCommandError, "requested_at"),
    ("return.eligibility", {"reason": "bored"}, InvalidCommandError, "reason"),
    ("return.eligibility", {"market": "china"}, InvalidCommandError, "market"),
    ("return.eligibility", {"lines": []}, InvalidCommandError, "lines"),
    ("return.eligibility", {"lines": [builders.line(quantity=0)]}, InvalidCommandError,
     r"lines\[0\].quantity"),
    ("return.eligibility", {"goods_intact": "yes"}, InvalidCommandError, "goods_intact"),
    ("refund.calculation", {"paid": None}, InvalidCommandError, "paid"),
    ("complaint.triage", {"prior_complaints": -1}, InvalidCommandError, "prior_complaints"),
    ("logistics.exception", {"since": "2026-01-11T10:00:00+00:00"}, InvalidCommandError,
     "since"),
])
def test_invalid_inputs_are_refused_naming_the_field(policy_id: str, overrides: dict[str, Any],
                                                     error: type[Exception],
                                                     field: str) -> None:
    with pytest.raises(error, match=field):
        evaluate(policy_id, POLICIES[policy_id](**overrides))


def test_an_unknown_policy_or_version_is_refused() -> None:
    with pytest.raises(UnknownPolicyError):
        evaluate("return.eligibility", builders.eligibility(), version=99)
    with pytest.raises(UnknownPolicyError):
        current_version("no.such.policy")


def test_other_settings_give_a_new_version_while_v1_gives_its_old_result() -> None:
    inputs = builders.eligibility(requested_at="2026-01-14T10:00:00+00:00")  # day 9
    ten_days = Regime("cn_no_reason_7d", (Window("cn.no_reason_10d", "10-day window",
                                                 days=10),), CN_REFUND)
    v2 = decide(inputs, ReturnWindows(cn_no_reason=ten_days), 2)
    v1 = evaluate("return.eligibility", inputs, version=1)
    assert (v1.outcome, v2.outcome) == ("reject", "approve")
    assert rerun(v1).same_result_as(v1)


def test_the_eu_has_27_member_markets_and_the_uk_is_not_one() -> None:
    assert len(EU_MARKETS) == 27
    assert "GB" not in EU_MARKETS and "GR" in EU_MARKETS
