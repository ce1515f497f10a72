"""The demo on real data: its headline figures, product-information alerts and carrier
scorecards, recomputed from the raw files with plain Python, equal what the engine says."""

from __future__ import annotations

import csv
import gzip
import json
import os
import sqlite3
import sys
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from aftersales import children
from aftersales.bootstrap import open_app
from aftersales.settings import eventsourcing_env
from demo.data import data_dir
from tests.e2e import raw_insights
from tests.kafka_fixtures import TestBroker

# the demo itself may take 900 s on a busy machine: the first test pays for the module fixture
pytestmark = [pytest.mark.kafka, pytest.mark.timeout(1200)]
OLIST_ORDERS = 1500  # the small scope: the earliest 1,500 orders of the Olist sample


def rows(path: Path) -> Iterator[dict[str, str]]:
    opener: Any = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
        yield from csv.DictReader(handle)


def raw_uci_orders() -> tuple[int, Decimal, int]:
    """Ordinary invoices abroad before March 2011 that an engine can accept: (count, value,
    refused) — a line with a negative quantity or price, or finer than a penny, is refused."""
    invoices: dict[str, list[dict[str, str]]] = {}
    for row in rows(data_dir() / "uci-online-retail" / "online_retail.csv.gz"):
        if row["Country"] != "United Kingdom" and row["InvoiceDate"] < "2011-03-01":
            invoices.setdefault(row["InvoiceNo"], []).append(row)
    count, value, refused = 0, Decimal(0), 0
    for number, lines in invoices.items():
        if number.startswith("C"):
            continue
        ok = all(int(x["Quantity"]) > 0 and Decimal(x["UnitPrice"]) >= 0
                 and Decimal(x["UnitPrice"]) == Decimal(x["UnitPrice"]).quantize(Decimal("0.01"))
                 for x in lines)
        if ok:
            count += 1
            value += sum(int(x["Quantity"]) * Decimal(x["UnitPrice"]) for x in lines)
        else:
            refused += 1
    return count, value, refused


def raw_olist() -> dict[str, Any]:
    base = data_dir() / "olist-brazilian-ecommerce"
    orders = sorted(rows(base / "sample_15k" / "olist_orders_dataset.csv"),
                    key=lambda r: r["order_purchase_timestamp"])[:OLIST_ORDERS]
    with_items = {r["order_id"] for r in rows(base / "sample_15k" /
                                              "olist_order_items_dataset.csv")}
    placed = {r["order_id"]: r for r in orders if r["order_id"] in with_items}
    delivered = [r for r in placed.values() if r["order_delivered_customer_date"]]
    late = {r["order_id"] for r in delivered
            if r["order_delivered_customer_date"] > r["order_estimated_delivery_date"]}
    low = [r for r in rows(base / "sample_15k" / "olist_order_reviews_dataset.csv")
           if r["order_id"] in placed and int(r["review_score"]) <= 2]
    on_time = {r["order_id"] for r in delivered} - late
    return {"placed": len(placed), "delivered": len(delivered), "late": len(late),
            "low_reviews": len(low),
            "low_on_late": sum(1 for r in low if r["order_id"] in late),
            "low_on_time": sum(1 for r in low if r["order_id"] in on_time)}


def projected(read_db: Path) -> dict[str, Any]:
    conn = sqlite3.connect(read_db)
    conn.row_factory = sqlite3.Row
    uci = conn.execute("SELECT count(*) AS n, group_concat(total, ' ') AS totals FROM orders "
                       "WHERE order_id LIKE 'uci-%' AND placed_at IS NOT NULL").fetchone()
    olist = conn.execute("SELECT order_id, delivered_at, estimated_delivery_at FROM orders "
                         "WHERE order_id LIKE 'olist-%' AND placed_at IS NOT NULL").fetchall()
    late = {o["order_id"] for o in olist if o["delivered_at"] and
            datetime.fromisoformat(o["delivered_at"])
            > datetime.fromisoformat(o["estimated_delivery_at"])}
    on_time = {o["order_id"] for o in olist if o["delivered_at"]} - late
    complaints = [r["order_id"] for r in conn.execute(  # filed by the customers themselves
        "SELECT order_id FROM complaints WHERE order_id LIKE 'olist-%' AND proactive = 0")]
    return {"uci_orders": uci["n"],
            "uci_value": sum((Decimal(t) for t in (uci["totals"] or "").split()), Decimal(0)),
            "placed": len(olist), "delivered": sum(1 for o in olist if o["delivered_at"]),
            "late": len(late), "low_reviews": len(complaints),
            "low_on_late": sum(1 for c in complaints if c in late),
            "low_on_time": sum(1 for c in complaints if c in on_time)}


