"""A lost parcel through the upstream path: the whole order refunded on policy when it is the
order's only parcel known (or the others are lost too); when another parcel of the order was
delivered (logistics.exception v2, refund.approval v4) or is still on its way (v3), the refund
goes to a supervisor, since the shipment facts (SPEC 4.1 shipments.v1) do not say which lines a
parcel held."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from aftersales_core.application.services import Services
from aftersales_core.domain.complaints import ComplaintCase
from aftersales_core.domain.refunds import RefundCase
from aftersales_core.errors import NotAuthorisedError
from tests.factories import T0, caller, ingest, order_paid, order_placed, shipment

LINES = [{"line_id": "a", "sku": "SKU-A", "category": "home", "quantity": 1,
          "unit_price": "40.00"},
         {"line_id": "b", "sku": "SKU-B", "category": "home", "quantity": 1,
          "unit_price": "60.00"}]


def two_parcels(app: Services, order_id: str = "W4") -> None:
    placed = order_placed(order_id, lines=LINES, shipping_fee="10.00", taxes="0.00")
    assert placed["total"] == "110.00"
    ingest(app, placed, order_paid(placed))


def opened(app: Services, effects: list[str]) -> tuple[ComplaintCase, RefundCase]:
    [complaint] = [e.split()[1] for e in effects if e.startswith("complaint")]
    [refund] = [e.split()[1] for e in effects if e.startswith("refund")]
    return (app.store.load(ComplaintCase, UUID(complaint)),
            app.store.load(RefundCase, UUID(refund)))


def test_a_lost_parcel_beside_a_delivered_one_goes_to_a_supervisor(app: Services) -> None:
    two_parcels(app)
    ingest(app, shipment("W4", "Delivered", T0 + timedelta(days=3), shipment_id="sh-W4a"))
    [lost] = ingest(app, shipment("W4", "Lost", T0 + timedelta(days=5), shipment_id="sh-W4b"))
    complaint, refund = opened(app, lost.effects)
    cause = complaint.decisions[0]
    assert (cause.policy_id, cause.policy_version) == ("logistics.exception", 3)
    assert cause.inputs["delivered_parcels"] == ["sh-W4a"]
    assert cause.details["refund_review"] is True
    assert refund.amount is not None and str(refund.amount.amount) == "110.00"
    assert refund.status == "awaiting_approval"  # not on policy, though under the threshold
    approval = refund.decisions[-1]
    assert (approval.policy_id, approval.policy_version, approval.outcome) == (
        "refund.approval", 4, "needs_supervisor")
    assert "approval.review" in approval.rules
    assert any("sh-W4a" in reason for reason in approval.reasons)
    with pytest.raises(NotAuthorisedError):
        app.refunds.approve(caller(app, "agent-2"), refund.id, T0 + timedelta(days=6))
    app.refunds.reject(caller(app, "agent-2"), refund.id, "parcel sh-W4b held line b only",
                       T0 + timedelta(days=6))  # an agent sets the lines in a refund of its own
    redone = app.refunds.request(caller(app, "agent-2"), UUID(int=4), "W4",
                                 "logistics_exception", "parcel sh-W4b lost: line b",
                                 T0 + timedelta(days=6), source_case_id=str(complaint.id),
                                 lines=[{"line_id": "b", "quantity": 1}])
    assert redone.status == "approved"  # line b with its share of the outbound shipping
    assert redone.decisions[0].details["total"] == "66.00"


def test_a_supervisor_may_approve_the_whole_order_after_review(app: Services) -> None:
    two_parcels(app)
    ingest(app, shipment("W4", "Delivered", T0 + timedelta(days=3), shipment_id="sh-W4a"))
    [lost] = ingest(app, shipment("W4", "Lost", T0 + timedelta(days=5), shipment_id="sh-W4b"))
    _, refund = opened(app, lost.effects)
    approved = app.refunds.approve(caller(app, "sup-1"), refund.id, T0 + timedelta(days=6))
    assert approved.status == "approved"
    assert "approval.review" in approved.decisions[0].rules


def test_a_lost_parcel_beside_one_still_on_its_way_goes_to_a_supervisor(
        app: Services) -> None:
    two_parcels(app)
    ingest(app, shipment("W4", "InTransit", T0 + timedelta(days=3), shipment_id="sh-W4a"))
    [lost] = ingest(app, shipment("W4", "Lost", T0 + timedelta(days=5), shipment_id="sh-W4b"))
    complaint, refund = opened(app, lost.effects)
    cause = complaint.decisions[0]
    assert (cause.policy_id, cause.policy_version) == ("logistics.exception", 3)
    assert cause.inputs["parcels_on_the_way"] == ["sh-W4a"]
    assert cause.details["refund_review"] is True
    assert cause.rules == ("logistics.lost_parcel_others_on_the_way",)
    assert refund.status == "awaiting_approval"  # not the whole order on policy
    approval = refund.decisions[-1]
    assert "approval.review" in approval.rules
    assert any("sh-W4a" in reason and "on the way" in reason for reason in approval.reasons)
    # the sibling's goods arrive after the loss was processed: nothing was refunded for them
    ingest(app, shipment("W4", "Delivered", T0 + timedelta(days=6), shipment_id="sh-W4a"))
    assert app.store.load(RefundCase, refund.id).status == "awaiting_approval"


def test_a_lost_parcel_with_no_other_parcel_known_refunds_the_order_on_policy(
        app: Services) -> None:
    two_parcels(app)
    ingest(app, shipment("W4", "InTransit", T0 + timedelta(days=3), shipment_id="sh-W4b"))
    [lost] = ingest(app, shipment("W4", "Lost", T0 + timedelta(days=5), shipment_id="sh-W4b"))
    complaint, refund = opened(app, lost.effects)
    assert complaint.decisions[0].details["refund_review"] is False
    assert complaint.decisions[0].details["parcels_on_the_way"] == []
    assert refund.amount is not None and str(refund.amount.amount) == "110.00"
    assert refund.status == "approved"
    assert refund.decisions[-1].outcome == "auto_approve"



def test_a_lost_parcel_that_was_scanned_delivered_goes_to_a_supervisor(app: Services) -> None:
    placed = order_placed("W5", lines=LINES[:1], shipping_fee="10.00", taxes="0.00")
    ingest(app, placed, order_paid(placed))
    ingest(app, shipment("W5", "Delivered", T0 + timedelta(days=3), shipment_id="sh-W5a"))
    [lost] = ingest(app, shipment("W5", "Lost", T0 + timedelta(days=4), shipment_id="sh-W5a"))
    complaint, refund = opened(app, lost.effects)
    cause = complaint.decisions[0]
    assert (cause.policy_id, cause.policy_version) == ("logistics.exception", 3)
    assert cause.inputs["delivered_parcels"] == []  # no other parcel
    assert cause.inputs["delivered_at"] == (T0 + timedelta(days=3)).isoformat()
    assert cause.rules == ("logistics.lost_after_delivery",)
    assert cause.details["refund_review"] is True
    assert f"scanned Delivered at {(T0 + timedelta(days=3)).isoformat()}" in cause.reasons[0]
    assert refund.status == "awaiting_approval"  # not the whole order on policy
    approval = refund.decisions[-1]
    assert approval.outcome == "needs_supervisor" and "approval.review" in approval.rules
