"""The small demo's insights recomputed from the raw files with plain Python: which orders were
delivered and asked back (UCI), which drew a not-as-described complaint (Olist), what each
stand-in carrier delivered on time, and which SKUs and categories deserve an alert (an exact
binomial tail summed term by term, Benjamini-Hochberg by its definition).

Only tables are shared with the engine: the data mapping's (countries, description keywords)
and the published category vocabulary; every count and test statistic is computed here."""

from __future__ import annotations

import csv
import gzip
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from math import exp, lgamma, log, log1p
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aftersales_core.policies.categories import canonical_name
from demo.data import data_dir
from demo.uci import COUNTRIES, category_of

LONDON, SAO_PAULO = ZoneInfo("Europe/London"), ZoneInfo("America/Sao_Paulo")
OLIST_ORDERS = 1500
PAGE_CATEGORY = "not_as_described"
Pairs = dict[tuple[str, str], dict[str, set[str]]]  # (category, sku) -> {"orders", "cases"}


def published(category: str) -> str:
    """A category as the engine stores it: its name in the published vocabulary (an alias
    such as `kitchen` is stored as `home`), anything else as given."""
    return canonical_name(category) or category


def rows(path: Path) -> Iterator[dict[str, str]]:
    opener: Any = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
        yield from csv.DictReader(handle)


def _valid(line: dict[str, str]) -> bool:
    price = Decimal(line["UnitPrice"])
    return int(line["Quantity"]) > 0 and price >= 0 and price == price.quantize(Decimal("0.01"))


def uci() -> dict[str, Any]:
    """Accepted invoices abroad before March 2011, the SKUs each holds, and the return requests
    the demo makes of the C invoices (the customer's latest earlier invoice with the StockCode)."""
    invoices: list[tuple[str, list[dict[str, str]]]] = []
    for row in rows(data_dir() / "uci-online-retail" / "online_retail.csv.gz"):
        if COUNTRIES.get(row["Country"], "ZZ") == "GB" or row["InvoiceDate"] >= "2011-03-01":
            continue
        if not invoices or invoices[-1][0] != row["InvoiceNo"]:
            invoices.append((row["InvoiceNo"], []))
        invoices[-1][1].append(row)
    accepted: dict[str, list[dict[str, str]]] = {}
    earlier: dict[tuple[str, str], tuple[str, int]] = {}
    returned: set[tuple[str, str]] = set()  # (invoice, sku)
    for number, lines in invoices:
        customer = lines[0]["CustomerID"] or f"guest-{number}"
        if not number.startswith("C"):
            if all(_valid(x) for x in lines):
                accepted[number] = lines
            for index, line in enumerate(lines):
                earlier[(customer, line["StockCode"])] = (number, index)
            continue
        original: str | None = None
        for line in lines:
            found = earlier.get((customer, line["StockCode"]))
            if found is None or (original is not None and found[0] != original):
                continue
            original = found[0]
            if original in accepted and min(abs(int(line["Quantity"])),
                                            int(accepted[original][found[1]]["Quantity"])) > 0:
                returned.add((original, accepted[original][found[1]]["StockCode"]))
    pairs: Pairs = defaultdict(lambda: {"orders": set(), "cases": set()})
    for number, lines in accepted.items():
        first: dict[str, str] = {}
        for line in lines:
            first.setdefault(line["StockCode"], published(
                category_of(line["Description"] or "", line["StockCode"])))
        for sku, category in first.items():
            pairs[(category, sku)]["orders"].add(number)
            if (number, sku) in returned:
                pairs[(category, sku)]["cases"].add(number)
    months: dict[tuple[str, str], int] = defaultdict(int)
    for lines in accepted.values():
        placed = datetime.fromisoformat(lines[0]["InvoiceDate"]).replace(tzinfo=LONDON)
        dispatched = (placed.replace(hour=9, minute=0) + timedelta(days=1)).astimezone(UTC)
        months[(COUNTRIES.get(lines[0]["Country"], "ZZ"), dispatched.strftime("%Y-%m"))] += 1
    return {"pairs": pairs, "parcels": months}


def _local(text: str) -> datetime | None:
    return datetime.fromisoformat(text[:19]).replace(tzinfo=SAO_PAULO) if text else None


