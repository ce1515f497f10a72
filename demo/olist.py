"""The Olist marketplace sample (15,000 Brazilian orders) as upstream events and complaints.

Mapping (documented in the README):
* market BR, currency BRL, fulfilment `domestic`; times are America/Sao_Paulo local time;
* each order's items are its lines (category = the product category in English, else `other`),
  freight is the shipping fee, total = items + freight; OrderPaid carries the sum of the
  order's payments (vouchers and instalment interest make it differ from the total now and
  then); the estimated delivery date travels as the extra field `estimated_delivery_at`;
* carrier date → Dispatched; customer delivery date → OutForDelivery 8 hours earlier, then
  Delivered; orders `canceled` or `unavailable` → OrderCancelled; orders `shipped` but never
  delivered → Lost 30 days after the estimate (an assumption: the sample ends there);
* the data names no carrier: the stand-in is the state the parcel leaves from, the state of the
  seller of the order's first item (`Correios SP` carries what São Paulo sellers hand over),
  deterministic and from the data; Dispatched scans carry that state as their location and the
  delivery scans the buyer's state, so a route is seller state → buyer state;
* a review of 1 or 2 stars → the customer's FileComplaint on the platform channel, with the
  comment as description (category `logistics_delay` when the order came after its estimate,
  else `not_as_described`), filed at the review's creation date; the time the merchant took to
  answer the review is the desk's first-response time;
* the expert-labelled complaints (they do not join to the orders) → FileComplaint without an
  order, category from the experts' most-voted subclass (`LABELS`)."""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from demo.principals import customer

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
LABELS = {
    "atrasado": "logistics_delay",
    "outro_entrega": "logistics_delay",
    "entrega_parcial": "not_as_described",
    "diferente_do_anunciado": "not_as_described",
    "baixa_qualidade": "damaged",
    "devolucao": "refund_delay",
    "outro_pedido": "other",
}


def local(text: str) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text[:19]).replace(tzinfo=SAO_PAULO)


@dataclass
class Order:
    row: dict[str, str]
    items: list[dict[str, str]] = field(default_factory=list)
    payments: Decimal = Decimal(0)
    reviews: list[dict[str, str]] = field(default_factory=list)
    buyer_state: str | None = None

    @property
    def seller_state(self) -> str | None:
        first = min(self.items, key=lambda i: int(i["order_item_id"]), default=None)
        return None if first is None else first.get("seller_state") or None

    @property
    def carrier(self) -> str:
        """The stand-in carrier: named after the state the parcel leaves from."""
        return f"Correios {self.seller_state}" if self.seller_state else "Correios"

    @property
    def order_id(self) -> str:
        return f"olist-{self.row['order_id'][:16]}"

    @property
    def late(self) -> bool:
        delivered = local(self.row["order_delivered_customer_date"])
        estimate = local(self.row["order_estimated_delivery_date"])
        return bool(delivered and estimate and delivered > estimate)


def _csv(path: Path) -> Iterator[dict[str, str]]:
    opener: Any = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
        yield from csv.DictReader(handle)


def read_orders(root: Path, limit: int | None = None) -> list[Order]:
    base = root / "olist-brazilian-ecommerce"
    orders = {r["order_id"]: Order(r) for r in _csv(base / "sample_15k/olist_orders_dataset.csv")}
    if limit is not None:
        keep = sorted(orders, key=lambda k: orders[k].row["order_purchase_timestamp"])[:limit]
        orders = {k: orders[k] for k in keep}
    english = {
        r["product_category_name"]: r["product_category_name_english"]
        for r in _csv(base / "full/product_category_name_translation.csv")
    }
    products = {
        r["product_id"]: english.get(r["product_category_name"], "other")
        for r in _csv(base / "full/olist_products_dataset.csv")
    }
    sellers = {r["seller_id"]: r["seller_state"]
               for r in _csv(base / "full/olist_sellers_dataset.csv")}
    buyers = {r["customer_id"]: r["customer_state"]
              for r in _csv(base / "sample_15k/olist_customers_dataset.csv")}
    for order in orders.values():
        order.buyer_state = buyers.get(order.row["customer_id"]) or None
    for item in _csv(base / "sample_15k/olist_order_items_dataset.csv"):
        if item["order_id"] in orders:
            item["category"] = products.get(item["product_id"], "other") or "other"
            item["seller_state"] = sellers.get(item["seller_id"], "")
            orders[item["order_id"]].items.append(item)
    for pay in _csv(base / "full/olist_order_payments_dataset.csv.gz"):
        if pay["order_id"] in orders:
            orders[pay["order_id"]].payments += Decimal(pay["payment_value"])
    for review in _csv(base / "sample_15k/olist_order_reviews_dataset.csv"):
        if review["order_id"] in orders:
            orders[review["order_id"]].reviews.append(review)
    return sorted(orders.values(), key=lambda o: o.row["order_purchase_timestamp"])


def _money(text: str) -> str:
    return str(Decimal(text).quantize(Decimal("0.01")))


