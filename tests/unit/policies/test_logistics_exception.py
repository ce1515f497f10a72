"""logistics.exception v1: which shipment troubles open a customer case, and which remedy."""

from __future__ import annotations

import pytest

from aftersales_core.errors import InvalidCommandError
from aftersales_core.policies import evaluate, rerun
from aftersales_core.policies.logistics_exception import LogisticsSettings, decide
from tests.unit.policies.builders import logistics


def test_a_lost_outbound_parcel_opens_a_complaint_and_refunds_the_order() -> None:
    decision = evaluate("logistics.exception", logistics())
    assert decision.outcome == "open_complaint_and_refund"
    assert decision.details["refund"] is True and decision.details["reship"] is False
    assert decision.details["complaint_category"] == "logistics_delay"


def test_a_merchant_who_reships_lost_parcels_opens_a_complaint_with_a_reship() -> None:
    decision = decide(logistics(), LogisticsSettings(lost_parcel_remedy="reship"), 2)
    assert decision.outcome == "open_complaint"
    assert decision.details["reship"] is True and decision.details["refund"] is False


@pytest.mark.parametrize(("event", "category"), [
    ("Damaged", "damaged"), ("DeliveryFailed", "logistics_delay"),
])
def test_damage_and_failed_delivery_open_a_complaint(event: str, category: str) -> None:
    decision = evaluate("logistics.exception", logistics(event_type=event))
    assert decision.outcome == "open_complaint"
    assert decision.details["complaint_category"] == category


def test_a_customs_hold_of_exactly_72_hours_is_within_the_limit() -> None:
    decision = evaluate("logistics.exception", logistics(
        event_type="CustomsHeld", since="2026-01-07T10:00:00+00:00"))
    assert decision.outcome == "none"
    assert decision.details["hours_over_limit"] is None


def test_a_customs_hold_longer_than_72_hours_opens_a_customs_complaint() -> None:
    decision = evaluate("logistics.exception", logistics(
        event_type="CustomsHeld", since="2026-01-07T08:30:00+00:00"))
    assert decision.outcome == "open_complaint"
    assert decision.details["complaint_category"] == "customs"
    assert decision.details["hours_over_limit"] == 1.5


def test_a_customs_hold_just_reported_is_within_the_limit() -> None:
    decision = evaluate("logistics.exception", logistics(event_type="CustomsHeld", since=None))
    assert decision.outcome == "none"


def test_no_scan_for_120_hours_is_within_the_limit_and_one_more_hour_is_not() -> None:
    within = evaluate("logistics.exception", logistics(
        event_type="NoScan", since="2026-01-05T10:00:00+00:00"))
    over = evaluate("logistics.exception", logistics(
        event_type="NoScan", since="2026-01-05T09:00:00+00:00"))
    assert within.outcome == "none"
    assert over.outcome == "open_complaint"
    assert over.details["hours_over_limit"] == 1.0


def test_no_scan_needs_the_time_of_the_last_scan() -> None:
    with pytest.raises(InvalidCommandError, match="since"):
        evaluate("logistics.exception", logistics(event_type="NoScan", since=None))


def test_a_lost_return_parcel_opens_a_complaint_without_a_refund_decision() -> None:
    decision = evaluate("logistics.exception", logistics(direction="return"))
    assert decision.outcome == "open_complaint"
    assert decision.details["refund"] is False


@pytest.mark.parametrize("event", ["Damaged", "DeliveryFailed", "CustomsHeld", "NoScan"])
def test_other_return_leg_events_open_no_customer_case(event: str) -> None:
    decision = evaluate("logistics.exception", logistics(
        direction="return", event_type=event, since="2026-01-01T10:00:00+00:00"))
    assert decision.outcome == "none"


def test_v2_a_lost_parcel_of_a_partly_delivered_order_opens_its_refund_for_review() -> None:
    decision = evaluate("logistics.exception", logistics(delivered_parcels=["sh-W4a"]), 2)
    assert decision.policy_version == 2
    assert decision.outcome == "open_complaint_and_refund"
    assert decision.rules == ("logistics.lost_parcel_partly_delivered",)
    assert decision.details["refund"] is True and decision.details["refund_review"] is True
    assert decision.details["delivered_parcels"] == ["sh-W4a"]
    assert "parcel sh-W4a was delivered" in decision.reasons[0]
    assert "supervisor" in decision.reasons[0]


