"""The demo's scripted desk: the carrier scans a return's parcel under the tracking number of the
label the desk issued for it, so that a scan is that return's when an order has several."""

from __future__ import annotations

from demo.desk import Desk


def test_the_carrier_scans_a_return_parcel_under_its_label_tracking_number() -> None:
    desk = Desk(carriers={"o-1": "UPS"})
    row = {"case_type": "return", "case_id": "c9b0f1de-0000-4000-8000-000000000001",
           "order_id": "o-1", "status": "approved", "updated_at": "2026-03-02T09:00:00+00:00"}
    [label], _ = desk._return_approved(row)
    _, scans = desk._return_label_issued({**row, "status": "label_issued"})
    tracking = label["command"]["tracking_number"]
    assert [s["shipment_id"] for s in scans] == [tracking, tracking]
    assert [s["event_type"] for s in scans] == ["Dispatched", "Delivered"]


def test_a_round_closes_the_returns_after_the_refunds_steps() -> None:
    """A return resolved by a refund is closed only once its refunds are settled (CloseReturn
    is refused before): the round sends the refund's approval, issue and settlement first."""
    desk = Desk()
    at = "2026-03-02T09:00:00+00:00"
    resolved = {"case_type": "return", "case_id": "r-1", "order_id": "o-1",
                "status": "resolved", "updated_at": at}
    refund = {"case_type": "refund", "case_id": "f-1", "order_id": "o-1",
              "status": "awaiting_approval", "updated_at": at}
    commands, _ = desk.round_of([resolved, refund])
    assert [c["command"]["command"] for c in commands] == [
        "ApproveRefund", "IssueRefund", "ConfirmRefundSettled", "CloseReturn"]
