"""The states of a ReturnCase (SPEC §3.1)."""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum

from aftersales_core.domain.lifecycle import Data, Lifecycle, Standing, escalated, stay, to


class ReturnStatus(StrEnum):
    REQUESTED = "requested"
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    LABEL_ISSUED = "label_issued"
    SHIPPED_BACK = "shipped_back"
    RECEIVED = "received"
    INSPECTED = "inspected"
    RESOLVED = "resolved"
    IN_REPAIR = "in_repair"
    DIAGNOSED = "diagnosed"
    REPAIRED = "repaired"
    REPAIR_SHIPPED = "repair_shipped"
    REPAIR_FAILED = "repair_failed"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


OPEN_BEFORE_SHIPPING = (
    ReturnStatus.REQUESTED,
    ReturnStatus.PENDING_REVIEW,
    ReturnStatus.APPROVED,
    ReturnStatus.LABEL_ISSUED,
)
GRADES = ("A", "B", "C", "D")


def _repair_completed(standing: Standing, data: Data) -> Standing:
    done = ReturnStatus.REPAIRED if data["repaired"] else ReturnStatus.REPAIR_FAILED
    return replace(standing, status=done)


def _reopened(standing: Standing, data: Data) -> Standing:
    """Back to the status it was resolved from (``status``, which every ``Reopened`` carries):
    the refund that resolved it was rejected, and its refund is owed again."""
    return replace(standing, status=ReturnStatus(data["status"]))


S = ReturnStatus
RETURN_LIFECYCLE = Lifecycle("return", ReturnStatus, "Requested", {
    "Requested": to(S.REQUESTED),
    "SentToReview": to(S.PENDING_REVIEW),
    "Approved": to(S.APPROVED),
    "Rejected": to(S.REJECTED),
    "Cancelled": to(S.CANCELLED),
    "LabelIssued": to(S.LABEL_ISSUED),
    "ShippedBack": to(S.SHIPPED_BACK),
    "Expired": to(S.EXPIRED),
    "Received": to(S.RECEIVED),
    "Inspected": to(S.INSPECTED),
    "DispositionSet": stay,
    "RefundOpened": stay,
    "RefundRejected": stay,
    "Resolved": to(S.RESOLVED),
    "Reopened": _reopened,
    "Closed": to(S.CLOSED),
    "SentToRepair": to(S.IN_REPAIR),
    "RepairDiagnosed": to(S.DIAGNOSED),
    "RepairCompleted": _repair_completed,
    "RepairedItemShipped": to(S.REPAIR_SHIPPED),
    "RepairFailed": to(S.REPAIR_FAILED),
    "Escalated": escalated(),
    "DecisionRecorded": stay,
    "DeadlineScheduled": stay,
    "DeadlineCancelled": stay,
    "DeadlineBreached": stay,
})
