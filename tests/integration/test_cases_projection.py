"""The `cases` queue says what `aftersales case show` says: for random sequences of commands
(returns with their repairs and remedies, refunds, complaints) and scheduler firings, every
row's status, version, updated_at, escalation level and next deadline equal the case's own,
whichever events a case went through (escalations and inspections included)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, event, given, settings, target
from hypothesis import strategies as st

from aftersales.bootstrap import open_app, store_reader
from aftersales_core.application.services import Services
from aftersales_core.domain.refunds import RefundCase
from aftersales_core.errors import DomainError
from dispatch.commands import submit
from projections.apply import OutdatedProjection, apply_events, ensure_schema
from projections.base import utc
from projections.cases import Cases
from projections.db import ReadDatabase
from projections.rebuild import rebuild
from tests.factories import T0, caller, delivered_order, ingest, shipment

START = T0 + timedelta(days=5)
GAPS = st.sampled_from([1, 2, 6, 13, 23, 25, 49, 73, 170, 340, 800])  # hours
# (command, who sends it, its fields); the case id and the time are added when it runs
RETURN_STEPS: list[tuple[str, str, dict[str, Any]]] = [
    ("ApproveReturn", "sup-1", {}),
    ("IssueReturnLabel", "agent-1", {"carrier": "DHL", "tracking_number": "RT-1"}),
    ("ReceiveReturn", "warehouse-1", {}),
    ("InspectReturn", "warehouse-1", {"grade": "B", "findings": "scratched"}),
    ("ResolveReturn", "agent-1", {}),
    ("SendToRepair", "agent-1", {"repairer": "FixIt"}),
    ("DiagnoseRepair", "warehouse-1", {"fault": "hinge", "repairable": True}),
    ("DiagnoseRepair", "warehouse-1", {"fault": "board", "repairable": False}),
    ("CompleteRepair", "warehouse-1", {"repaired": True}),
    ("CompleteRepair", "warehouse-1", {"repaired": False}),
    ("ShipRepairedItem", "warehouse-1", {"carrier": "DHL", "tracking_number": "R-1"}),
    ("ReportRepairFailed", "customer-c-1", {"fault": "hinge again"}),
    ("ChooseRemedy", "customer-c-1", {"remedy": "refund"}),
    ("ChooseRemedy", "customer-c-1", {"remedy": "replacement"}),
    ("CancelReturn", "customer-c-1", {}),
    ("CloseReturn", "agent-1", {}),
]
REFUND_STEPS: list[tuple[str, str, dict[str, Any]]] = [
    ("ApproveRefund", "sup-1", {}),
    ("RejectRefund", "agent-1", {"reason": "a duplicate"}),
    ("IssueRefund", "payments-1", {}),
    ("RecordRefundFailed", "payments-1", {"error": "card expired"}),
    ("ConfirmRefundSettled", "payments-1", {"provider_ref": "psp-1"}),
]
COMPLAINT_STEPS: list[tuple[str, str, dict[str, Any]]] = [
    ("AcknowledgeComplaint", "agent-1", {}),
    ("AddComplaintMessage", "agent-1", {"direction": "out", "text": "on it"}),
    ("AddComplaintMessage", "customer-c-1", {"direction": "in", "text": "and?"}),
    ("ProposeResolution", "agent-1", {"resolution": "coupon"}),
    ("RespondToProposal", "customer-c-1", {"accepted": True}),
    ("RespondToProposal", "customer-c-1", {"accepted": False}),
    ("EscalateComplaint", "agent-1", {"level": "supervisor", "reason": "asked"}),
    ("ResolveComplaint", "agent-1", {"summary": "sorted"}),
    ("CloseComplaint", "agent-1", {"satisfaction": 4}),
    ("ReopenComplaint", "customer-c-1", {"reason": "not sorted"}),
]
OPTIONS = {"return": RETURN_STEPS, "refund": REFUND_STEPS, "complaint": COMPLAINT_STEPS}
# (what, which option first, hours later): a case's step runs the chosen command, or the next
# of its kind the case's state allows (random commands alone rarely get a case far)
STEPS = st.tuples(st.sampled_from(["return"] * 4 + ["refund", "complaint", "scan", "fire"]),
                  st.integers(0, 15), GAPS)


class Desk:
    """Opens one case of each kind on a delivered order and runs steps against them."""

    def __init__(self, app: Services, market: str, outcome: str, in_review: bool) -> None:
        self.app, self.now = app, START
        currency = {"GB": "GBP", "CN": "CNY", "DE": "EUR"}[market]
        delivered_order(app, "o-1", market=market, currency=currency)
        reason = "changed_mind" if in_review else "defective"  # a repair without a fault: review
        self.cases: dict[str, UUID] = {}
        self.cases["return"] = self.send("RequestReturn", "customer-c-1", order_id="o-1",
                                         reason=reason, outcome=outcome,
                                         lines=[{"line_id": "2", "quantity": 1}])
        self.cases["refund"] = self.send("RequestRefund", "agent-1", order_id="o-1",
                                         source="goodwill", reason="late parcel",
                                         amount="80.00")
        self.cases["complaint"] = self.send("FileComplaint", "customer-c-1", order_id="o-1",
                                            channel="email", category="damaged",
                                            description="it arrived broken")

    def send(self, command: str, by: str, **fields: Any) -> UUID:
        body = {"command": command, "at": self.now.isoformat(), **fields}
        result = submit(self.app, caller(self.app, by), body, self.now)
        return result.case_id

    def step(self, kind: str, choice: int, gap: int) -> None:
        self.now += timedelta(hours=gap)
        if kind == "fire":
            self.fire(self.now)
            return
        if kind == "scan":
            scan = ("InTransit", "Delivered")[choice % 2]
            ingest(self.app, shipment("o-1", scan, self.now, direction="return",
                                      shipment_id="rs-1"))
            return
        options = OPTIONS[kind]
        for k in range(len(options)):
            command, by, fields = options[(choice + k) % len(options)]
            try:
                self.send(command, by, case_id=str(self.cases[kind]), **fields)
                return
            except DomainError:  # refused in this state: nothing was stored; the next one
                continue

    def fire(self, now: datetime) -> None:
        scheduler = caller(self.app, "system.scheduler")
        for case_id in self.cases.values():
            self.app.deadlines.fire(scheduler, case_id, now)


def shown(app: Services, case_id: UUID) -> dict[str, Any]:
    """What `aftersales case show --format json` prints of the case, in the queue's terms."""
    case = app.reads.case(caller(app, "auditor-1"), case_id).to_json()
    state = case["state"]
    open_due = [d["due_at"] for d in state["deadlines"].values() if d["state"] == "open"]
    escalations = state["escalations"]
    return {"status": case["status"], "version": case["version"],
            "updated_at": utc(state["modified_on"]),
            "escalation": escalations[-1] if escalations else None,
            "next_deadline": min((utc(d) for d in open_due), key=str, default=None)}


