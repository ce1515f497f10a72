"""return.eligibility v4: v3 with category vocabulary 2, so Chinese and full-width category
names get their category's rule (China's 7-day no-reason return excludes newspapers,
custom-made and perishable goods); v3 stays registered and re-runs as it was recorded."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from aftersales_core.decisions import JSON
from aftersales_core.policies import current_version, evaluate, rerun
from aftersales_core.policybook.bindings import eligibility_v3
from aftersales_core.policybook.builtin import builtin_book
from tests.unit.policies import strategies
from tests.unit.policies.builders import eligibility, line

DAY_2 = "2026-01-07T10:00:00+00:00"  # delivered 2026-01-05 in CN

EXCLUDED = [
    ("报纸", "newspapers_periodicals"), ("报刊杂志", "newspapers_periodicals"),
    ("ｎｅｗｓｐａｐｅｒｓ", "newspapers_periodicals"),  # noqa: RUF001
    ("定制商品", "custom_made"), ("生鲜", "perishable"), ("鲜花", "perishable"),
    ("報紙", "newspapers_periodicals"), ("在线下载的数字化商品", "digital_download"),
]


def changed_mind(category: str, **overrides: object) -> JSON:
    return eligibility(lines=[line(category=category)], requested_at=DAY_2, **overrides)


def test_v4_and_v3_stay_registered_beside_v5_and_v6() -> None:
    assert current_version("return.eligibility") == 6
    assert evaluate("return.eligibility", changed_mind("cosmetics"), 4).policy_version == 4
    assert evaluate("return.eligibility", changed_mind("cosmetics"), 3).policy_version == 3


@pytest.mark.parametrize(("name", "category"), EXCLUDED)
def test_a_chinese_or_full_width_excluded_category_is_refused_a_no_reason_return(
        name: str, category: str) -> None:
    decision = evaluate("return.eligibility", changed_mind(name), 4)
    assert decision.outcome == "reject"
    assert f"category.{category}" in decision.rules
    assert decision.details["categories"]["L1"] == {"given": name, "category": category,
                                                    "rule": f"category.{category}"}
    assert decision.details["unclassified_lines"] == []
    said = next(r for r in decision.reasons if r.startswith("line L1"))
    assert f"an alias of {category}" in said and "cannot be returned without a fault" in said


@pytest.mark.parametrize(("name", "category"), EXCLUDED)
def test_v3_recorded_such_a_name_as_unclassified_and_re_runs_so(name: str,
                                                                 category: str) -> None:
    """A v3 decision recorded before vocabulary 2 re-runs to its recorded outcome."""
    recorded = evaluate("return.eligibility", changed_mind(name), 3)
    assert recorded.outcome == "approve"
    assert "category.unclassified" in recorded.rules
    assert recorded.details["unclassified_lines"] == ["L1"]
    assert rerun(recorded).to_json() == recorded.to_json()
    booked = evaluate("return.eligibility", changed_mind(name), 3,
                      eligibility_v3(builtin_book()))
    assert booked.to_json() == recorded.to_json()


def test_faulty_goods_are_returnable_whatever_their_chinese_category() -> None:
    decision = evaluate("return.eligibility", changed_mind("报纸", reason="defective"), 4)
    assert decision.outcome == "approve"
    assert "category.newspapers_periodicals" in decision.rules


def test_a_chinese_standard_category_gets_the_standard_rules() -> None:
    decision = evaluate("return.eligibility", changed_mind("化妆品"), 4)
    assert decision.outcome == "approve"
    assert decision.details["categories"]["L1"]["category"] == "cosmetics"
    assert "category.standard" in decision.rules


@settings(max_examples=300, deadline=None)
@given(strategies.eligibility_inputs())
def test_v4_decides_as_v3_on_every_name_vocabulary_1_could_read(inputs: JSON) -> None:
    v3, v4 = (evaluate("return.eligibility", inputs, v) for v in (3, 4))
    assert (v4.outcome, v4.reasons, v4.rules, v4.details) == \
        (v3.outcome, v3.reasons, v3.rules, v3.details)
