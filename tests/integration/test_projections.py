"""Projections from the store (rebuild) agree with the aggregates they summarise."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import pytest

from aftersales.bootstrap import store_reader
from aftersales_core.application.services import Services
from aftersales_core.domain.complaints import ComplaintCase
from aftersales_core.domain.refunds import RefundCase
from aftersales_core.domain.returns import ReturnCase
from projections.catalog import queryable_tables
from projections.db import ReadDatabase
from projections.rebuild import rebuild
from tests.factories import T0, caller, delivered_order, ingest, shipment


def busy_day(app: Services) -> dict[str, list]:
    """Returns, refunds and complaints in many states on a few orders."""
    cases: dict[str, list] = {"return": [], "refund": [], "complaint": []}
    for i in range(4):
        delivered_order(app, f"o-{i}", customer_id=f"c-{i}")
    at = T0 + timedelta(days=5)
    agent, payments = caller(app, "agent-1"), caller(app, "payments-1")
    for i in range(3):
        r = app.returns.request(caller(app, f"customer-c-{i}"), case_id=uuid4(),
                                order_id=f"o-{i}", lines=[{"line_id": "2", "quantity": 1}],
                                reason="defective", outcome="refund", at=at)
        cases["return"].append(r.case_id)
    first = cases["return"][0]
    app.returns.issue_label(agent, case_id=first, carrier="DHL", tracking_number="T", at=at)
    ingest(app, shipment("o-0", "Dispatched", at + timedelta(days=1), direction="return"),
           shipment("o-0", "Delivered", at + timedelta(days=2), direction="return"))
    app.returns.inspect(caller(app, "warehouse-1"), case_id=first, grade="C",
                        at=at + timedelta(days=3))
    resolved = app.resolutions.resolve(agent, case_id=first, at=at + timedelta(days=3))
    cases["refund"].append(resolved.related["refund_case_id"])
    app.returns.cancel(caller(app, "customer-c-1"), case_id=cases["return"][1],
                       at=at + timedelta(days=1))
    big = app.refunds.request(agent, case_id=uuid4(), order_id="o-3", source="goodwill",
                              reason="x", at=at, amount=Decimal("99.99"))
    cases["refund"].append(big.case_id)
    app.refunds.issue(payments, case_id=big.case_id, at=at)
    app.refunds.confirm_settled(payments, case_id=big.case_id, provider_ref="p",
                                at=at + timedelta(hours=30))
    for channel in ("platform", "chat"):
        c = app.complaints.file(caller(app, "customer-c-2"), case_id=uuid4(), order_id="o-2",
                                channel=channel, category="damaged", description="broken", at=at)
        cases["complaint"].append(c.case_id)
    complaint = cases["complaint"][0]
    app.complaints.add_message(agent, case_id=complaint, direction="out", text="sorry",
                               at=at + timedelta(hours=3))
    app.complaints.resolve(agent, case_id=complaint, summary="reshipped",
                           at=at + timedelta(hours=5))
    app.complaints.close(agent, case_id=complaint, satisfaction=2, at=at + timedelta(hours=6))
    app.complaints.reopen(caller(app, "customer-c-2"), case_id=complaint, reason="again",
                          at=at + timedelta(days=1))
    app.complaints.add_message(agent, case_id=complaint, direction="out", text="on it",
                               at=at + timedelta(days=1, hours=1))
    return cases


@pytest.fixture
def read_db(tmp_path: Path) -> ReadDatabase:
    return ReadDatabase(f"sqlite:///{tmp_path / 'read.sqlite'}")


def test_rebuilt_cases_show_the_status_of_every_aggregate(app: Services,
                                                        read_db: ReadDatabase) -> None:
    cases = busy_day(app)
    reached = rebuild(read_db, None, store_reader(app))
    assert reached == app.store.recorder.max_notification_id()
    rows = {r["case_id"]: r for r in read_db.query("SELECT * FROM cases")}
    kinds = {"return": ReturnCase, "refund": RefundCase, "complaint": ComplaintCase}
    for kind, ids in cases.items():
        for case_id in ids:
            aggregate = app.store.load(kinds[kind], __import__("uuid").UUID(str(case_id)))
            row = rows[str(case_id)]
            assert (row["case_type"], row["status"], row["version"]) == (
                kind, aggregate.status.value, aggregate.version)
            assert row["market"] == "DE" and row["currency"] == "EUR"


def test_refunds_decisions_and_reasons_are_projected(app: Services,
                                                    read_db: ReadDatabase) -> None:
    busy_day(app)
    rebuild(read_db, None, store_reader(app))
    settled = read_db.query("SELECT * FROM refunds WHERE status = 'settled'")
    assert [(r["amount"], r["currency"], r["hours_to_settle"]) for r in settled] == [
        ("99.99", "EUR", 30.0)]
    stored = sum(1 for n in app.store.recorder.select_notifications(1, 10_000)
                 if n.topic.endswith("DecisionRecorded"))
    assert read_db.query("SELECT count(*) AS n FROM decisions")[0]["n"] == stored
    by_reason = read_db.query("SELECT * FROM returns_by_reason")
    assert [(r["market"], r["sku"], r["reason"], r["requests"], r["value"]) for r in by_reason] \
        == [("DE", "LAMP-9", "defective", 3, "180.00")]
    complaint = read_db.query("SELECT * FROM complaints WHERE channel = 'platform'")[0]
    assert complaint["first_response_hours"] == 3.0 and complaint["reopened"] == 1
    orders = read_db.query("SELECT * FROM orders ORDER BY order_id")
    assert [o["order_id"] for o in orders] == ["o-0", "o-1", "o-2", "o-3"]
    assert read_db.query("SELECT count(*) AS n FROM order_lines")[0]["n"] == 8


def test_a_second_rebuild_gives_the_same_tables(app: Services,
                                                read_db: ReadDatabase) -> None:
    busy_day(app)
    rebuild(read_db, None, store_reader(app))
    first = {t: sorted(read_db.query(f"SELECT * FROM {t}"), key=repr) for t in TABLES}
    rebuild(read_db, ["cases", "refunds"], store_reader(app))
    again = {t: sorted(read_db.query(f"SELECT * FROM {t}"), key=repr) for t in TABLES}
    assert first == again


TABLES = tuple(queryable_tables())  # every table of every projection
