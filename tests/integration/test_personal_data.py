"""Personal data on the real stores (SQLite file and PostgreSQL): sealed before it is stored,
erased by destroying its key, and everything else keeps working after the erasure."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent

from aftersales.bootstrap import open_app, store_reader
from aftersales.settings import Settings, eventsourcing_env
from aftersales_core.application.history import CaseHistory, load_history
from aftersales_core.application.services import Services
from aftersales_core.domain.ids import customer_aggregate_id
from aftersales_core.errors import NotAuthorisedError, UnknownCaseError
from aftersales_core.personal import ERASED
from audit.auditor import Auditor
from consumers.case_events import to_cloud_event
from privacy.errors import KeyEncryptionKeyError
from projections import report
from projections.db import ReadDatabase
from projections.rebuild import rebuild
from tests.factories import ADMIN, T0, caller, ingest, order_placed, run
from tests.integration.test_exchange_and_repair import desk_for
from tests.personal import AT, plant, postgres_bytes, sqlite_bytes

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


def rerun_decisions(app: Services, history: CaseHistory) -> list[tuple[Any, Any]]:
    """Each recorded decision with the decision its policy version and book give again."""
    return [(d, app.store.books.rerun(d)) for d in history.decisions]


def store_bytes(app: Services, settings: Settings, pg: tuple[str, str] | None) -> bytes:
    """The store as someone holding its files (or its database) reads it."""
    if pg is None:
        return sqlite_bytes(Path(settings.database_url.removeprefix("sqlite:///")))
    return postgres_bytes(*pg)


def vacuumed(url: str, schema: str, table: str) -> bool:
    """Whether ``table`` was vacuumed by hand (its statistics may take a moment to show it)."""
    deadline = time.monotonic() + 30
    while True:
        with psycopg.connect(url, autocommit=True) as conn:
            found = conn.execute("SELECT last_vacuum FROM pg_stat_user_tables WHERE schemaname = "
                                 "%s AND relname = %s", (schema, table)).fetchone()
        if found is not None and found[0] is not None:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)


def pg_of(request: pytest.FixtureRequest, settings: Settings) -> tuple[str, str] | None:
    if settings.postgres_schema is None:
        return None
    return request.getfixturevalue("pg_schema")  # type: ignore[no-any-return]


def native_json(value: Any) -> Any:
    """A JSON column as read back: text on SQLite, already decoded on PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value


