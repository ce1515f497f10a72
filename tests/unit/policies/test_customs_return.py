"""return.customs_return v1: goods back in the bonded zone by the end of day 45 after release
make a customs return (taxes refunded, quota restored); later, or never, they do not."""

from __future__ import annotations

from typing import Any

import pytest

from aftersales_core.decisions import JSON, PolicyDecision
from aftersales_core.policies import evaluate, rerun
from tests.unit.policies.builders import line

BY = "2026-02-17T23:59:59.999999+08:00"  # the end of day 45 after a release on 3 January


def inputs(**overrides: Any) -> JSON:
    return {"currency": "CNY", "back_in_zone_by": BY, "arrived_at": "2026-02-10T10:00:00+08:00",
            "returnless": False, "zone": "Asia/Shanghai",
            "lines": [line(unit_price="599.00")], "quota_used_by_order": "599.00",
            "quota_restored_for_order": "0.00", **overrides}


def decide(**overrides: Any) -> PolicyDecision:
    return evaluate("return.customs_return", inputs(**overrides))


def test_goods_arriving_on_the_last_instant_of_day_45_are_a_customs_return() -> None:
    decision = decide(arrived_at=BY)
    assert decision.outcome == "customs_return"
    assert decision.details == {"customs_return": True, "tax_refundable": True,
                                "quota_restored": "599.00", "returned_value": "599.00"}
    assert rerun(decision).same_result_as(decision)


def test_goods_arriving_on_day_46_are_no_customs_return() -> None:
    decision = decide(arrived_at="2026-02-18T00:00:00+08:00")
    assert decision.outcome == "not_customs_return"
    assert decision.details["tax_refundable"] is False
    assert decision.details["quota_restored"] is None
    assert decision.reasons == ("the goods arrived back in the bonded zone on 2026-02-18, 1 day "
                                "after the end of 2026-02-17 (Asia/Shanghai), the 45-day limit "
                                "after customs release: no customs return, so the refund "
                                "excludes the cross-border tax and the quota is not restored",)


def test_the_local_date_of_arrival_counts_where_it_differs_from_utc() -> None:
    # 16:00 UTC on 17 February is already 18 February in Shanghai
    assert decide(arrived_at="2026-02-17T15:59:59+00:00").outcome == "customs_return"
    assert decide(arrived_at="2026-02-17T16:00:00+00:00").outcome == "not_customs_return"


def test_a_returnless_refund_is_no_customs_return() -> None:
    decision = decide(returnless=True, arrived_at=None)
    assert decision.outcome == "not_customs_return"
    assert "customs.returnless" in decision.rules


@pytest.mark.parametrize(("overrides", "rule"), [
    ({"arrived_at": None}, "customs.not_arrived"),
    ({"back_in_zone_by": None}, "customs.release_unknown"),
])
def test_what_cannot_be_checked_goes_to_a_person_and_refunds_no_tax(overrides: dict[str, Any],
                                                                    rule: str) -> None:
    decision = decide(**overrides)
    assert decision.outcome == "review" and rule in decision.rules
    assert decision.details["tax_refundable"] is False


def test_the_quota_restored_never_exceeds_what_the_order_used_and_is_not_yet_restored() -> None:
    capped = decide(quota_used_by_order="599.00", quota_restored_for_order="400.00")
    assert capped.details["quota_restored"] == "199.00"
    assert "capped" in capped.reasons[-1]
    unknown = decide(quota_used_by_order=None)
    assert unknown.details["quota_restored"] == "599.00"


def test_a_quota_is_only_kept_in_yuan() -> None:
    decision = decide(currency="USD", lines=[line(unit_price="80.00")],
                      quota_used_by_order=None, quota_restored_for_order="0.00")
    assert decision.outcome == "customs_return"
    assert decision.details["quota_restored"] is None


def test_an_unknown_zone_is_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match="zone"):
        decide(zone="Asia/Atlantis")