def queued(db: ReadDatabase, case_id: UUID) -> dict[str, Any]:
    [row] = db.query("SELECT status, version, updated_at, escalation, next_deadline FROM cases "
                     "WHERE case_id = ?", (str(case_id),))
    return row


class Queue:
    """The `cases` table in a real SQLite read database, fed every new event of the store."""

    def __init__(self, app: Services, path: Path) -> None:
        self.read, self.after = store_reader(app), 0
        self.db = ReadDatabase(f"sqlite:///{path}")
        self.projection = Cases()
        ensure_schema(self.db, [self.projection])

    def catch_up(self) -> None:
        events = self.read(self.after, 100_000)
        if events:
            with self.db.transaction() as tx:
                assert apply_events(tx, [self.projection], events) == []
            self.after = events[-1]["position"]


@pytest.mark.timeout(900)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(market=st.sampled_from(["GB", "CN", "DE"]),
       outcome=st.sampled_from(["refund", "repair", "exchange"]), in_review=st.booleans(),
       steps=st.lists(STEPS, min_size=8, max_size=40), end=GAPS)
def test_every_row_of_cases_equals_what_case_show_says_after_every_step(
        tmp_path_factory: pytest.TempPathFactory, market: str, outcome: str, in_review: bool,
        steps: list[tuple[str, int, int]], end: int) -> None:
    app = open_app({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    desk = Desk(app, market, outcome, in_review)
    queue = Queue(app, tmp_path_factory.mktemp("read") / "read.sqlite")
    visited: set[str] = set()
    try:
        for kind, choice, gap in [*steps, ("fire", 0, end)]:
            desk.step(kind, choice, gap)
            queue.catch_up()
            for case_kind, case_id in desk.cases.items():
                row = queued(queue.db, case_id)
                visited.add(f"{case_kind}: {row['status']}")
                assert row == shown(app, case_id), (case_kind, market, outcome)
    finally:
        queue.db.close()
    for seen in visited:
        event(seen)
    target(float(len(visited)), label="statuses visited")  # steer towards long lifecycles


def test_an_escalated_refund_shows_as_escalated_in_the_queue(tmp_path: Path) -> None:
    """The drift this replaced: an escalation of a refund (or a return) by a missed deadline
    left the row's version and updated_at behind, and the queue never showed it."""
    app = open_app({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    desk = Desk(app, "DE", "refund", in_review=False)
    assert app.store.load(RefundCase, desk.cases["refund"]).status == "approved"  # by policy
    desk.fire(desk.now + timedelta(days=40))  # not issued within 14 days: escalated
    db = ReadDatabase(f"sqlite:///{tmp_path / 'read.sqlite'}")
    rebuild(db, ["cases"], store_reader(app))
    row = queued(db, desk.cases["refund"])
    assert row["escalation"] == "supervisor"
    assert row == shown(app, desk.cases["refund"])
    db.close()


def test_a_cases_table_made_before_the_escalation_column_asks_for_a_rebuild(
        tmp_path: Path) -> None:
    """A read database of an older version is refused, as every read model's is, naming the
    rebuild that brings the new column; nothing of it is changed meanwhile."""
    db = ReadDatabase(f"sqlite:///{tmp_path / 'read.sqlite'}")
    old = Cases.tables["cases"].replace(",\n            escalation TEXT", "")
    assert "escalation" not in old
    with db.transaction() as tx:
        tx.execute(old.format(cases="cases"))
        tx.execute("INSERT INTO cases (case_id, case_type, status, opened_at, updated_at, "
                   "version) VALUES ('c', 'refund', 'approved', 't', 't', 3)")
    with pytest.raises(OutdatedProjection, match="projections rebuild cases"):
        ensure_schema(db, [Cases()])
    assert "escalation" not in db.columns("cases")
    assert db.query("SELECT status FROM cases") == [{"status": "approved"}]
    db.close()


def test_a_missing_column_that_cannot_be_added_empty_asks_for_a_rebuild(tmp_path: Path) -> None:
    db = ReadDatabase(f"sqlite:///{tmp_path / 'read.sqlite'}")
    old = Cases.tables["cases"].replace(",\n            version INTEGER NOT NULL", "")
    with db.transaction() as tx:
        tx.execute(old.format(cases="cases"))
    with pytest.raises(RuntimeError, match="projections rebuild cases"):
        ensure_schema(db, [Cases()])
    db.close()
