"""``repair.remedies``: v2 decides from counts, so a buyer's words about the fault (their
personal data) are neither an input nor a reason; v1 still re-runs as it was recorded."""

from __future__ import annotations

import pytest

from aftersales_core.errors import InvalidCommandError
from aftersales_core.policies import current_version, evaluate, rerun


def counts(market: str, failed: int, same: int, repairable: bool = True) -> dict[str, object]:
    return {"market": market, "repairable": repairable, "failed_repairs": failed,
            "same_fault_failures": same}


def test_the_current_version_reads_counts_and_quotes_no_fault() -> None:
    assert current_version("repair.remedies") == 2
    decision = evaluate("repair.remedies", counts("CN", 1, 1))
    assert decision.details == {"ladder": "cn_three_guarantees", "failed_repairs": 2,
                                "remedies": ["replacement", "refund"]}
    assert decision.reasons[0].startswith("repair 2 of the same fault failed: China's")
    assert "fault" not in decision.inputs and "earlier_failed_faults" not in decision.inputs


def test_china_counts_only_the_failures_of_the_same_fault() -> None:
    other_fault = evaluate("repair.remedies", counts("CN", 1, 0))
    assert other_fault.outcome == "repair_again"
    assert evaluate("repair.remedies", counts("GB", 0, 0)).details["remedies"] == [
        "refund", "price_reduction"]
    unrepairable = evaluate("repair.remedies", counts("FR", 0, 0, repairable=False))
    assert unrepairable.reasons[0].startswith("the fault cannot be repaired: EU Directive")


def test_more_failures_of_one_fault_than_failures_is_refused() -> None:
    with pytest.raises(InvalidCommandError, match="same_fault_failures"):
        evaluate("repair.remedies", counts("CN", 0, 1))


def test_a_recorded_v1_decision_re_runs_with_the_faults_it_read() -> None:
    v1 = evaluate("repair.remedies", {"market": "CN", "fault": "hinge", "repairable": True,
                                      "earlier_failed_faults": ["hinge", "lid"]}, 1)
    assert (v1.policy_version, v1.outcome) == (1, "buyer_chooses")
    assert v1.reasons[0].startswith("repair 2 of the same fault failed ('hinge'): China's")
    assert rerun(v1).same_result_as(v1)
