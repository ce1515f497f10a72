"""The fault a buyer reports when a repair failed (``ReportRepairFailed``) is their words:
sealed in the store, never a decision's input or reason, and ``[erased]`` everywhere once their
key is destroyed, while the ladder's decisions still re-run and the audit still verifies; a
``RepairFailed`` stored before, with the fault in clear, still loads. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from aftersales.bootstrap import store_reader
from aftersales.settings import Settings
from aftersales_core.application.history import load_history
from aftersales_core.application.services import Services
from aftersales_core.domain.returns import ReturnCase
from aftersales_core.personal import ERASED, PersonalData
from audit.auditor import Auditor
from consumers.case_events import to_cloud_event
from projections.db import ReadDatabase
from projections.rebuild import rebuild
from tests.factories import ADMIN, caller
from tests.integration.test_exchange_and_repair import desk_for, repaired_and_back
from tests.integration.test_personal_data import pg_of, rerun_decisions, store_bytes
from tests.personal import postgres_bytes, sqlite_bytes

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


def failed_twice(app: Services, fault: str) -> str:
    """A China return repaired twice, the same fault reported back by the buyer each time."""
    desk = desk_for(app, "CN", "CNY")
    case = desk.returned("repair")
    desk("ResolveReturn", case_id=case, by="agent-1")
    repaired_and_back(desk, case)
    first = desk("ReportRepairFailed", case_id=case, by="c-1", fault=fault)
    assert first.decisions[0].outcome == "repair_again"
    repaired_and_back(desk, case)
    second = desk("ReportRepairFailed", case_id=case, by="c-1", fault=fault)
    assert second.decisions[0].details["remedies"] == ["replacement", "refund"]
    return case


def test_a_reported_fault_is_sealed_and_erased_with_the_customers_key(
    app: Services, store_settings: Settings, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    pg = pg_of(request, store_settings)
    fault = f"PLANTED-{uuid4().hex[:12]}-fault: Erika's kettle leaks again"
    case = UUID(failed_twice(app, fault))
    marker = fault.split(":")[0].encode()
    assert marker not in store_bytes(app, store_settings, pg)
    agent = caller(app, "agent-1")
    assert fault in str(app.reads.case(agent, case).to_json())
    assert fault not in str(app.reads.case(caller(app, "analyst-1"), case).to_json())

    app.privacy.erase(caller(app, ADMIN), "c-1", "request DSR-9", NOW)

    shown = str(app.reads.case(agent, case).to_json())
    assert fault not in shown and ERASED in shown
    history = load_history(app.store, case)
    failed = [e for e in history.events if type(e).TOPIC == "aftersales.return.RepairFailed"]
    assert [e.fault for e in failed] == [PersonalData("c-1", ERASED)] * 2
    remedies = [d for d in history.decisions if d.policy_id == "repair.remedies"]
    assert len(remedies) == 2 and all(again.same_result_as(d)
                                      for d, again in rerun_decisions(app, history))
    auditor = Auditor(app.store.recorder, app.store.mapper, rerun=app.store.books.rerun)
    auditor.seal(NOW)
    verified = auditor.verify(decisions=True)
    assert verified.intact and verified.decision_mismatches == [], verified.findings
    published = [to_cloud_event(n) for n in app.store.recorder.select_notifications(1, 100_000)]
    assert marker.decode() not in str(published)
    read_url = (f"sqlite:///{tmp_path / 'read.sqlite'}" if pg is None
                else f"{pg[0]}?options=-csearch_path%3D{pg[1]}")
    db = ReadDatabase(read_url)
    rebuild(db, None, store_reader(app))
    db.close()
    read_raw = sqlite_bytes(tmp_path / "read.sqlite") if pg is None else postgres_bytes(*pg)
    assert marker not in read_raw


def test_a_repair_failed_event_stored_with_the_fault_in_clear_still_loads(
    app: Services,
) -> None:
    case = UUID(failed_twice(app, "the lid"))
    mapper = app.store.mapper
    stored = list(app.store.recorder.select_events(case))
    older: list[StoredEvent] = []
    for item in stored:  # each RepairFailed as it was stored before: its fault a plain str
        if item.topic == "aftersales.return.RepairFailed":
            state: dict[str, Any] = mapper.transcoder.decode(item.state)
            state["fault"] = "the lid"
            item = StoredEvent(originator_id=item.originator_id,
                               originator_version=item.originator_version, topic=item.topic,
                               state=mapper.transcoder.encode(state))
        older.append(item)
    events: list[Any] = [mapper.to_domain_event(item) for item in older]
    assert [e.fault for e in events if type(e).TOPIC == "aftersales.return.RepairFailed"] == [
        "the lid", "the lid"]
    returned: Any = None
    for event in events:
        returned = event.mutate(returned)
    assert isinstance(returned, ReturnCase)
    assert returned.failed_repairs("the lid") == (2, 2)
    assert returned.remedies() == ["replacement", "refund"]
