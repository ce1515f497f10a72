"""The insight read models on a real read database (SQLite file and PostgreSQL): equal to a
rebuild whatever order the partitions deliver their events in, alerts where the data says so,
rates never above 100 %. The scripted shop is built once per module (in a SQLite store) and
rebuilt once per read backend for the tests that only read it."""

from __future__ import annotations

import csv
import io
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import redirect_stdout
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from random import Random
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersales.bootstrap import open_app, store_reader
from aftersales.output import emit_rows
from aftersales.settings import eventsourcing_env
from aftersales_core.application.services import Services
from projections.apply import Delivery, apply_batch, ensure_schema
from projections.catalog import all_projections, queryable_tables
from projections.db import ReadDatabase
from projections.insights.carriers import carriers
from projections.insights.complaints import complaints
from projections.insights.products import products, totals
from projections.insights.refunds import refunds
from projections.insights.signals import assess
from projections.insights.stats import Rate
from projections.insights.view import Insight, View
from projections.rebuild import catch_up, rebuild
from tests.conftest import postgres_url
from tests.factories import T0, caller, ingest, order_paid, order_placed, shipment

PARTITIONS = 6
HOME = [{"line_id": "1", "sku": "MUG-1", "category": "home", "quantity": 2, "unit_price": "9.50"},
        {"line_id": "2", "sku": "LAMP-9", "category": "home", "quantity": 1,
         "unit_price": "60.00"},
        {"line_id": "3", "sku": "VASE-3", "category": "home", "quantity": 1,
         "unit_price": "15.00"}]
GARDEN = [{"line_id": "1", "sku": "HOSE-1", "category": "garden", "quantity": 1,
           "unit_price": "12.00"}]


def shop(app: Services, orders: int = 30) -> None:
    """30 orders of three home SKUs and 30 of a garden SKU. LAMP-9 comes back as defective from
    h-0, h-3 … h-27 (10 orders), MUG-1 twice from h-1 for a change of mind; not-as-described
    complaints about h-1, h-4 … h-25 (9, of which h-7 was lost); every fifth parcel late, h-4
    held at customs for 19 hours, h-7 lost, h-28 and h-29 never delivered; the scans of h-3,
    h-7 … came before the order was placed."""
    at = T0
    for i in range(orders):
        order_id = f"h-{i}"
        placed = order_placed(order_id, lines=HOME, customer_id=f"c-{i}", at=at,
                              estimated_delivery_at=(at + timedelta(days=4)).isoformat())
        scans = [shipment(order_id, "Dispatched", at + timedelta(days=1), carrier="DHL"),
                 shipment(order_id, "CustomsHeld", at + timedelta(days=1, hours=5),
                          carrier="DHL") if i == 4 else None,
                 shipment(order_id, "CustomsReleased", at + timedelta(days=2), carrier="DHL")]
        delivered = at + timedelta(days=3 if i % 5 else 6)  # every fifth order is late
        if i == 7:
            scans.append(shipment(order_id, "Lost", at + timedelta(days=9), carrier="DHL"))
        elif i < orders - 2:
            scans.append(shipment(order_id, "Delivered", delivered, carrier="DHL"))
        if i % 4 == 3:  # the parcel's scans came before the order (topics are not ordered)
            ingest(app, *[s for s in scans if s], placed, order_paid(placed))
        else:
            ingest(app, placed, order_paid(placed), *[s for s in scans if s])
        garden = order_placed(f"g-{i}", lines=GARDEN, customer_id=f"c-{i}", at=at)
        ingest(app, garden, order_paid(garden),
               shipment(f"g-{i}", "Delivered", at + timedelta(days=2), carrier="UPS"))
        at += timedelta(hours=20)
    when = at + timedelta(days=5)
    agent = caller(app, "agent-1")
    for i in range(0, orders - 2, 3):
        app.returns.request(caller(app, f"customer-c-{i}"), case_id=uuid4(),
                            order_id=f"h-{i}", lines=[{"line_id": "2", "quantity": 1}],
                            reason="defective", outcome="refund", at=when)
    for i in range(1, orders - 2, 3):
        buyer = caller(app, f"customer-c-{i}")
        complaint = app.complaints.file(buyer, case_id=uuid4(), order_id=f"h-{i}",
                                        channel="email", category="not_as_described",
                                        description="not as shown", at=when + timedelta(hours=1))
        case = complaint.case_id
        app.complaints.acknowledge(agent, case_id=case,
                                   at=when + timedelta(hours=30 if i % 2 else 2))
        app.complaints.propose(agent, case_id=case, resolution="coupon",
                               at=when + timedelta(hours=40))
        app.complaints.respond(buyer, case_id=case, accepted=True, at=when + timedelta(hours=41))
        app.complaints.resolve(agent, case_id=case, summary="coupon",
                               at=when + timedelta(hours=42))
        app.complaints.close(agent, case_id=case, satisfaction=2 + i % 3,
                             at=when + timedelta(hours=43))
    buyer = caller(app, "customer-c-1")
    app.returns.request(buyer, case_id=uuid4(), order_id="h-1",
                        lines=[{"line_id": "1", "quantity": 2}], reason="changed_mind",
                        outcome="refund", at=when)
    # the same line asked back twice: units returned stay at the units sold
    app.returns.request(buyer, case_id=uuid4(), order_id="h-1",
                        lines=[{"line_id": "1", "quantity": 2}], reason="changed_mind",
                        outcome="refund", at=when + timedelta(hours=1))


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """The scripted shop, built once for the module in a SQLite store (the store backends have
    their own tests; what matters here is the read database the insights are kept in)."""
    path = tmp_path_factory.mktemp("shop") / "events.sqlite"
    application = open_app(eventsourcing_env(f"sqlite:///{path}", None))
    shop(application)
    yield application
    application.close()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def rebuilt(request: pytest.FixtureRequest, app: Services,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReadDatabase]:
    """The shop's read models rebuilt once per read backend, for the tests that only read."""
    if request.param == "sqlite":
        db = ReadDatabase(f"sqlite:///{tmp_path_factory.mktemp('read') / 'read.sqlite'}")
        rebuild(db, None, store_reader(app))
        yield db
        db.close()
        return
    url, schema = postgres_url(), f"t_{uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    db = ReadDatabase(f"{url}?options=-csearch_path%3D{schema}")
    try:
        rebuild(db, None, store_reader(app))
        yield db
    finally:
        db.close()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgres"])
