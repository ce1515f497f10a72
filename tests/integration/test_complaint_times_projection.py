"""The `complaints` row's first response and resolution due time say what the complaint's own
deadlines say, after a runner as after a rebuild.

* first response: whatever the domain counts as the first response closes the
  ``first_response`` deadline as met (acknowledgement, first message out, a proposal, a
  resolution); the row's ``first_response_at`` and ``first_response_hours`` come from it, so
  response-time figures (`insights complaints`, the report) count those complaints.
* resolution due: the clock stops while the desk waits on the customer; the row's
  ``resolution_due`` follows the complaint's current ``resolution`` deadline (later by the time
  waited), not the triage's first due time, also after a reopening."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from aftersales_core.application.services import Services
from aftersales_core.domain.complaints import ComplaintCase
from projections.db import ReadDatabase
from projections.insights.complaints import complaints as complaint_insights
from projections.report import build
from tests.factories import caller, customer
from tests.read_models import applied_by_a_runner, rebuilt_from

FILED = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def file(app: Services, at: datetime, category: str = "service") -> UUID:
    case_id = uuid4()
    app.complaints.file(customer(app), case_id, "email", category, "it is late", at)
    return case_id


def row(db: ReadDatabase, case_id: UUID) -> dict[str, Any]:
    return db.query("SELECT * FROM complaints WHERE complaint_id = ?", [str(case_id)])[0]


def moment(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def both(app: Services, read_db: ReadDatabase, tmp_path: Path) -> list[ReadDatabase]:
    applied_by_a_runner(app, read_db)
    return [read_db, rebuilt_from(app, tmp_path, ["complaints", "deadlines", "cases"])]


def test_a_proposal_or_a_resolution_is_the_first_response(
        app: Services, read_db: ReadDatabase, tmp_path: Path) -> None:
    agent = caller(app, "agent-1")
    proposed = file(app, FILED)
    app.complaints.propose(agent, proposed, "apology", FILED + timedelta(hours=1))
    resolved = file(app, FILED)
    app.complaints.resolve(agent, case_id=resolved, summary="explained",
                           at=FILED + timedelta(hours=3))
    acknowledged = file(app, FILED)
    app.complaints.acknowledge(agent, acknowledged, FILED + timedelta(hours=2))
    app.complaints.propose(agent, acknowledged, "apology", FILED + timedelta(hours=5))
    for case_id in (proposed, resolved, acknowledged):  # what the domain says
        first = app.store.load(ComplaintCase, case_id).deadlines["first_response"]
        assert (first.state, first.outcome) == ("met", "met")
    dbs = both(app, read_db, tmp_path)
    for db in dbs:
        deadlines = {r["case_id"]: (r["state"], moment(r["closed_at"])) for r in db.query(
            "SELECT case_id, state, closed_at FROM deadlines WHERE name = 'first_response'")}
        for case_id, hours in ((proposed, 1.0), (resolved, 3.0), (acknowledged, 2.0)):
            got = row(db, case_id)
            answered = FILED + timedelta(hours=hours)
            assert moment(got["first_response_at"]) == answered
            assert got["first_response_hours"] == hours
            assert got["first_response_breached"] == 0
            assert deadlines[str(case_id)] == ("met", answered)
    # the response-time figures count all three (nearest rank: 1, 2, 3 hours)
    drivers = complaint_insights(read_db).view("drivers").rows
    assert [(r["complaints"], r["first_response_h_p50"], r["first_response_h_p90"])
            for r in drivers] == [(3, 2.0, 3.0)]
    assert build(read_db).headline["first responses late"] == 0
    dbs[1].close()


def test_the_resolution_due_time_follows_the_deadline_after_a_wait(
        app: Services, read_db: ReadDatabase, tmp_path: Path) -> None:
    filed = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    # 7 days to the end of the 7th day anywhere on Earth (the complaint names no order)
    triaged = datetime.fromisoformat("2026-06-07T23:59:59.999999-12:00")
    agent = caller(app, "agent-1")
    declined, reopened = file(app, filed), file(app, filed)
    for case_id in (declined, reopened):
        app.complaints.add_message(agent, case_id, "out", "which order?",
                                   filed + timedelta(hours=1), awaiting_customer=True)
        app.complaints.propose(agent, case_id, "apology", filed + timedelta(hours=2))
        app.complaints.respond(customer(app), case_id, accepted=False,
                               at=filed + timedelta(days=2, hours=2))
    complaint = app.store.load(ComplaintCase, declined)
    assert datetime.fromisoformat(complaint.decisions[0].details["resolution_due"]) == triaged
    waited = complaint.deadlines["resolution"].due_at
    assert waited == triaged + timedelta(hours=49)  # the triage's, later by the time waited
    app.complaints.resolve(agent, case_id=reopened, summary="explained",
                           at=filed + timedelta(days=3))
    app.complaints.reopen(customer(app), reopened, "not fixed", filed + timedelta(days=4))
    again = app.store.load(ComplaintCase, reopened).deadlines["resolution"].due_at
    assert again > waited
    dbs = both(app, read_db, tmp_path)
    for db in dbs:
        for case_id, wanted in ((declined, waited), (reopened, again)):
            due = db.query("SELECT due_at FROM deadlines WHERE case_id = ? AND name = "
                           "'resolution'", [str(case_id)])[0]["due_at"]
            assert moment(due) == wanted
            assert moment(row(db, case_id)["resolution_due"]) == wanted
    dbs[1].close()
