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
    given: JSON = {"currency": "CNY", "back_in_zone_by": BY,
                   "arrived_at": "2026-02-10T10:00:00+08:00", "returnless": False,
                   "zone": "Asia/Shanghai", "lines": [line(unit_price="599.00")],
                   "discount": "0.00", "shipping_fee": "0.00",
                   "quota_used_by_order": "599.00", "quota_restored_for_order": "0.00",
                   **overrides}
    given.setdefault("order_lines", given["lines"])  # v2: the whole order (here: just those)
    return given


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


def test_v2_restores_what_the_returned_goods_were_paid_as_the_quota_counted_them() -> None:
    """Bag 3,000.00 and watch 2,000.00 less a 500.00 discount, 50.00 freight: the quota used
    4,550.00. Returning the bag restores its 2,700.00 net of its discount share and its 30.00
    share of the freight, not its 3,000.00 list price (v1); both lines restore all 4,550.00."""
    order = [line("A", unit_price="3000.00"), line("B", unit_price="2000.00")]
    given = {"order_lines": order, "discount": "500.00", "shipping_fee": "50.00",
             "quota_used_by_order": "4550.00"}
    bag = decide(lines=[order[0]], **given)
    assert (bag.policy_version, bag.details["quota_restored"]) == (2, "2730.00")
    assert bag.details["returned_value"] == "2730.00"
    assert rerun(bag).same_result_as(bag)
    watch = decide(lines=[order[1]], quota_restored_for_order="2730.00", **given)
    assert watch.details["quota_restored"] == "1820.00"  # 4,550.00 in all
    both = decide(lines=order, **given)
    assert both.details["quota_restored"] == "4550.00"
    v1 = evaluate("return.customs_return", inputs(lines=[order[0]], **given), version=1)
    assert v1.details["quota_restored"] == "3000.00"  # recorded v1 decisions re-run as they were
    assert rerun(v1).same_result_as(v1)


def test_v2_values_part_of_a_line_by_its_units() -> None:
    order = [line("A", quantity=3, unit_price="100.00")]
    one = decide(lines=[line("A", quantity=1, unit_price="100.00")], order_lines=order,
                 discount="10.00", shipping_fee="0.00", quota_used_by_order="290.00")
    assert one.details["quota_restored"] == "96.67"