def read_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'read.sqlite'}"
    url, schema = request.getfixturevalue("pg_schema")
    return f"{url}?options=-csearch_path%3D{schema}"


@pytest.fixture
def read_db(read_url: str) -> Iterator[ReadDatabase]:
    db = ReadDatabase(read_url)
    yield db
    db.close()


def snapshot(db: ReadDatabase) -> dict[str, list[dict[str, Any]]]:
    return {t: sorted(db.query(f"SELECT * FROM {t}"), key=repr) for t in queryable_tables()}


def events(app: Services) -> list[dict[str, Any]]:
    return store_reader(app)(0, 1_000_000)


def partitioned(stored: list[dict[str, Any]]) -> list[list[Delivery]]:
    """The events as the relay's topic holds them: keyed by case id over 6 partitions, each
    partition in store order."""
    parts: list[list[Delivery]] = [[] for _ in range(PARTITIONS)]
    for event in stored:
        part = zlib.crc32(event["subject"].encode()) % PARTITIONS
        parts[part].append(Delivery("case-events", part, len(parts[part]), dict(event)))
    return parts


def assert_consistent(db: ReadDatabase) -> None:
    """Each order's counts are the sums over its order x SKU rows; each SKU's totals are the
    sums over its rows."""
    lines = db.query("SELECT * FROM product_lines")
    for order in db.query("SELECT * FROM product_orders"):
        mine = [r for r in lines if r["order_aggregate_id"] == order["order_aggregate_id"]]
        assert order["delivered"] == int(any(r["delivered"] for r in mine))
        assert order["returned_skus"] == sum(r["returned"] for r in mine)
        assert order["flagged_skus"] == sum(r["flagged"] for r in mine)
        assert order["units_sold"] == sum(r["units_sold"] for r in mine)
        assert order["units_returned"] == sum(r["units_returned"] for r in mine)
        for column in ("value_sold", "value_returned"):
            assert Decimal(order[column]) == sum((Decimal(r[column]) for r in mine),
                                                 Decimal(0)), column
    for total in db.query("SELECT * FROM product_totals"):
        mine = [r for r in lines if (r["merchant"], r["category"], r["sku"]) ==
                (total["merchant"], total["category"], total["sku"]) and r["delivered"]]
        assert (total["orders"], total["returned"], total["flagged"], total["units_sold"],
                total["units_returned"]) == (
            len(mine), sum(r["returned"] for r in mine), sum(r["flagged"] for r in mine),
            sum(r["units_sold"] for r in mine), sum(r["units_returned"] for r in mine))


