"""The states of a ReturnCase (SPEC §3.1)."""

from __future__ import annotations

from enum import StrEnum


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
