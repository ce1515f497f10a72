"""return.eligibility v6: a cross-border return's note says how the buyer's quota is restored
(what the returned units were paid, their share of the discount and of the freight), where v5
gave the returned units' list value as an upper bound that the customs return then exceeded
(found cold, F3); v5 stays registered and re-runs as it was recorded."""

from __future__ import annotations

from aftersales_core.policies import current_version, evaluate, rerun
from tests.unit.policies.builders import cross_border, line

RETURN = cross_border(lines=[line(quantity=2, unit_price="500.00", category="cosmetics")])


def test_v6_says_how_the_quota_is_restored_not_an_upper_bound() -> None:
    assert current_version("return.eligibility") == 6
    v6 = evaluate("return.eligibility", RETURN)
    assert (v6.policy_version, v6.outcome) == (6, "approve"), v6.reasons
    note = next(reason for reason in v6.reasons if "bonded zone" in reason)
    assert "the buyer's annual quota is restored by what the returned units were paid, as the " \
           "quota counted them (their share of the discount and of the freight)" in note, note
    assert "up to" not in note
    assert rerun(v6) == v6


def test_v5_still_gives_its_bound_and_re_runs_as_recorded() -> None:
    v5 = evaluate("return.eligibility", RETURN, 5)
    assert any("up to 1000.00 CNY is restored to the buyer's annual quota" in reason
               for reason in v5.reasons), v5.reasons
    assert rerun(v5) == v5
    v6 = evaluate("return.eligibility", RETURN)
    assert (v6.outcome, v6.rules, v6.details) == (v5.outcome, v5.rules, v5.details)