def test_insight_tables_equal_a_rebuild_whatever_order_partitions_arrive_in(
        app: Services, tmp_path: Path) -> None:
    stored = events(app)
    expected = ReadDatabase(f"sqlite:///{tmp_path / 'rebuilt.sqlite'}")
    rebuild(expected, None, store_reader(app))
    wanted = snapshot(expected)
    assert wanted["product_alerts"], "the scenario should raise alerts"
    assert_consistent(expected)

    @settings(max_examples=8, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.integers(0, 2**32))
    def check(seed: int) -> None:
        rng = Random(seed)
        db = ReadDatabase(f"sqlite:///{tmp_path / f'runner-{uuid4().hex}.sqlite'}")
        projections = all_projections()
        ensure_schema(db, projections)
        queues = [list(p) for p in partitioned(stored)]
        while any(queues):
            batch: list[Delivery] = []
            size = rng.randint(1, 400)
            while len(batch) < size and any(queues):
                part = rng.choice([i for i, q in enumerate(queues) if q])
                take = rng.randint(1, 60)
                batch += queues[part][:take]
                del queues[part][:take]
            apply_batch(db, projections, batch)
        assert snapshot(db) == wanted
        assert_consistent(db)
        db.close()

    check()


def test_runner_batches_on_the_read_database_equal_a_rebuild(
        app: Services, read_db: ReadDatabase, tmp_path: Path) -> None:
    """The same on PostgreSQL and SQLite read databases: partitions interleaved, batches of
    250, every event delivered twice (a relay re-send) changes nothing."""
    projections = all_projections()
    ensure_schema(read_db, projections)
    parts = partitioned(events(app))
    merged = [d for run in zip(*[p + [None] * (max(map(len, parts)) - len(p)) for p in parts],
                               strict=True) for d in run if d is not None]
    for start in range(0, len(merged), 250):
        apply_batch(read_db, projections, merged[start:start + 250])
    apply_batch(read_db, projections, merged[:500])  # re-sent: skipped
    expected = ReadDatabase(f"sqlite:///{tmp_path / 'rebuilt.sqlite'}")
    rebuild(expected, None, store_reader(app))
    assert snapshot(read_db) == snapshot(expected)


def test_catching_up_from_the_store_in_pages_equals_a_rebuild(
        app: Services, read_db: ReadDatabase, tmp_path: Path) -> None:
    """``projections catch-up`` (a read model fed from the store, no broker) settles each page
    as a runner settles each batch: the product totals and alerts are there, not only the
    lines (they were empty after a catch-up until a rebuild)."""
    catch_up(read_db, None, store_reader(app), batch=97)
    expected = ReadDatabase(f"sqlite:///{tmp_path / 'rebuilt.sqlite'}")
    rebuild(expected, None, store_reader(app))
    wanted = snapshot(expected)
    assert wanted["product_totals"] and wanted["product_alerts"]
    assert snapshot(read_db) == wanted
    assert_consistent(read_db)