@pytest.fixture(scope="module")
def small_demo(kafka_broker: TestBroker, tmp_path_factory: pytest.TempPathFactory
               ) -> dict[str, Any]:
    workdir = tmp_path_factory.mktemp("demo") / "demo"
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_broker.bootstrap_servers}
    done = children.run([sys.executable, "-m", "demo", "--small", "--workdir", str(workdir)],
                        env=env, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return {"workdir": workdir, "stdout": done.stdout, "stderr": done.stderr,
            "env": {**env, "AFTERSALES_DATABASE_URL": f"sqlite:///{workdir / 'events.sqlite'}",
                    "AFTERSALES_READ_DATABASE_URL": f"sqlite:///{workdir / 'read.sqlite'}"}}


def insight(demo: dict[str, Any], name: str) -> dict[str, Any]:
    done = children.run([sys.executable, "-m", "aftersales", "insights", name, "--format",
                         "json", "--as", "analyst-ines"], env=demo["env"],
                        capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    document: dict[str, Any] = json.loads(done.stdout)["views"]
    return document


def test_small_demo_figures_match_the_raw_files(small_demo: dict[str, Any]) -> None:
    workdir = small_demo["workdir"]
    assert "Return rate by market" in small_demo["stdout"]
    assert (workdir / "report.html").is_file() and (workdir / "report.png").is_file()
    seen = projected(workdir / "read.sqlite")
    count, value, _ = raw_uci_orders()
    assert (seen["uci_orders"], seen["uci_value"]) == (count, value)
    raw = raw_olist()
    assert {k: seen[k] for k in raw} == raw
    assert raw["late"] / raw["delivered"] == pytest.approx(seen["late"] / seen["delivered"])


def test_product_alerts_and_their_counts_match_the_raw_files(small_demo: dict[str, Any]
                                                             ) -> None:
    conn = sqlite3.connect(small_demo["workdir"] / "read.sqlite")
    conn.row_factory = sqlite3.Row
    kept = {(r["merchant"], r["category"], r["sku"]): r
            for r in conn.execute("SELECT * FROM product_totals")}
    stored = {(r["merchant"], r["signal"], r["level"], r["category"], r["sku"]):
              (r["cases"], r["orders"]) for r in conn.execute("SELECT * FROM product_alerts")}
    for merchant, raw, signal, column in (("uci-online-retail", raw_insights.uci(), "return",
                                           "returned"),
                                          ("olist", raw_insights.olist(), "page", "flagged")):
        pairs = raw["pairs"]
        tested = {key: v for key, v in pairs.items() if len(v["orders"]) >= 20}
        assert tested or merchant == "olist"
        for (category, sku), v in tested.items():
            row = kept[(merchant, category, sku)]
            assert (row["orders"], row[column]) == (len(v["orders"]), len(v["cases"])), sku
        by_category: dict[str, list[int]] = {}
        for (category, _), v in pairs.items():
            sums = by_category.setdefault(category, [0, 0])
            sums[0] += len(v["orders"])
            sums[1] += len(v["cases"])
        for category, (orders, cases) in by_category.items():
            rows = [r for (m, c, _), r in kept.items() if m == merchant and c == category]
            assert (sum(r["orders"] for r in rows), sum(r[column] for r in rows)) == (
                orders, cases), category
        expected = {(merchant, signal, level, category, sku): counts for
                    (level, category, sku), counts in raw_insights.alerts(pairs).items()}
        found = {k: v for k, v in stored.items() if k[0] == merchant and k[1] == signal}
        assert found == expected
    views = insight(small_demo, "products")
    alert_keys = {(a["merchant"], a["signal"], a["level"], a["category"], a["sku"])
                  for a in views["alerts"]["rows"]}
    assert alert_keys == set(stored)


def test_carrier_scorecards_match_the_raw_files(small_demo: dict[str, Any]) -> None:
    cards = insight(small_demo, "carriers")["scorecards"]["rows"]
    olist = {(c["carrier"], c["month"]): c for c in cards
             if c["market"] == "BR" and c["parcels"]}
    raw = raw_insights.olist()["cards"]
    assert set(olist) == set(raw)
    assert len({carrier for carrier, _ in raw}) > 5  # stand-ins by the seller's state
    for key, expected in raw.items():
        card = olist[key]
        assert card["parcels"] == expected["parcels"], key
        assert (card["on_time"]["k"], card["on_time"]["n"]) == (
            expected["on_time"], expected["promised"]), key
        assert card["lost"]["k"] == expected["lost"], key
    uci = {(c["market"], c["month"]): c["parcels"] for c in cards  # outbound parcels only
           if c["carrier"] == "Royal Mail" and c["market"] and c["parcels"]}
    assert uci == raw_insights.uci()["parcels"]
    assert all(c["on_time"]["n"] == 0 for c in cards if c["carrier"] == "Royal Mail")


def test_each_merchant_follows_its_own_book_and_the_demo_ends_with_the_what_if(
        small_demo: dict[str, Any]) -> None:
    """Each merchant's decisions followed its own book (version 1, set before any order), and
    the demo ended by simulating the proposed change and publishing both policies."""
    workdir = small_demo["workdir"]
    app = open_app(eventsourcing_env(f"sqlite:///{workdir / 'events.sqlite'}", None))
    try:
        hashes = set()
        for merchant in ("uci-online-retail", "olist"):
            records, _ = app.store.books.history_of_decisions(merchant)
            books = {(r.decision.book or {}).get("book") for r in records}
            versions = {(r.decision.book or {}).get("book_version") for r in records}
            assert records and books == {"merchant"} and versions == {1}, merchant
            hashes.add(app.store.books.version(merchant).book_hash)
        assert len(hashes) == 2  # two different books
    finally:
        app.close()
    assert "outcomes that change" in small_demo["stdout"]  # the what-if's tables
    assert "What if uci-online-retail gave 30 days" in small_demo["stderr"]  # its headline
    assert (workdir / "what-if.html").is_file()
    for merchant in ("uci-online-retail", "olist"):
        for lang in ("en", "zh-CN"):
            assert (workdir / f"policy-{merchant}.{lang}.html").is_file()