def olist() -> dict[str, Any]:
    """The first 1,500 orders: SKU pairs of delivered orders with a not-as-described complaint
    (1-2 stars, not delivered after the estimate), and each stand-in carrier's parcels."""
    base = data_dir() / "olist-brazilian-ecommerce"
    orders = sorted(rows(base / "sample_15k" / "olist_orders_dataset.csv"),
                    key=lambda r: r["order_purchase_timestamp"])[:OLIST_ORDERS]
    wanted = {r["order_id"] for r in orders}
    english = {r["product_category_name"]: r["product_category_name_english"]
               for r in rows(base / "full" / "product_category_name_translation.csv")}
    category = {r["product_id"]: english.get(r["product_category_name"], "other") or "other"
                for r in rows(base / "full" / "olist_products_dataset.csv")}
    seller_state = {r["seller_id"]: r["seller_state"]
                    for r in rows(base / "full" / "olist_sellers_dataset.csv")}
    items: dict[str, list[dict[str, str]]] = defaultdict(list)
    for item in rows(base / "sample_15k" / "olist_order_items_dataset.csv"):
        if item["order_id"] in wanted:
            items[item["order_id"]].append(item)
    low = {r["order_id"] for r in rows(base / "sample_15k" / "olist_order_reviews_dataset.csv")
           if r["order_id"] in wanted and int(r["review_score"]) <= 2}
    pairs: Pairs = defaultdict(lambda: {"orders": set(), "cases": set()})
    cards: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for order in orders:
        oid = order["order_id"]
        delivered = _local(order["order_delivered_customer_date"])
        estimate = _local(order["order_estimated_delivery_date"])
        carrier_date = _local(order["order_delivered_carrier_date"])
        late = bool(delivered and estimate and delivered > estimate)
        first = sorted(items[oid], key=lambda i: int(i["order_item_id"]))[:1]
        state = seller_state.get(first[0]["seller_id"], "") if first else ""
        carrier = f"Correios {state}" if state else "Correios"
        if items[oid] and delivered:
            seen: dict[str, str] = {}
            for item in sorted(items[oid], key=lambda i: int(i["order_item_id"])):
                seen.setdefault(item["product_id"][:12], published(
                    category.get(item["product_id"], "other") or "other"))
            for sku, cat in seen.items():
                pairs[(cat, sku)]["orders"].add(oid)
                if oid in low and not late:
                    pairs[(cat, sku)]["cases"].add(oid)
        first_scan = carrier_date or (delivered - timedelta(hours=8) if delivered else None)
        if first_scan is None or not items[oid]:
            continue  # no parcel, or the parcel of an order that was never placed
        card = cards[(carrier, first_scan.astimezone(UTC).strftime("%Y-%m"))]
        card["parcels"] += 1
        if delivered and estimate:  # on time: delivered by the promised date (its day)
            card["promised"] += 1
            card["on_time"] += delivered.date() <= estimate.date()
        if not delivered and order["order_status"] == "shipped" and carrier_date:
            card["lost"] += 1
    return {"pairs": pairs, "cards": cards}


def upper_tail(k: int, n: int, p: float) -> float:
    """P(X >= k), X ~ Binomial(n, p), summed term by term from log-probabilities."""
    if k <= 0:
        return 1.0
    terms = [exp(lgamma(n + 1) - lgamma(i + 1) - lgamma(n - i + 1) + i * log(p)
                 + (n - i) * log1p(-p)) for i in range(k, n + 1)]
    return min(1.0, sum(sorted(terms)))


def alerts(pairs: Pairs, min_support: int = 20, fdr: float = 0.05, min_cases: int = 3,
           min_lift: Fraction = Fraction(3, 2)) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(level, category, sku) -> (cases, orders) of the alerts of one merchant and signal."""
    total_k = sum(len(v["cases"]) for v in pairs.values())
    total_n = sum(len(v["orders"]) for v in pairs.values())
    cat_k: dict[str, int] = defaultdict(int)
    cat_n: dict[str, int] = defaultdict(int)
    for (cat, _), v in pairs.items():
        cat_k[cat] += len(v["cases"])
        cat_n[cat] += len(v["orders"])
    found: dict[tuple[str, str, str], tuple[int, int]] = {}
    for level in ("sku", "category"):
        tests: list[tuple[tuple[str, str, str], int, int, int, int]] = []
        if level == "sku":
            for (cat, sku), v in pairs.items():
                k, n = len(v["cases"]), len(v["orders"])
                if n >= min_support:
                    rest_k, rest_n = cat_k[cat] - k, cat_n[cat] - n
                    if rest_n < min_support:
                        rest_k, rest_n = total_k - k, total_n - n
                    if rest_n:  # without peers there is no test
                        tests.append(((level, cat, sku), k, n, rest_k, rest_n))
        else:
            tests = [((level, cat, ""), cat_k[cat], cat_n[cat], total_k - cat_k[cat],
                      total_n - cat_n[cat]) for cat in cat_n
                     if cat_n[cat] >= min_support and total_n - cat_n[cat]]
        m = len(tests)
        ranked = sorted((upper_tail(k, n, (rk + 0.5) / (rn + 1)), t)
                        for t in tests for (_, k, n, rk, rn) in [t])
        passed = max((i + 1 for i, (p, _) in enumerate(ranked) if p <= (i + 1) * fdr / m),
                     default=0)
        for _, (key, k, n, rk, rn) in ranked[:passed]:
            lift_ok = Fraction(k, n) >= min_lift * Fraction(rk, rn)
            if k >= min_cases and lift_ok:
                found[key] = (k, n)
    return found