def upstream(order: Order) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(orders.v1, shipments.v1) messages of one order; orders without items place nothing."""
    row, oid = order.row, order.order_id
    placed_at = local(row["order_purchase_timestamp"])
    assert placed_at is not None
    orders: list[dict[str, Any]] = []
    scans: list[dict[str, Any]] = []
    if order.items:
        lines: list[dict[str, Any]] = [
            {
                "line_id": i["order_item_id"],
                "sku": i["product_id"][:12],
                "category": i["category"],
                "quantity": 1,
                "unit_price": _money(i["price"]),
            }
            for i in order.items
        ]
        items = sum((Decimal(str(x["unit_price"])) for x in lines), Decimal(0))
        freight = sum((Decimal(_money(i["freight_value"])) for i in order.items), Decimal(0))
        estimate = local(row["order_estimated_delivery_date"])
        orders.append(
            {
                "event_id": f"{oid}-placed",
                "event_type": "OrderPlaced",
                "occurred_at": placed_at.isoformat(),
                "order_id": oid,
                "customer_id": f"olist-{row['customer_id'][:16]}",
                "market": "BR",
                "currency": "BRL",
                "fulfilment": "domestic",
                "lines": lines,
                "shipping_fee": str(freight),
                "duties": "0.00",
                "taxes": "0.00",
                "total": str(items + freight),
                "merchant_id": "olist",
                "channel": "platform",
                "estimated_delivery_at": estimate.isoformat() if estimate else None,
            }
        )
        if order.payments > 0:
            approved = local(row["order_approved_at"]) or placed_at
            orders.append(
                {
                    "event_id": f"{oid}-paid",
                    "event_type": "OrderPaid",
                    "occurred_at": approved.isoformat(),
                    "order_id": oid,
                    "payment_id": f"pay-{oid}",
                    "method": "card",
                    "amount": _money(str(order.payments)),
                    "currency": "BRL",
                }
            )
    if row["order_status"] in ("canceled", "unavailable"):
        orders.append(
            {
                "event_id": f"{oid}-cancelled",
                "event_type": "OrderCancelled",
                "occurred_at": (placed_at + timedelta(days=1)).isoformat(),
                "order_id": oid,
                "reason": row["order_status"],
            }
        )
    carrier = local(row["order_delivered_carrier_date"])
    delivered = local(row["order_delivered_customer_date"])
    name, origin, destination = order.carrier, order.seller_state, order.buyer_state
    if carrier:
        scans.append(_scan(oid, "Dispatched", carrier, name, origin))
    if delivered:
        scans.append(_scan(oid, "OutForDelivery", delivered - timedelta(hours=8), name,
                           destination))
        scans.append(_scan(oid, "Delivered", delivered, name, destination))
    elif row["order_status"] == "shipped" and carrier:
        estimate = local(row["order_estimated_delivery_date"]) or carrier
        scans.append(_scan(oid, "Lost", estimate + timedelta(days=30), name, None))
    return orders, scans


def _scan(order_id: str, kind: str, at: datetime, carrier: str, location: str | None
          ) -> dict[str, Any]:
    scan = {
        "event_id": f"{order_id}-{kind}",
        "event_type": kind,
        "occurred_at": at.isoformat(),
        "order_id": order_id,
        "shipment_id": f"{order_id}-out",
        "carrier": carrier,
        "direction": "outbound",
    }
    if location:
        scan["location"] = location
    return scan


def complaints(order: Order) -> list[dict[str, Any]]:
    """The customer's complaint for each review of 1 or 2 stars (placed orders only), each an
    envelope ``{"as": the customer's principal, "command": …}``."""
    out: list[dict[str, Any]] = []
    if not order.items:
        return out
    for review in order.reviews:
        if int(review["review_score"]) > 2:
            continue
        filed = local(review["review_creation_date"])
        assert filed is not None
        text = (
            " ".join(
                t for t in (review["review_comment_title"], review["review_comment_message"]) if t
            )
            or "(no comment)"
        )
        customer_id = f"olist-{order.row['customer_id'][:16]}"
        out.append(
            {
                "as": customer(customer_id),
                "command": {
                    "command": "FileComplaint",
                    "idempotency_key": f"review-{review['review_id']}",
                    "customer_id": customer_id,
                    "order_id": order.order_id,
                    "channel": "platform",
                    "category": "logistics_delay" if order.late else "not_as_described",
                    "description": text[:10_000],
                    "at": max(filed, _placed(order) + timedelta(days=1)).isoformat(),
                },
            }
        )
    return out


def _placed(order: Order) -> datetime:
    placed = local(order.row["order_purchase_timestamp"])
    assert placed is not None
    return placed


def answer_hours(order: Order) -> dict[str, float]:
    """Review id -> hours the merchant took to answer it (the desk's first-response time)."""
    hours = {}
    for review in order.reviews:
        created, answered = (
            local(review["review_creation_date"]),
            local(review["review_answer_timestamp"]),
        )
        if created and answered:
            hours[review["review_id"]] = max((answered - created).total_seconds() / 3600, 0.1)
    return hours


def labelled_complaints(root: Path, limit: int | None = None) -> list[dict[str, Any]]:
    """FileComplaint envelopes of the expert-labelled complaints (no order to join to), each
    sent by its customer's principal."""
    path = (
        root
        / "olist-brazilian-ecommerce"
        / "classified_complaints"
        / "olist_classified_public_dataset.csv"
    )
    out: list[dict[str, Any]] = []
    for row in _csv(path):
        category = LABELS.get(row["most_voted_subclass"])
        if category is None:
            continue
        filed = local(row["review_creation_date"])
        text = (
            " ".join(t for t in (row["review_comment_title"], row["review_comment_message"]) if t)
            or "(no comment)"
        )
        customer_id = f"olist-labelled-{row['id']}"
        out.append(
            {
                "as": customer(customer_id),
                "command": {
                    "command": "FileComplaint",
                    "idempotency_key": f"labelled-{row['id']}",
                    "customer_id": customer_id,
                    "channel": "platform",
                    "category": category,
                    "description": text[:10_000],
                    "at": filed.isoformat() if filed else None,
                },
            }
        )
        if limit is not None and len(out) >= limit:
            break
    return out