def personal_values(document: Any) -> list[str]:
    """Every value of a case show (full view) that held one of the planted strings."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and ("PLANTED-" in value or value == ERASED):
            found.append(value)

    walk(document)
    return found


def test_personal_data_is_sealed_and_erasure_leaves_every_reader_working(
    app: Services, store_settings: Settings, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    pg = pg_of(request, store_settings)
    planted = plant(app)
    agent = caller(app, "agent-1")
    before = app.reads.case(agent, planted.complaint_id).to_json()
    assert {m for m in planted.markers if m in str(before)} >= set(planted.markers[2:])
    assert planted.found_in(store_bytes(app, store_settings, pg)) == []  # never in clear
    redacted = app.reads.case(caller(app, "analyst-1"), planted.complaint_id).to_json()
    assert planted.found_in(str(redacted).encode()) == []
    table: Any = app.privacy.keys.table  # type: ignore[attr-defined]
    wrapped = table.current(planted.customer_id).wrapped
    assert wrapped in store_bytes(app, store_settings, pg)

    erasure = app.privacy.erase(caller(app, ADMIN), planted.customer_id, "request DSR-1", NOW)

    assert (erasure.role, erasure.reason) == ("admin", "request DSR-1")
    assert table.current(planted.customer_id) is None
    if pg is None:  # everything the write-ahead log still holds, moved into the file
        with sqlite3.connect(store_settings.database_url.removeprefix("sqlite:///")) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
    else:  # the deleted key rows were pruned at once, not left to autovacuum
        assert vacuumed(*pg, "personal_data_keys")
    raw = store_bytes(app, store_settings, pg)
    assert planted.found_in(raw) == [] and wrapped not in raw  # the key is gone from the files
    # every reader still works, and shows [erased] where personal data was
    for case_id in (planted.complaint_id, planted.return_id):
        for as_of in (None, AT + timedelta(hours=3)):
            shown = app.reads.case(agent, case_id, as_of).to_json()
            assert personal_values(shown) and set(personal_values(shown)) == {ERASED}
        history = load_history(app.store, case_id)
        assert all(again.same_result_as(d) for d, again in rerun_decisions(app, history))
    auditor = Auditor(app.store.recorder, app.store.mapper, rerun=app.store.books.rerun)
    auditor.seal(NOW)
    verified = auditor.verify(decisions=True)
    assert verified.intact and verified.decision_mismatches == [], verified.findings
    assert verified.decisions_checked
    notifications = app.store.recorder.select_notifications(1, 100_000)
    published = [to_cloud_event(n) for n in notifications]
    assert planted.found_in(str(published).encode()) == []
    assert published[-1]["type"] == "aftersales.customer.PersonalDataErased"
    assert published[-1]["data"]["customer_id"] == planted.customer_id
    # projections: rebuilt from the store, the customer's rows no longer name them
    read_url = (f"sqlite:///{tmp_path / 'read.sqlite'}" if pg is None
                else f"{pg[0]}?options=-csearch_path%3D{pg[1]}")
    db = ReadDatabase(read_url)
    rebuild(db, None, store_reader(app))
    rows = db.query("SELECT case_id, customer_id FROM cases WHERE order_id = ?",
                    (planted.order_id,))
    assert rows and {r["customer_id"] for r in rows} == {ERASED}
    assert {r["customer_id"] for r in db.query("SELECT customer_id FROM orders")} == {ERASED}
    about = [r for r in db.query("SELECT policy_id, inputs FROM decisions")
             if "customer_id" in native_json(r["inputs"])]
    assert about and {native_json(r["inputs"])["customer_id"] for r in about} == {ERASED}
    # the id as a whole value, not inside a random UUID ("…abc-9f…" holds "c-9")
    named = re.compile(rf"(?<![0-9a-z-]){re.escape(planted.customer_id)}(?![0-9a-z-])")
    assert not named.search(str(db.query("SELECT * FROM decisions")))
    built = report.build(db)
    assert built.headline["complaint cases"] == 1 and built.sections
    db.close()
    read_raw = (sqlite_bytes(tmp_path / "read.sqlite") if pg is None else postgres_bytes(*pg))
    assert planted.found_in(read_raw) == []
    # the cases go on: new personal data gets a new key, the erased stays erased
    run(app, "agent-1", {"command": "AddComplaintMessage", "case_id": str(planted.complaint_id),
                         "direction": "out", "text": "NEW-AFTER-ERASURE",
                         "at": (NOW + timedelta(minutes=1)).isoformat()})
    values = personal_values(app.reads.case(agent, planted.complaint_id).to_json())
    assert set(values) == {ERASED}
    assert "NEW-AFTER-ERASURE" in str(app.reads.case(agent, planted.complaint_id).to_json())
    exported = app.privacy.export(caller(app, ADMIN), planted.customer_id, NOW)
    assert {p["value"] for p in exported["personal_data"]} == {ERASED, "NEW-AFTER-ERASURE"}


def test_an_export_holds_every_personal_datum_and_every_case(app: Services) -> None:
    planted = plant(app)
    other = plant(app, customer_id="c-8", order_id="o-8")
    exported = app.privacy.export(caller(app, "customer-c-9"), "c-9", NOW)
    assert exported["format"] == "aftersales.customer-export.v1"
    values = " ".join(p["value"] for p in exported["personal_data"])
    assert all(marker in values for marker in planted.markers)
    assert other.found_in(str(exported).encode()) == []
    assert {c["case_id"] for c in exported["cases"]} >= {str(planted.return_id),
                                                           str(planted.complaint_id)}
    assert [o["state"]["order_id"] for o in exported["orders"]] == ["o-9"]
    assert [p["state"]["customer_id"] for p in exported["principals"]] == ["c-9"]
    assert exported["customer"]["state"]["orders"] == ["o-9"]
    fields = {(p["kind"], p["field"]) for p in exported["personal_data"]}
    assert {("return", "note"), ("return", "evidence/0"), ("complaint", "description"),
            ("complaint", "message"), ("complaint", "text"), ("complaint", "note")} <= fields


def test_a_resolutions_detail_and_a_proposals_note_are_the_customers(
    app: Services, store_settings: Settings, request: pytest.FixtureRequest
) -> None:
    pg = pg_of(request, store_settings)
    desk = desk_for(app)
    returned = desk.returned("refund")
    detail, note = "PLANTED-5e1d-detail", "PLANTED-5e1d-proposal"
    desk("ResolveReturn", case_id=returned, by="agent-1", detail=f"refunded to Erika {detail}")
    filed = desk("FileComplaint", by="c-1", order_id="o-1", channel="email",
                 category="damaged", description="it broke")
    desk("ProposeResolution", case_id=str(filed.case_id), by="agent-1", resolution="apology",
         note=f"Dear Erika, {note}")
    raw = store_bytes(app, store_settings, pg)
    assert detail.encode() not in raw and note.encode() not in raw
    agent = caller(app, "agent-1")
    shown = [app.reads.case(agent, UUID(returned)).to_json(),
             app.reads.case(agent, filed.case_id).to_json()]
    assert detail in str(shown[0]) and note in str(shown[1])
    redacted = app.reads.case(caller(app, "analyst-1"), UUID(returned)).to_json()
    assert detail not in str(redacted)

    app.privacy.erase(caller(app, ADMIN), "c-1", "request DSR-5", NOW)
    for case_id in (UUID(returned), filed.case_id):
        after = app.reads.case(agent, case_id).to_json()
        assert detail not in str(after) and note not in str(after) and ERASED in str(after)
        history = load_history(app.store, case_id)
        assert all(again.same_result_as(d) for d, again in rerun_decisions(app, history))


def test_who_may_erase_and_export(app: Services) -> None:
    plant(app)
    for name in ("agent-1", "sup-1", "auditor-1", "customer-c-9"):
        with pytest.raises(NotAuthorisedError):
            app.privacy.erase(caller(app, name), "c-9", "because", NOW)
    app.principals.add(caller(app, ADMIN), "admin-of-c9", ["admin", "customer"], T0,
                       customer_id="c-9")
    with pytest.raises(NotAuthorisedError, match="nobody erases their own personal data"):
        app.privacy.erase(caller(app, "admin-of-c9"), "c-9", "my own", NOW)
    with pytest.raises(UnknownCaseError, match="nothing is held"):
        app.privacy.erase(caller(app, ADMIN), "c-never", "typo", NOW)
    with pytest.raises(UnknownCaseError, match="nothing is held"):  # not an empty export
        app.privacy.export(caller(app, ADMIN), "c-never", NOW)
    plant(app, customer_id="c-8", order_id="o-8")
    with pytest.raises(UnknownCaseError):  # not "denied": another customer's data is not there
        app.privacy.export(caller(app, "customer-c-8"), "c-9", NOW)
    with pytest.raises(NotAuthorisedError):
        app.privacy.export(caller(app, "agent-1"), "c-9", NOW)
    denials = app.access.denials.list(operation="EraseCustomer")  # type: ignore[attr-defined]
    assert len(denials) == 5 and all("PLANTED" not in str(d) for d in denials)


def test_retention_erases_the_day_after_the_period_ends_and_keeps_open_cases(
    app: Services,
) -> None:
    from aftersales.bootstrap import scheduler_principal
    from scheduling.scheduler import Scheduler

    closed = plant(app, close=True)
    still_open = plant(app, customer_id="c-8", order_id="o-8")
    app.privacy.retention_days = 30
    last_closed = AT + timedelta(hours=9)  # the return was cancelled last
    erase_after = datetime(2026, 4, 6, tzinfo=UTC)  # 30 days kept after 6 March, then erased
    assert last_closed.date().isoformat() == "2026-03-06"
    scheduler = Scheduler(app, scheduler_principal(app))

    def erased(now: datetime) -> list[Any]:
        return [f for f in scheduler.fire_due(now) if f.case_type == "customer"]

    assert erased(erase_after - timedelta(microseconds=1)) == []
    [fired] = erased(erase_after)
    assert (fired.related, fired.action, fired.due_at) == (
        {"customer_id": closed.customer_id}, "erase_personal_data", erase_after)
    agent = caller(app, "agent-1")
    assert set(personal_values(app.reads.case(agent, closed.complaint_id).to_json())) == {ERASED}
    kept = personal_values(app.reads.case(agent, still_open.complaint_id).to_json())
    assert ERASED not in kept and len(kept) >= 4
    assert erased(erase_after + timedelta(days=1)) == []  # nothing twice; open cases kept
    customer = load_history(app.store, fired.case_id)
    [decision] = customer.decisions
    assert (decision.policy_id, decision.outcome) == ("personal_data.retention", "erase")
    assert [again.same_result_as(d) for d, again in rerun_decisions(app, customer)] == [True]
    erasure = customer.events[-1]
    assert (erasure.role, erasure.by) == ("scheduler", str(scheduler.principal_id))
    # the open complaint closes (the return expired meanwhile, unshipped): this customer is
    # erased once their own period has passed
    for command in ({"command": "ResolveComplaint", "summary": "done"},
                    {"command": "CloseComplaint", "satisfaction": 5}):
        run(app, "agent-1", {**command, "case_id": str(still_open.complaint_id),
                             "at": datetime(2026, 5, 1, 10, tzinfo=UTC).isoformat()})
    assert load_history(app.store, still_open.return_id).aggregate.status == "expired"
    assert erased(datetime(2026, 5, 31, 23, tzinfo=UTC)) == []
    [later] = erased(datetime(2026, 6, 1, tzinfo=UTC))
    assert later.related == {"customer_id": "c-8"}


def test_the_erasure_and_the_key_destruction_are_one_transaction(app: Services) -> None:
    """A store refusing the erasure event (a concurrent change of the customer) destroys no
    key: the data stays readable, and trying again works."""
    planted = plant(app)
    customer = app.store.customer("c-9", NOW)
    table: Any = app.privacy.keys.table  # type: ignore[attr-defined]
    real_commit = app.work.commit

    def racing_commit(*aggregates: Any, effects: Any = ()) -> None:
        rival = app.store.customer("c-9", NOW)
        rival.add_order("o-rival", NOW)
        real_commit(rival)  # the customer moved on under the erasure
        real_commit(*aggregates, effects=effects)

    app.work.commit = racing_commit  # type: ignore[method-assign]
    with pytest.raises(Exception, match="changed while"):
        app.privacy.erase(caller(app, ADMIN), "c-9", "race", NOW)
    app.work.commit = real_commit  # type: ignore[method-assign]
    assert table.current("c-9") is not None and customer.erasures == []
    shown = app.reads.case(caller(app, "agent-1"), planted.complaint_id).to_json()
    assert ERASED not in personal_values(shown)
    app.privacy.erase(caller(app, ADMIN), "c-9", "race", NOW + timedelta(seconds=1))
    assert table.current("c-9") is None


def test_a_cancel_and_a_reopen_reason_are_the_customers_words(app: Services) -> None:
    planted = plant(app, close=True)
    run(app, "customer-c-9", {"command": "ReopenComplaint", "case_id": str(planted.complaint_id),
                              "reason": "PLANTED-reopen", "at": NOW.isoformat()})
    raw = b"".join(n.state for n in app.store.recorder.select_notifications(1, 100_000))
    assert b"PLANTED-reopen" not in raw and b"cancelled by the customer" not in raw
    app.privacy.erase(caller(app, ADMIN), "c-9", "request", NOW + timedelta(minutes=1))
    reopened = [e for e in load_history(app.store, planted.complaint_id).events
                if type(e).TOPIC == "aftersales.complaint.Reopened"]
    cancelled = [e for e in load_history(app.store, planted.return_id).events
                 if type(e).TOPIC == "aftersales.return.Cancelled"]
    assert [e.reason.value for e in reopened + cancelled] == [ERASED, ERASED]


def test_a_default_key_file_is_created_beside_a_new_local_store_only(tmp_path: Path) -> None:
    (tmp_path / "store").mkdir()
    env = eventsourcing_env(f"sqlite:///{tmp_path / 'store' / 'events.sqlite'}")
    app = open_app(env, environ={})
    app.privacy.keys.key_for("c-1")  # type: ignore[attr-defined]
    app.close()
    key = tmp_path / "store" / "kek.key"
    assert key.stat().st_mode & 0o777 == 0o600
    open_app(env, environ={}).close()  # the same key next time
    key.unlink()  # lost: never replaced by a new one while data keys need the old one
    with pytest.raises(KeyEncryptionKeyError, match=r"default key file .* does not exist"):
        open_app(env, environ={})
    assert not key.exists()


def test_an_erasure_in_another_process_is_served_at_once_by_a_running_one(
        app: Services, store_settings: Settings) -> None:
    """A server that read a customer's case holds it decoded; an administrator erases the
    customer from another process (the CLI): the server's next read shows [erased], with no
    write to the case in between."""
    planted = plant(app)
    agent = caller(app, "agent-1")
    for case_id in (planted.complaint_id, planted.return_id):
        shown = str(app.reads.case(agent, case_id).to_json())
        assert any(marker in shown for marker in planted.markers)
    other = open_app(eventsourcing_env(store_settings.database_url,
                                       store_settings.postgres_schema))
    try:
        other.privacy.erase(caller(other, ADMIN), planted.customer_id, "request DSR-7", NOW)
    finally:
        other.close()
    for case_id in (planted.complaint_id, planted.return_id):
        for as_of in (None, AT + timedelta(hours=3)):
            shown = app.reads.case(agent, case_id, as_of).to_json()
            assert set(personal_values(shown)) == {ERASED}, shown


def test_a_customer_whose_history_is_dated_in_the_future_can_still_be_erased(
    app: Services,
) -> None:
    """An upstream fact dated 2150 (accepted: times run to 2199) moved the customer's last
    change past now: the erasure is stamped no earlier than that, so the aggregate's time never
    goes backwards, and records when it really happened."""
    planted = plant(app)
    future = datetime(2150, 3, 2, 10, tzinfo=UTC)
    ingest(app, order_placed("o-future", customer_id=planted.customer_id, at=future))
    assert app.store.customer(planted.customer_id, NOW).modified_on == future

    erasure = app.privacy.erase(caller(app, ADMIN), planted.customer_id, "request DSR-6", NOW)

    assert erasure.at == NOW and erasure.to_json()["erased_at"] == NOW.isoformat()
    table: Any = app.privacy.keys.table  # type: ignore[attr-defined]
    assert table.current(planted.customer_id) is None
    assert table.erased_at(planted.customer_id) == NOW.isoformat()
    customer = load_history(app.store, customer_aggregate_id(planted.customer_id))
    recorded = customer.events[-1]
    assert type(recorded).TOPIC == "aftersales.customer.PersonalDataErased"
    assert (recorded.timestamp, recorded.erased_at) == (future, NOW)
    assert customer.aggregate.erasures[-1]["at"] == NOW.isoformat()
    shown = app.reads.case(caller(app, "agent-1"), planted.complaint_id).to_json()
    assert set(personal_values(shown)) == {ERASED}
    published = to_cloud_event(app.store.recorder.select_notifications(1, 100_000)[-1])
    assert published["data"]["erased_at"] == NOW.isoformat()


def test_the_scheduler_keeps_a_customer_whose_order_is_dated_in_the_future(
    app: Services,
) -> None:
    """Retention counts from the last order fact too (``personal_data.retention`` v2): an
    order dated 2150 keeps the customer until its own period has passed, then the erasure is
    stamped when it happens."""
    from aftersales.bootstrap import scheduler_principal
    from scheduling.scheduler import Scheduler

    closed = plant(app, close=True)
    future = datetime(2150, 3, 2, 10, tzinfo=UTC)
    ingest(app, order_placed("o-future", customer_id=closed.customer_id, at=future))
    app.privacy.retention_days = 30
    scheduler = Scheduler(app, scheduler_principal(app))

    def erased(now: datetime) -> list[Any]:
        return [f for f in scheduler.fire_due(now) if f.case_type == "customer"]

    assert erased(datetime(2026, 4, 6, tzinfo=UTC)) == []  # 30 days after the last case closed
    now = datetime(2150, 4, 2, tzinfo=UTC)  # 30 days after the order dated in the future
    [fired] = erased(now)
    assert fired.status == "erased"
    customer = load_history(app.store, fired.case_id)
    decided, erasure = customer.events[-2:]
    assert decided.timestamp == erasure.timestamp == erasure.erased_at == now
    assert customer.decisions[-1].details["kept_from"] == future.isoformat()


def test_an_erasure_stored_before_it_recorded_erased_at_still_loads(app: Services) -> None:
    """Events of ``PersonalDataErased`` stored without ``erased_at`` read their timestamp."""
    plant(app)
    app.privacy.erase(caller(app, ADMIN), "c-9", "request DSR-7", NOW)
    [stored] = [n for n in app.store.recorder.select_notifications(1, 100_000)
                if n.topic == "aftersales.customer.PersonalDataErased"]
    state = app.store.mapper.transcoder.decode(stored.state)
    del state["erased_at"]
    older = StoredEvent(originator_id=stored.originator_id,
                         originator_version=stored.originator_version, topic=stored.topic,
                         state=app.store.mapper.transcoder.encode(state))
    mapper = app.store.mapper
    events: list[Any] = [mapper.to_domain_event(s) for s in app.store.recorder.select_events(
        stored.originator_id) if s.originator_version < stored.originator_version]
    events.append(mapper.to_domain_event(older))
    assert "erased_at" not in vars(events[-1])
    customer: Any = None
    for event in events:
        customer = event.mutate(customer)
    [erasure] = customer.erasures
    assert (erasure["at"], erasure["reason"]) == (NOW.isoformat(), "request DSR-7")


def test_the_erased_marker_is_no_customer_id_and_never_matches_erased_rows(
    app: Services, store_settings: Settings, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """SPEC §7: a customer never learns that another customer's case exists. Erased rows read
    ``[erased]`` in their customer column: no principal, order or complaint takes that id, and
    a customer's rows never include them, whatever id a principal was bound to."""
    from aftersales_core.application.reads import QueryScope
    from aftersales_core.errors import InvalidFieldError
    from projections.pages import page
    from projections.queries import query_table

    pg = pg_of(request, store_settings)
    planted = plant(app)
    app.privacy.erase(caller(app, ADMIN), planted.customer_id, "request DSR-8", NOW)
    for roles in (["customer"], ["customer", "agent"]):
        with pytest.raises(InvalidFieldError, match=r"customer_id: \[erased\] is not a customer"):
            app.principals.add(caller(app, ADMIN), "evil", roles, NOW, customer_id=ERASED)
    with pytest.raises(InvalidFieldError, match="customer_id: a word in square brackets"):
        app.principals.add(caller(app, ADMIN), "evil", ["customer"], NOW, customer_id="[x]")
    app.principals.add(caller(app, ADMIN), "evil", ["agent"], NOW)
    with pytest.raises(InvalidFieldError, match="customer_id"):
        app.principals.grant(caller(app, ADMIN), "evil", "customer", NOW, customer_id=ERASED)
    upstream = caller(app, "system.upstream")
    with pytest.raises(InvalidFieldError, match="customer_id"):  # past the wire schema, too
        app.upstream.order_placed(
            upstream, "e-evil", T0, "o-evil", ERASED, "DE", "EUR", "direct_mail",
            [{"line_id": "1", "sku": "s", "category": "books", "quantity": 1,
              "unit_price": "10.00"}], Decimal("5.00"), Decimal("0.00"), Decimal("0.00"),
            Decimal("15.00"))
    with pytest.raises(InvalidFieldError, match="customer_id"):
        app.complaints.file(caller(app, "agent-1"), uuid4(), "email", "damaged",
                                      "broken", NOW, customer_id=ERASED)
    read_url = (f"sqlite:///{tmp_path / 'read.sqlite'}" if pg is None
                else f"{pg[0]}?options=-csearch_path%3D{pg[1]}")
    db = ReadDatabase(read_url)
    rebuild(db, None, store_reader(app))
    for table in ("cases", "orders", "complaints", "refunds"):
        everyone = query_table(db, QueryScope(table, "full", None), [])
        if table in ("cases", "orders", "complaints"):
            assert {r["customer_id"] for r in everyone} == {ERASED}, table
        marked = QueryScope(table, "full", ERASED)  # a principal bound before the rule
        assert query_table(db, marked, []) == [], table
        assert page(db, marked, [], None, 100, None) == ([], None), table
    db.close()


