"""The demo on real data: its headline figures, recomputed from the raw files with plain
Python, equal what the projections say."""

from __future__ import annotations

import csv
import gzip
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
from demo.data import data_dir
from tests.kafka_fixtures import TestBroker

pytestmark = pytest.mark.kafka
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


@pytest.mark.timeout(1200)  # the demo itself may take 900 s on a busy machine
def test_small_demo_figures_match_the_raw_files(kafka_broker: TestBroker,
                                                tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_broker.bootstrap_servers}
    done = children.run([sys.executable, "-m", "demo", "--small", "--workdir", str(workdir)],
                        env=env, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Return rate by market" in done.stdout
    assert (workdir / "report.html").is_file() and (workdir / "report.png").is_file()
    seen = projected(workdir / "read.sqlite")
    count, value, _ = raw_uci_orders()
    assert (seen["uci_orders"], seen["uci_value"]) == (count, value)
    raw = raw_olist()
    assert {k: seen[k] for k in raw} == raw
    assert raw["late"] / raw["delivered"] == pytest.approx(seen["late"] / seen["delivered"])