def test_v2_a_lost_parcel_with_nothing_else_delivered_refunds_the_order_on_policy() -> None:
    decision = evaluate("logistics.exception", logistics())
    assert decision.rules == ("logistics.lost_parcel",)
    assert decision.details["refund"] is True and decision.details["refund_review"] is False


def test_v1_refunded_the_whole_order_and_still_re_runs_so() -> None:
    v1 = evaluate("logistics.exception", logistics(delivered_parcels=["sh-W4a"]), version=1)
    assert v1.rules == ("logistics.lost_parcel",) and "refund_review" not in v1.details
    assert rerun(v1) == v1


def test_v2_needs_the_orders_delivered_parcels() -> None:
    inputs = logistics()
    del inputs["delivered_parcels"]
    with pytest.raises(InvalidCommandError, match="delivered_parcels is missing"):
        evaluate("logistics.exception", inputs)


def test_a_lost_parcel_beside_one_still_on_its_way_refunds_only_after_review() -> None:
    decision = evaluate("logistics.exception", logistics(parcels_on_the_way=["s-2"]))
    assert decision.policy_version == 3
    assert decision.outcome == "open_complaint_and_refund"
    assert decision.details["refund_review"] is True
    assert decision.details["parcels_on_the_way"] == ["s-2"]
    assert decision.rules == ("logistics.lost_parcel_others_on_the_way",)
    assert "parcel s-2 is still on the way" in decision.reasons[0]


def test_v2_looked_at_delivered_parcels_only_and_still_re_runs_so() -> None:
    decision = evaluate("logistics.exception", logistics(parcels_on_the_way=["s-2"]), 2)
    assert decision.details["refund_review"] is False
    assert "parcels_on_the_way" not in decision.details
    assert rerun(decision) == decision


@pytest.mark.parametrize(("since", "said"), [
    ("2026-01-07T09:59:59+00:00", "72 hours 0 minutes 1 second, over the 72-hour limit"),
    ("2026-01-07T08:30:00+00:00", "73 hours 30 minutes, over the 72-hour limit"),
    ("2026-01-07T10:00:00+00:00", "72 hours, within the 72-hour limit"),
    ("2026-01-07T10:00:00.500000+00:00", "71 hours 59 minutes 59.5 seconds, within the "
                                         "72-hour limit"),
    ("2026-01-10T09:00:00+00:00", "1 hour, within the 72-hour limit"),
])
def test_a_customs_hold_says_how_long_it_lasted_to_the_second(since: str, said: str) -> None:
    decision = evaluate("logistics.exception", logistics(event_type="CustomsHeld", since=since))
    assert decision.reasons[0] == f"held at customs since {since}: {said}" + (
        ", so a complaint is opened for the customer" if "over" in said else "")


def test_v2_rounded_a_hold_just_over_the_limit_to_the_limit_and_still_re_runs_so() -> None:
    decision = evaluate("logistics.exception", logistics(
        event_type="CustomsHeld", since="2026-01-07T09:59:59+00:00"), 2)
    assert decision.outcome == "open_complaint"
    assert "72 hours, over the 72-hour limit" in decision.reasons[0]
    assert rerun(decision) == decision


def test_v3_a_lost_parcel_itself_scanned_delivered_opens_its_refund_for_review() -> None:
    decision = evaluate("logistics.exception",
                        logistics(delivered_at="2026-01-08T10:00:00+00:00"))
    assert decision.policy_version == 3
    assert decision.outcome == "open_complaint_and_refund"
    assert decision.rules == ("logistics.lost_after_delivery",)
    assert decision.details["refund"] is True and decision.details["refund_review"] is True
    assert "scanned Delivered at 2026-01-08T10:00:00+00:00" in decision.reasons[0]
    assert "supervisor" in decision.reasons[0]


def test_v2_never_looked_at_the_lost_parcels_own_delivery() -> None:
    v2 = evaluate("logistics.exception", logistics(delivered_at="2026-01-08T10:00:00+00:00"), 2)
    assert v2.rules == ("logistics.lost_parcel",)
