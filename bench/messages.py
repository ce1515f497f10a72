"""Upstream messages (SPEC §4.1) for the benchmarks, with realistic defaults.

A copy of what ``tests/factories.py`` builds, so that ``bench`` does not import ``tests``."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

T0 = datetime.fromisoformat("2026-03-02T09:00:00+00:00")
DELIVERED_AFTER = timedelta(days=3)

LINES: list[dict[str, Any]] = [
    {"line_id": "1", "sku": "MUG-1", "category": "home", "quantity": 2, "unit_price": "20.00"},
    {"line_id": "2", "sku": "LAMP-9", "category": "home", "quantity": 1, "unit_price": "60.00"},
]


def order_placed(
    order_id: str,
    *,
    customer_id: str,
    market: str = "DE",
    currency: str = "EUR",
    fulfilment: str = "direct_mail",
    shipping_fee: str = "5.00",
    duties: str = "0.00",
    taxes: str = "19.00",
    at: datetime = T0,
) -> dict[str, Any]:
    items = sum(Decimal(x["unit_price"]) * x["quantity"] for x in LINES)
    total = items + Decimal(shipping_fee) + Decimal(duties) + Decimal(taxes)
    return {
        "event_id": f"{order_id}-placed",
        "event_type": "OrderPlaced",
        "occurred_at": at.isoformat(),
        "order_id": order_id,
        "customer_id": customer_id,
        "market": market,
        "currency": currency,
        "fulfilment": fulfilment,
        "lines": [dict(line) for line in LINES],
        "shipping_fee": shipping_fee,
        "duties": duties,
        "taxes": taxes,
        "total": str(total),
        "merchant_id": "m-1",
        "channel": "web",
    }


def order_paid(placed: dict[str, Any]) -> dict[str, Any]:
    at = datetime.fromisoformat(placed["occurred_at"]) + timedelta(minutes=5)
    return {
        "event_id": f"{placed['order_id']}-paid",
        "event_type": "OrderPaid",
        "occurred_at": at.isoformat(),
        "order_id": placed["order_id"],
        "payment_id": f"pay-{placed['order_id']}",
        "method": "card",
        "amount": placed["total"],
        "currency": placed["currency"],
    }


def shipment(order_id: str, event_type: str, at: datetime, *,
             direction: str = "outbound", carrier: str = "DHL") -> dict[str, Any]:
    return {
        "event_id": f"{order_id}-{direction}-{event_type}-{at.isoformat()}",
        "event_type": event_type,
        "occurred_at": at.isoformat(),
        "order_id": order_id,
        "shipment_id": f"{order_id}-{direction}",
        "carrier": carrier,
        "direction": direction,
        "location": "Leipzig",
    }


def order_id_of(index: int, prefix: str = "bo") -> str:
    return f"{prefix}-{index}"


def customer_of(index: int) -> str:
    """Two orders per customer: repeat buyers, as the abuse-signal policy expects."""
    return f"bc-{index // 2}"


def delivered_order_messages(order_id: str, customer_id: str, start: datetime = T0
                             ) -> list[dict[str, Any]]:
    """OrderPlaced, OrderPaid, Dispatched, CustomsReleased, Delivered: five messages, the order
    placed at ``start``."""
    placed = order_placed(order_id, customer_id=customer_id, at=start)
    delivered = start + DELIVERED_AFTER
    return [
        placed,
        order_paid(placed),
        shipment(order_id, "Dispatched", start + timedelta(hours=6)),
        shipment(order_id, "CustomsReleased", delivered - timedelta(days=1)),
        shipment(order_id, "Delivered", delivered),
    ]


ORDERS_EVENT_TYPES = ("OrderPlaced", "OrderPaid", "OrderCancelled")


def is_order_message(message: dict[str, Any]) -> bool:
    """True for orders.v1 messages, False for shipments.v1 ones."""
    return message["event_type"] in ORDERS_EVENT_TYPES and "shipment_id" not in message