def test_an_erasure_applied_before_the_customers_earlier_events_still_purges_their_rows(
    app: Services, store_settings: Settings, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """The erasure travels on the customer's partition of the case-events topic, their cases'
    events on others: a runner may apply the erasure first (a partition behind, another runner
    on it, or simply the order of one poll's partitions). The rows those earlier events write
    must not name the customer, as a rebuild's do not; a case opened after the erasure does."""
    from projections.apply import Delivery, apply_batch, ensure_schema
    from projections.catalog import all_projections

    pg = pg_of(request, store_settings)
    planted = plant(app)
    app.privacy.erase(caller(app, ADMIN), planted.customer_id, "request DSR-9", NOW)
    later = run(app, f"customer-{planted.customer_id}", {
        "command": "FileComplaint", "order_id": planted.order_id, "channel": "email",
        "category": "service", "description": "after the erasure",
        "at": (NOW + timedelta(minutes=1)).isoformat()}).case_id
    stored = [dict(e) for e in store_reader(app)(0, 1_000_000)]
    erasure = [e for e in stored if e["type"] == "aftersales.customer.PersonalDataErased"]
    assert len(erasure) == 1
    before = [e for e in stored if e["position"] < erasure[0]["position"]]
    after = [e for e in stored if e["position"] > erasure[0]["position"]]
    read_url = (f"sqlite:///{tmp_path / 'read.sqlite'}" if pg is None
                else f"{pg[0]}?options=-csearch_path%3D{pg[1]}")
    db = ReadDatabase(read_url)
    projections = all_projections()
    ensure_schema(db, projections)
    # partition 1 (the customer's) is ahead: the erasure and what followed it come first,
    # in a batch of their own and again first within a batch of both partitions
    apply_batch(db, projections, [Delivery("case-events", 1, 0, erasure[0])])
    apply_batch(db, projections,
                [Delivery("case-events", 1, 1 + n, e) for n, e in enumerate(after)]
                + [Delivery("case-events", 0, n, e) for n, e in enumerate(before)])
    named = re.compile(rf"(?<![0-9a-z-]){re.escape(planted.customer_id)}(?![0-9a-z-])")
    for table in ("cases", "complaints", "orders", "refunds", "buyer_quota"):
        rows = db.query(f"SELECT * FROM {table}")
        key = {"cases": "case_id", "complaints": "complaint_id"}.get(table)
        for row in rows:
            if key is not None and row[key] == str(later):
                assert row["customer_id"] == planted.customer_id, (table, row)
            else:
                assert row["customer_id"] != planted.customer_id, (table, row)
    decided = [r for r in db.query("SELECT inputs FROM decisions")
               if named.search(str(native_json(r["inputs"])))]
    assert decided == []
    db.close()


def test_retention_counts_a_resolved_complaint_nobody_closed(app: Services) -> None:
    """A customer who never rates the resolution leaves the complaint resolved, not closed:
    their personal data is still erased once the retention period after it has passed."""
    from aftersales.bootstrap import scheduler_principal
    from scheduling.scheduler import Scheduler

    planted = plant(app, customer_id="c-6", order_id="o-6")
    run(app, "agent-1", {"command": "ResolveComplaint", "summary": "apology sent",
                         "case_id": str(planted.complaint_id),
                         "at": (AT + timedelta(hours=8)).isoformat()})
    run(app, "customer-c-6", {"command": "CancelReturn", "case_id": str(planted.return_id),
                              "at": (AT + timedelta(hours=9)).isoformat()})
    app.privacy.retention_days = 30
    scheduler = Scheduler(app, scheduler_principal(app))
    erase_after = datetime(2026, 4, 6, tzinfo=UTC)  # 30 days kept after 6 March
    fired = [f for f in scheduler.fire_due(erase_after) if f.case_type == "customer"]
    assert [f.related for f in fired] == [{"customer_id": "c-6"}]
    shown = app.reads.case(caller(app, "agent-1"), planted.complaint_id).to_json()
    assert set(personal_values(shown)) == {ERASED}


def test_retention_erases_a_customer_with_orders_and_no_case(app: Services) -> None:
    """Most buyers never open a case: their orders' unknown fields (a name, an address) are
    erased the retention period after the last fact of their orders; a buyer whose order is
    more recent is kept until theirs ends."""
    from aftersales.bootstrap import scheduler_principal
    from scheduling.scheduler import Scheduler
    from tests.factories import order_paid, shipment

    placed = order_placed("o-4", customer_id="c-4", buyer_name="PLANTED-c4-name")
    ingest(app, placed, order_paid(placed),
           shipment("o-4", "Delivered", T0 + timedelta(days=3)))  # 5 March, the last fact
    ingest(app, order_placed("o-5", customer_id="c-5", at=T0 + timedelta(days=20),
                             address="PLANTED-c5-address"))
    app.privacy.retention_days = 30
    scheduler = Scheduler(app, scheduler_principal(app))
    erase_after = datetime(2026, 4, 5, tzinfo=UTC)  # kept through 4 April (5 March + 30)

    def erased(now: datetime) -> list[Any]:
        return [f for f in scheduler.fire_due(now) if f.case_type == "customer"]

    def values(customer_id: str) -> list[str]:
        exported = app.privacy.export(caller(app, ADMIN), customer_id, now=NOW)
        return [p["value"] for p in exported["personal_data"]]

    assert erased(erase_after - timedelta(microseconds=1)) == []
    assert values("c-4") == ['{"buyer_name":"PLANTED-c4-name"}']
    [fired] = erased(erase_after)
    assert (fired.related, fired.due_at) == ({"customer_id": "c-4"}, erase_after)
    assert values("c-4") == [ERASED]
    assert "PLANTED-c5-address" in str(values("c-5"))
    customer = load_history(app.store, fired.case_id)
    [decision] = customer.decisions
    assert (decision.policy_version, decision.inputs["cases"]) == (2, [])
    assert [o["order_id"] for o in decision.inputs["orders"]] == ["o-4"]
    assert [again.same_result_as(d) for d, again in rerun_decisions(app, customer)] == [True]
    assert erased(datetime(2026, 4, 21, 23, tzinfo=UTC)) == []  # 22 March + 30 days kept
    [later] = erased(datetime(2026, 4, 22, tzinfo=UTC))
    assert later.related == {"customer_id": "c-5"}


def test_unknown_fields_of_a_fact_before_the_placement_are_the_buyers_once_placed(
    app: Services, store_settings: Settings, request: pytest.FixtureRequest
) -> None:
    """A scan that comes before its order's placement (the inbound topics are not ordered with
    each other) carries a buyer detail: it is sealed under the order's own key while the buyer
    is not known, redacted on the topic and for redacted roles, listed in the buyer's export
    once the placement names them, and erased with them."""
    from aftersales_core.domain.ids import order_aggregate_id, order_subject
    from tests.factories import shipment

    pg = pg_of(request, store_settings)
    marker = f"PLANTED-{uuid4().hex[:12]}-held"
    scan = {**shipment("o-7", "InTransit", T0 + timedelta(hours=1)), "extra_pii": marker}
    [held] = ingest(app, scan)
    assert held.held
    ingest(app, order_placed("o-7", customer_id="c-7", at=T0 + timedelta(hours=2)))
    order_id = order_aggregate_id("o-7")
    assert marker.encode() not in store_bytes(app, store_settings, pg)
    published = [to_cloud_event(n) for n in app.store.recorder.select_notifications(1, 100_000)]
    assert marker not in str(published)
    [scanned] = [e for e in published if e["type"] == "aftersales.order.ShipmentScanned"]
    assert scanned["data"]["extra"] == {"personal_data": "redacted",
                                        "subject": order_subject("o-7")}
    for name in ("analyst-1", "warehouse-1"):
        assert marker not in str(app.reads.case(caller(app, name), order_id).to_json()), name
    assert marker in str(app.reads.case(caller(app, "agent-1"), order_id).to_json())
    exported = app.privacy.export(caller(app, "customer-c-7"), "c-7", NOW)
    [datum] = exported["personal_data"]
    assert (datum["kind"], datum["field"], datum["aggregate_id"]) == (
        "order", "extra", str(order_id))
    assert marker in datum["value"]

    app.privacy.erase(caller(app, ADMIN), "c-7", "request DSR-10", NOW)

    table: Any = app.privacy.keys.table  # type: ignore[attr-defined]
    assert table.current(order_subject("o-7")) is None
    assert table.erased_at(order_subject("o-7")) == NOW.isoformat()
    shown = app.reads.case(caller(app, "agent-1"), order_id).to_json()
    assert marker not in str(shown) and ERASED in str(shown)
    after = app.privacy.export(caller(app, ADMIN), "c-7", NOW)
    assert [p["value"] for p in after["personal_data"]] == [ERASED]


def test_retention_erases_a_customer_whose_only_data_came_before_the_placement(
    app: Services,
) -> None:
    from aftersales.bootstrap import scheduler_principal
    from scheduling.scheduler import Scheduler
    from tests.factories import shipment

    scan = {**shipment("o-3", "Delivered", T0), "phone": "PLANTED-held-phone"}
    ingest(app, scan, order_placed("o-3", customer_id="c-3", at=T0 + timedelta(hours=1)))
    table: Any = app.privacy.keys.table  # type: ignore[attr-defined]
    assert table.current("c-3") is None  # the placement carried nothing personal
    app.privacy.retention_days = 30
    scheduler = Scheduler(app, scheduler_principal(app))
    [fired] = [f for f in scheduler.fire_due(datetime(2026, 4, 2, tzinfo=UTC))
               if f.case_type == "customer"]
    assert fired.related == {"customer_id": "c-3"}
    exported = app.privacy.export(caller(app, ADMIN), "c-3", NOW)
    assert [p["value"] for p in exported["personal_data"]] == [ERASED]
