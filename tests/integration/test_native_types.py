"""Read models with native types on PostgreSQL (NUMERIC amounts, TIMESTAMPTZ times, JSONB
documents) and text on SQLite: the same history projected into both reads back as the same
values, filters and orderings compare amounts as numbers and times as times on both, and a
PostgreSQL table made by an older version (all TEXT) asks for a rebuild, which fixes it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest

from aftersales.bootstrap import open_app, store_reader
from aftersales.settings import eventsourcing_env
from aftersales_core.application.reads import QueryScope
from aftersales_core.application.services import Services
from desk.analysis import figures, waiting_approvals
from desk.assignments import Assignments
from desk.i18n import Reader
from desk.queue import Query, queue
from projections.apply import OutdatedProjection, ensure_schema
from projections.catalog import PROJECTIONS, all_projections, json_columns, select
from projections.db import ReadDatabase, native
from projections.pages import PageError, page, table
from projections.queries import QueryError, query_table
from projections.rebuild import catch_up, rebuild
from tests.factories import T0, delivered_order, ingest, run, shipment
from tests.integration.test_outbound_contract import AT, busy_day

SHANGHAI = timezone(timedelta(hours=8))


@pytest.fixture
def sqlite_app(sqlite_url: str) -> Iterator[Services]:
    """The history is the same whatever the store: kept in SQLite here."""
    app = open_app(eventsourcing_env(sqlite_url))
    yield app
    app.close()


@pytest.fixture
def postgres_read(pg_schema: tuple[str, str]) -> Iterator[ReadDatabase]:
    url, schema = pg_schema
    db = ReadDatabase(f"{url}?options=-csearch_path%3D{schema}")
    yield db
    db.close()


@pytest.fixture
def sqlite_read(tmp_path: Path) -> Iterator[ReadDatabase]:
    db = ReadDatabase(f"sqlite:///{tmp_path / 'read.sqlite'}")
    yield db
    db.close()


def history(app: Services) -> None:
    """Orders, a return, refunds (one settled, one awaiting a supervisor, amounts of other
    lengths), a complaint, scans with other offsets."""
    busy_day(app)
    run(app, "agent-1", {"command": "RequestRefund", "order_id": "o-1", "source": "goodwill",
                         "amount": "5.00", "reason": "late",
                         "at": (AT + timedelta(hours=1)).isoformat()})
    delivered_order(app, "o-3", lines=[{"line_id": "1", "sku": "TV", "category": "electronics",
                                        "quantity": 1, "unit_price": "400.00"}])
    run(app, "agent-1", {"command": "RequestRefund", "order_id": "o-3", "source": "goodwill",
                         "amount": "250.01", "reason": "late",
                         "at": (AT + timedelta(hours=2)).isoformat()})
    ingest(app, shipment("o-1", "Damaged", (T0 + timedelta(days=2)).astimezone(SHANGHAI),
                         direction="return"))


def rows(db: ReadDatabase, name: str) -> list[dict[str, Any]]:
    return sorted(db.query(f"SELECT * FROM {name}"), key=repr)


def test_both_backends_read_back_the_same_values_postgresql_in_native_types(
        sqlite_app: Services, sqlite_read: ReadDatabase, postgres_read: ReadDatabase,
        pg_schema: tuple[str, str]) -> None:
    history(sqlite_app)
    for db in (sqlite_read, postgres_read):
        catch_up(db, None, store_reader(sqlite_app))
    tables = [t for cls in PROJECTIONS.values() for t in cls.tables]
    for name in tables:
        assert rows(sqlite_read, name) == rows(postgres_read, name), name
    cases = rows(postgres_read, "cases")
    assert {c["amount"] for c in cases} >= {"300.00", "250.01", "5.00"}  # amounts as written
    assert all(c["opened_at"].endswith("+00:00") for c in cases)  # times in UTC
    assert any(c["open_deadlines"] != "{}" for c in cases)
    [damaged] = rows(postgres_read, "logistics_exceptions")  # a +08:00 scan, kept as UTC
    assert damaged["occurred_at"] == (T0 + timedelta(days=2)).isoformat()
    assert json_columns("decisions") == {"inputs", "details"}
    url, schema = pg_schema
    with psycopg.connect(url) as conn:  # what an analyst's tool sees
        types = dict(conn.execute(
            "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s", (schema,)).fetchall())
        total = conn.execute(f'SELECT sum(amount) FROM "{schema}".refunds').fetchone()
    assert types["cases.amount"] == types["orders.paid"] == "numeric"
    assert types["cases.opened_at"] == types["deadlines.due_at"] == "timestamp with time zone"
    assert types["decisions.inputs"] == types["cases.open_deadlines"] == "jsonb"
    assert types["refunds.hours_to_settle"] == "double precision"
    assert types["cases.status"] == "text" and types["shipments.month"] == "text"
    assert total is not None and str(total[0]) == "555.01"


@pytest.mark.parametrize("backend", ["sqlite_read", "postgres_read"])
def test_filters_and_orderings_compare_amounts_as_numbers_and_times_as_times(
        sqlite_app: Services, backend: str, request: pytest.FixtureRequest) -> None:
    db: ReadDatabase = request.getfixturevalue(backend)
    history(sqlite_app)
    catch_up(db, ["refunds"], store_reader(sqlite_app))
    everyone = QueryScope("refunds", "all", None)
    amounts = [r["amount"] for r in query_table(db, everyone, [], "amount")]
    assert amounts == ["5.00", "250.01", "300.00"]  # as text "5.00" would come last
    assert [r["amount"] for r in query_table(db, everyone, ["amount=300"])] == ["300.00"]
    spec = table("refunds")
    requested = query_table(db, everyone, [], "amount")[0]["requested_at"]
    elsewhere = _in_shanghai(requested)
    found, _ = page(db, everyone, [("requested_at", requested)], None, 10, None)
    assert [r["amount"] for r in found] == ["5.00"]
    assert [r["amount"] for r in query_table(db, everyone, [f"requested_at={elsewhere}"])
            ] == ["5.00"]  # the same moment at another offset
    seen, after = [], None
    while True:  # one row a page, by amount descending: keyset pagination on a NUMERIC
        found, after = page(db, everyone, [], "-amount", 1, after)
        seen += [r["amount"] for r in found]
        if after is None:
            break
    assert seen == ["300.00", "250.01", "5.00"]
    for name, value in (("amount", "12,50"), ("requested_at", "yesterday"),
                        ("components", "{not json")):
        assert spec.column(name) is not None
        with pytest.raises(QueryError, match=name):
            query_table(db, everyone, [f"{name}={value}"])
    with pytest.raises(PageError, match="cursor"):
        page(db, everyone, [], "requested_at", 1, [0, "not a time", "x"])


def escalated_complaints(app: Services) -> dict[str, str]:
    """Complaints escalated to each level of the ladder (filed in no order of it), and one
    not escalated: case id -> level (or "")."""
    delivered_order(app, "o-1")
    levels = {}
    for hours, level in enumerate(("regulator", "supervisor", "", "platform_arbitration")):
        at = AT + timedelta(hours=hours)
        filed = run(app, "customer-c-1", {"command": "FileComplaint", "order_id": "o-1",
                                          "channel": "email", "category": "service",
                                          "description": "no answer", "at": at.isoformat()})
        if level:
            run(app, "sup-1", {"command": "EscalateComplaint", "case_id": str(filed.case_id),
                               "level": level, "reason": "no answer",
                               "at": (at + timedelta(minutes=5)).isoformat()})
        levels[str(filed.case_id)] = level
    return levels


@pytest.mark.parametrize("backend", ["sqlite_read", "postgres_read"])
def test_escalation_levels_sort_by_the_ladder_not_alphabetically(
        sqlite_app: Services, backend: str, request: pytest.FixtureRequest) -> None:
    db: ReadDatabase = request.getfixturevalue(backend)
    escalated_complaints(sqlite_app)
    catch_up(db, ["cases", "complaints"], store_reader(sqlite_app))
    ladder = ["supervisor", "platform_arbitration", "regulator"]
    cases = QueryScope("cases", "all", None)
    where = ["case_type=complaint"]
    ordered = [r["escalation"] for r in query_table(db, cases, where, "escalation")]
    assert [level for level in ordered if level] == ladder
    downwards = [r["escalation"] for r in query_table(db, cases, where, "-escalation")]
    assert [level for level in downwards if level] == ladder[::-1]
    complaints = QueryScope("complaints", "all", None)
    assert [r["escalated_to"] for r in query_table(db, complaints, [], "escalated_to")
            if r["escalated_to"]] == ladder
    for order_by, expected in (("escalation", [*ladder, None]),
                               ("-escalation", [*ladder[::-1], None])):
        seen, after = [], None
        while True:  # one row a page: the keyset follows the ladder too
            found, after = page(db, cases, [("case_type", "complaint")], order_by, 1, after)
            seen += [r["escalation"] for r in found]
            if after is None:
                break
        assert seen == expected, order_by


def _in_shanghai(text: str) -> str:
    return datetime.fromisoformat(text).astimezone(SHANGHAI).isoformat()


def test_an_older_text_table_on_postgresql_asks_for_a_rebuild_which_fixes_it(
        sqlite_app: Services, postgres_read: ReadDatabase, sqlite_read: ReadDatabase) -> None:
    history(sqlite_app)
    [cases] = select(["cases"])
    with postgres_read.transaction() as tx:  # the table as an older version made it
        tx.execute(native(cases.sql(cases.tables["cases"]), postgres=False))
    with pytest.raises(OutdatedProjection, match="aftersales projections rebuild cases"):
        ensure_schema(postgres_read, all_projections())
    ensure_schema(sqlite_read, all_projections())  # SQLite holds TEXT: nothing to rebuild
    rebuild(postgres_read, ["cases"], store_reader(sqlite_app))
    ensure_schema(postgres_read, all_projections())
    types = dict(postgres_read.column_types("cases"))
    assert (types["amount"], types["opened_at"]) == (1700, 1184)  # NUMERIC, TIMESTAMPTZ
    catch_up(sqlite_read, ["cases"], store_reader(sqlite_app))
    assert rows(postgres_read, "cases") == rows(sqlite_read, "cases")


def test_the_desk_shows_the_same_on_both_backends(
        sqlite_app: Services, sqlite_read: ReadDatabase, postgres_read: ReadDatabase) -> None:
    """The queue (times, amounts, next deadlines), the analysis and the approvals waiting."""
    history(sqlite_app)
    for db in (sqlite_read, postgres_read):
        catch_up(db, None, store_reader(sqlite_app))
    reader, now = Reader("en", "Asia/Shanghai"), AT + timedelta(days=1)
    assignments = Assignments(sqlite_app.store.recorder)
    query = Query(scope="all", filters={"from": "2026-03-01"})
    queues = [queue(db, assignments, query, "agent-1", reader, now)
              for db in (sqlite_read, postgres_read)]
    assert queues[0] == queues[1] and len(queues[0].rows) >= 3
    assert any(row["amount"] == "300.00" for row in queues[0].rows)
    shown = [figures(db, query, reader, now.isoformat()) for db in (sqlite_read, postgres_read)]
    for found in shown:  # money as the desk prints it (SQLite adds amounts up as floats)
        for figure in found["figures"]:
            for row in figure.rows:
                if "money" in row:
                    row["money"] = reader.money(*row["money"])
    assert shown[0] == shown[1]
    waiting = [waiting_approvals(db) for db in (sqlite_read, postgres_read)]
    assert waiting[0] == waiting[1]  # 5.00 on o-1 waits too: 300.00 was refunded there before
    assert [w["amount"] for w in waiting[0]] == ["5.00", "250.01"]