def test_two_runners_splitting_the_partitions_agree_with_a_rebuild(
        app: Services, read_url: str, tmp_path: Path) -> None:
    """Two runners of one group, each with its own connection and half the partitions, apply
    their batches at the same time into one read database."""
    parts = partitioned(events(app))
    first = ReadDatabase(read_url)
    ensure_schema(first, all_projections())
    failures: list[BaseException] = []

    def run(mine: list[list[Delivery]]) -> None:
        db = ReadDatabase(read_url)
        projections = all_projections()
        try:
            merged = [d for group in zip(*mine, strict=False) for d in group]
            merged += [d for p in mine for d in p[min(map(len, mine)):]]
            for start in range(0, len(merged), 100):
                apply_batch(db, projections, merged[start:start + 100])
        except BaseException as error:
            failures.append(error)
        finally:
            db.close()

    threads = [threading.Thread(target=run, args=(parts[:3],)),
               threading.Thread(target=run, args=(parts[3:],))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not failures, failures
    expected = ReadDatabase(f"sqlite:///{tmp_path / 'rebuilt.sqlite'}")
    rebuild(expected, None, store_reader(app))
    assert snapshot(first) == snapshot(expected)
    assert_consistent(first)
    first.close()


def test_a_sku_returned_as_defective_more_than_its_peers_raises_a_page_alert(
        rebuilt: ReadDatabase) -> None:
    read_db = rebuilt
    insight = products(read_db)
    alerts = {(r["level"], r["signal"], r["category"], r["sku"]): r
              for r in insight.view("alerts").rows}
    lamp = alerts[("sku", "page", "home", "LAMP-9")]
    # 27 delivered orders hold LAMP-9 (h-0 … h-27 but the lost h-7); 10 came back defective,
    # 8 others drew a complaint (which flags every SKU of the order)
    assert lamp["rate"] == Rate(18, 27)
    assert lamp["baseline"] == Rate(16, 54)  # MUG-1 and VASE-3: 8 complaints each
    assert lamp["q_value"] <= 0.05 and lamp["reasons"] == {
        "complaint:not_as_described": 8, "return:defective": 10}
    assert len(lamp["examples"]) == 3
    assert alerts[("sku", "return", "home", "LAMP-9")]["rate"] == Rate(10, 27)
    assert ("category", "page", "home", "") in alerts  # against garden, never flagged
    assert not any(key[3] in ("MUG-1", "VASE-3", "HOSE-1") for key in alerts)
    skus = {r["sku"]: r for r in insight.view("skus").rows}
    assert skus["MUG-1"]["return_rate"] == Rate(1, 27)
    assert skus["MUG-1"]["reasons"] == {"complaint:not_as_described": 8,
                                        "return:changed_mind": 2}


def test_totals_kept_by_the_runner_equal_the_sums_over_order_lines(
        rebuilt: ReadDatabase) -> None:
    read_db = rebuilt
    kept = sorted(totals(read_db), key=lambda r: (r["category"], r["sku"]))
    summed = sorted(totals(read_db, since="1970-01-01T00:00:00+00:00"),
                    key=lambda r: (r["category"], r["sku"]))
    assert [dict(r) for r in kept] == [dict(r) for r in summed]
    stored = read_db.query("SELECT * FROM product_alerts")
    assert len(stored) == sum(1 for a in assess(kept) if a.alert)


def test_no_rate_exceeds_100_percent_even_when_a_line_is_asked_back_twice(
        rebuilt: ReadDatabase) -> None:
    read_db = rebuilt
    line = read_db.query("SELECT * FROM product_lines WHERE sku = 'MUG-1' AND returns = 2")[0]
    assert (line["requested_units"], line["units_returned"], line["units_sold"]) == (4, 2, 2)
    assert line["value_returned"] == line["value_sold"] == "19.00"
    for row in products(read_db).view("markets").rows:
        assert row["return_rate"].k <= row["return_rate"].n
        assert row["units_returned_%"] <= 100 and row["value_returned_%"] <= 100


def test_carrier_scorecard_counts_on_time_lost_and_customs_holds(
        rebuilt: ReadDatabase) -> None:
    read_db = rebuilt
    cards = [r for r in carriers(read_db).view("scorecards").rows if r["carrier"] == "DHL"]
    parcels = sum(r["parcels"] for r in cards)
    assert parcels == 30
    on_time = [r["on_time"] for r in cards]
    delivered = sum(r.n for r in on_time)
    # h-7 lost, h-28 and h-29 never delivered; late: h-0, h-5, h-10, h-15, h-20, h-25
    assert delivered == 27 and delivered - sum(r.k for r in on_time) == 6
    assert sum(r["lost"].k for r in cards) == 1
    assert sum(r["customs_held"] for r in cards) == 1
    held = next(r for r in cards if r["customs_held"])
    assert held["customs_hold_hours_p50"] == 19.0


def test_complaint_drivers_and_paths(rebuilt: ReadDatabase) -> None:
    read_db = rebuilt
    insight = complaints(read_db)
    driver = insight.view("drivers").rows[0]
    assert (driver["category"], driver["channel"], driver["complaints"]) == (
        "not_as_described", "email", 9)
    # answered after 30 h (due in 24 h) on h-1, h-7, h-13, h-19, h-25
    assert driver["first_response_late"] == Rate(5, 9)
    path = insight.view("paths").rows[0]
    assert path["resolution_path"] == "accepted coupon" and path["rated"] == 9


def test_refunded_share_of_sales_by_market_and_reason(rebuilt: ReadDatabase) -> None:
    read_db = rebuilt
    shares = refunds(read_db).view("shares").rows
    assert all(r["refunded_%_of_sales"] is None or r["refunded_%_of_sales"] <= 100
               for r in shares)


def csv_of(view: View) -> list[list[str]]:
    """The view as `aftersales insights … --format csv --view NAME` prints it."""
    out = io.StringIO()
    with redirect_stdout(out):
        emit_rows([view.flat_row(r) for r in view.rows], "csv", view.title, view.flat_columns)
    return list(csv.reader(io.StringIO(out.getvalue())))


@pytest.mark.parametrize("build", [products, carriers, complaints, refunds])
def test_every_view_prints_the_same_csv_header_with_rows_and_without(
        rebuilt: ReadDatabase, read_db: ReadDatabase,
        build: Callable[[ReadDatabase, str | None], Insight]) -> None:
    """The columns are declared per view: a view with no rows (an empty read database, or a
    period with nothing in it) still starts with its header, the same as when it has rows."""
    ensure_schema(read_db, all_projections())
    full, empty = build(rebuilt, None), build(read_db, None)
    later = build(rebuilt, "2100-01-01T00:00:00+00:00")
    for view in full.views:
        header = view.flat_columns
        assert header and not empty.view(view.name).rows, view.name
        assert csv_of(empty.view(view.name)) == [header]
        assert csv_of(later.view(view.name)) == [header]
        printed = csv_of(view)
        assert printed[0] == header and all(len(row) == len(header) for row in printed[1:])
    assert any(view.rows for view in full.views) or full.name == "refunds"  # none settled
