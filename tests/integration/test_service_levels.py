"""Service levels of the merchant's book through the application on both stores: targets per
priority on the desk's business hours, and the resolution clock stopped while the desk waits
on the customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from aftersales_core.application.services import Services
from aftersales_core.domain.complaints import ComplaintCase
from aftersales_core.errors import InvalidCommandError
from tests.factories import admin, caller, customer, delivered_order
from tests.unit.policybook.books import document

FILED = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # Monday 09:00 London (UTC in March)


def book(**changes: Any) -> dict[str, Any]:
    return document(**{"calendars.markets.GB": {"zone": "Europe/London",
                                                "hours": "09:00-17:00"}, **changes})


def file(app: Services, merchant: str = "shop", at: datetime = FILED) -> UUID:
    delivered_order(app, "o-gb", market="GB", currency="GBP", merchant_id=merchant)
    case_id = uuid4()
    app.complaints.file(customer(app), case_id, "email", "service", "where is my refund?", at,
                        order_id="o-gb")
    return case_id


def due(app: Services, case_id: UUID, name: str) -> str | None:
    found = app.store.load(ComplaintCase, case_id).deadlines.get(name)
    return None if found is None or not found.is_open else found.due_at.isoformat()


def test_business_hour_targets_skip_nights_and_weekends(app: Services) -> None:
    app.books.set(admin(app), "shop", book(**{"complaints.clock": "business",
                                  "complaints.first_response_hours": {"P1": 2, "P2": 4,
                                                                      "P3": 12},
                                  "complaints.resolution_hours": {"P1": 8, "P2": 16,
                                                                  "P3": 24}}),
                  "business hours")
    friday = datetime(2026, 3, 13, 15, 0, tzinfo=UTC)
    case_id = file(app, at=friday)
    # 12 business hours from Friday 15:00: 2 on Friday, 8 on Monday, 2 on Tuesday
    assert due(app, case_id, "first_response") == "2026-03-17T11:00:00+00:00"
    triage = app.store.load(ComplaintCase, case_id).decisions[-1]
    assert triage.policy_version == 4 and triage.details["clock"] == "business"
    assert triage.details["first_response_due"] == "2026-03-17T11:00:00+00:00"


def test_waiting_on_the_customer_stops_the_resolution_clock(app: Services) -> None:
    case_id = file(app)
    # 7 days: to the end of the 7th day in the buyer's zone (GB's default, London: GMT in March)
    assert due(app, case_id, "resolution") == "2026-03-16T23:59:59.999999+00:00"
    app.complaints.add_message(caller(app, "agent-1"), case_id, "out", "which order number?",
                               FILED + timedelta(hours=2), awaiting_customer=True)
    complaint = app.store.load(ComplaintCase, case_id)
    assert complaint.waiting_since == FILED + timedelta(hours=2)
    assert due(app, case_id, "resolution") is None  # paused
    cancelled = complaint.deadlines["resolution"]
    assert (cancelled.state, cancelled.outcome) == ("cancelled", "cancelled")
    app.complaints.add_message(customer(app), case_id, "in", "order o-gb",
                               FILED + timedelta(hours=50))
    complaint = app.store.load(ComplaintCase, case_id)
    assert complaint.waiting_since is None and len(complaint.pauses) == 1
    assert due(app, case_id, "resolution") == "2026-03-18T23:59:59.999999+00:00"  # + 48 h waited
    reasons = complaint.deadlines["resolution"].basis
    assert "not counting 48 hours waiting on the customer" in reasons


def test_a_book_that_does_not_pause_keeps_the_due_time(app: Services) -> None:
    app.books.set(admin(app), "shop", book(**{"complaints.pause_while_waiting_on_customer": False}),
                  "no pauses")
    case_id = file(app)
    app.complaints.add_message(caller(app, "agent-1"), case_id, "out", "which order?",
                               FILED + timedelta(hours=2), awaiting_customer=True)
    assert due(app, case_id, "resolution") == "2026-03-16T23:59:59.999999+00:00"
    app.complaints.add_message(customer(app), case_id, "in", "o-gb", FILED + timedelta(hours=50))
    assert due(app, case_id, "resolution") == "2026-03-16T23:59:59.999999+00:00"


def test_only_a_message_out_waits_on_the_customer(app: Services) -> None:
    case_id = file(app)
    with pytest.raises(InvalidCommandError, match="only a message out"):
        app.complaints.add_message(customer(app), case_id, "in", "hello",
                                   FILED + timedelta(hours=1), awaiting_customer=True)
    assert app.store.load(ComplaintCase, case_id).waiting_since is None


def test_a_complaint_resolved_while_waiting_stops_waiting_and_a_reopening_counts_from_itself(
        app: Services) -> None:
    """Resolved while the desk waited on the customer: the wait ends with the resolution (it
    does not run on while the case stays resolved), so the deadline after a reopening is the
    reopening's 7 days, and its reasons name no wait the period does not count."""
    case_id = file(app)
    agent = caller(app, "agent-1")
    app.complaints.add_message(agent, case_id, "out", "which order?",
                               FILED + timedelta(hours=3, minutes=10), awaiting_customer=True)
    app.complaints.resolve(agent, case_id, "sorted out", FILED + timedelta(hours=4))
    resolved = app.store.load(ComplaintCase, case_id)
    assert resolved.waiting_since is None
    assert resolved.pauses == [(FILED + timedelta(hours=3, minutes=10), FILED + timedelta(hours=4))]
    reopened_at = FILED + timedelta(days=1, hours=4)  # Tuesday 10 March, 13:00 London
    app.complaints.reopen(customer(app), case_id, "not sorted", reopened_at)
    assert due(app, case_id, "resolution") == "2026-03-17T23:59:59.999999+00:00"
    deadline = app.store.load(ComplaintCase, case_id).deadlines["resolution"]
    assert "waiting on the customer" not in deadline.basis
