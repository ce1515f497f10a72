"""Service levels of the merchant's book through the application on both stores: targets per
priority on the desk's business hours, and the resolution clock stopped while the desk waits
on the customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from aftersales_core.application.app import AfterSalesApp
from aftersales_core.domain.complaints import ComplaintCase
from aftersales_core.errors import InvalidCommandError
from tests.factories import T0, delivered_order
from tests.unit.policybook.books import document

FILED = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # Monday 09:00 London (UTC in March)


def book(**changes: Any) -> dict[str, Any]:
    return document(**{"calendars.markets.GB": {"zone": "Europe/London",
                                                "hours": "09:00-17:00"}, **changes})


def file(app: AfterSalesApp, merchant: str = "shop", at: datetime = FILED) -> UUID:
    delivered_order(app, "o-gb", market="GB", currency="GBP", merchant_id=merchant)
    case_id = uuid4()
    app.file_complaint(case_id, "c-1", "email", "service", "where is my refund?", "c-1", at,
                       order_id="o-gb")
    return case_id


def due(app: AfterSalesApp, case_id: UUID, name: str) -> str | None:
    found = app.load(ComplaintCase, case_id).deadlines.get(name)
    return None if found is None or not found.is_open else found.due_at.isoformat()


def test_business_hour_targets_skip_nights_and_weekends(app: AfterSalesApp) -> None:
    app.books.set("shop", book(**{"complaints.clock": "business",
                                  "complaints.first_response_hours": {"P1": 2, "P2": 4,
                                                                      "P3": 12},
                                  "complaints.resolution_hours": {"P1": 8, "P2": 16,
                                                                  "P3": 24}}),
                  "admin", "admin", "business hours", T0)
    friday = datetime(2026, 3, 13, 15, 0, tzinfo=UTC)
    case_id = file(app, at=friday)
    # 12 business hours from Friday 15:00: 2 on Friday, 8 on Monday, 2 on Tuesday
    assert due(app, case_id, "first_response") == "2026-03-17T11:00:00+00:00"
    triage = app.load(ComplaintCase, case_id).decisions[-1]
    assert triage.policy_version == 2 and triage.details["clock"] == "business"
    assert triage.details["first_response_due"] == "2026-03-17T11:00:00+00:00"


def test_waiting_on_the_customer_stops_the_resolution_clock(app: AfterSalesApp) -> None:
    case_id = file(app)
    assert due(app, case_id, "resolution") == "2026-03-16T09:00:00+00:00"  # 7 days
    app.add_complaint_message(case_id, "out", "agent-1", "which order number?",
                              FILED + timedelta(hours=2), awaiting_customer=True)
    complaint = app.load(ComplaintCase, case_id)
    assert complaint.waiting_since == FILED + timedelta(hours=2)
    assert due(app, case_id, "resolution") is None  # paused
    cancelled = complaint.deadlines["resolution"]
    assert (cancelled.state, cancelled.outcome) == ("cancelled", "cancelled")
    app.add_complaint_message(case_id, "in", "c-1", "order o-gb", FILED + timedelta(hours=50))
    complaint = app.load(ComplaintCase, case_id)
    assert complaint.waiting_since is None and len(complaint.pauses) == 1
    assert due(app, case_id, "resolution") == "2026-03-18T09:00:00+00:00"  # + 48 h waited
    reasons = complaint.deadlines["resolution"].basis
    assert "not counting 48 hours waiting on the customer" in reasons


def test_a_book_that_does_not_pause_keeps_the_due_time(app: AfterSalesApp) -> None:
    app.books.set("shop", book(**{"complaints.pause_while_waiting_on_customer": False}),
                  "admin", "admin", "no pauses", T0)
    case_id = file(app)
    app.add_complaint_message(case_id, "out", "agent-1", "which order?",
                              FILED + timedelta(hours=2), awaiting_customer=True)
    assert due(app, case_id, "resolution") == "2026-03-16T09:00:00+00:00"
    app.add_complaint_message(case_id, "in", "c-1", "o-gb", FILED + timedelta(hours=50))
    assert due(app, case_id, "resolution") == "2026-03-16T09:00:00+00:00"


def test_only_a_message_out_waits_on_the_customer(app: AfterSalesApp) -> None:
    case_id = file(app)
    with pytest.raises(InvalidCommandError, match="only a message out"):
        app.add_complaint_message(case_id, "in", "c-1", "hello", FILED + timedelta(hours=1),
                                  awaiting_customer=True)
    assert app.load(ComplaintCase, case_id).waiting_since is None
