"""Builders of upstream messages and commands for tests, with realistic defaults."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from aftersales_core.application.app import AfterSalesApp
from aftersales_core.application.upstream import UpstreamResult
from consumers.translate import apply_upstream
from schemas.inbound import ANY_INBOUND

T0 = datetime.fromisoformat("2026-03-02T09:00:00+00:00")


def iso(at: datetime) -> str:
    return at.isoformat()


def order_placed(
    order_id: str = "o-1",
    *,
    market: str = "DE",
    currency: str = "EUR",
    fulfilment: str = "direct_mail",
    customer_id: str = "c-1",
    lines: list[dict[str, Any]] | None = None,
    shipping_fee: str = "5.00",
    duties: str = "0.00",
    taxes: str = "19.00",
    at: datetime = T0,
    **extra: Any,
) -> dict[str, Any]:
    lines = lines or [
        {"line_id": "1", "sku": "MUG-1", "category": "home", "quantity": 2, "unit_price": "20.00"},
        {"line_id": "2", "sku": "LAMP-9", "category": "home", "quantity": 1, "unit_price": "60.00"},
    ]
    items = sum(Decimal(x["unit_price"]) * x["quantity"] for x in lines)
    total = items + Decimal(shipping_fee) + Decimal(duties) + Decimal(taxes)
    return {
        "event_id": f"{order_id}-placed",
        "event_type": "OrderPlaced",
        "occurred_at": iso(at),
        "order_id": order_id,
        "customer_id": customer_id,
        "market": market,
        "currency": currency,
        "fulfilment": fulfilment,
        "lines": lines,
        "shipping_fee": shipping_fee,
        "duties": duties,
        "taxes": taxes,
        "total": str(total),
        **extra,
    }


def order_paid(message: dict[str, Any], at: datetime | None = None) -> dict[str, Any]:
    return {
        "event_id": f"{message['order_id']}-paid",
        "event_type": "OrderPaid",
        "occurred_at": iso(
            at or datetime.fromisoformat(message["occurred_at"]) + timedelta(minutes=5)
        ),
        "order_id": message["order_id"],
        "payment_id": f"pay-{message['order_id']}",
        "method": "card",
        "amount": message["total"],
        "currency": message["currency"],
    }


def shipment(
    order_id: str,
    event_type: str,
    at: datetime,
    *,
    direction: str = "outbound",
    shipment_id: str | None = None,
    carrier: str = "DHL",
) -> dict[str, Any]:
    return {
        "event_id": f"{order_id}-{direction}-{event_type}-{at.isoformat()}",
        "event_type": event_type,
        "occurred_at": iso(at),
        "order_id": order_id,
        "shipment_id": shipment_id or f"{order_id}-{direction}",
        "carrier": carrier,
        "direction": direction,
    }


def ingest(app: AfterSalesApp, *messages: dict[str, Any]) -> list[UpstreamResult]:
    return [apply_upstream(app, ANY_INBOUND.validate_python(m)) for m in messages]


def delivered_order(
    app: AfterSalesApp,
    order_id: str = "o-1",
    *,
    delivered: datetime = T0 + timedelta(days=3),
    **kwargs: Any,
) -> dict[str, Any]:
    """Place, pay, release from customs and deliver an order; returns the OrderPlaced message."""
    placed = order_placed(order_id, **kwargs)
    ingest(
        app,
        placed,
        order_paid(placed),
        shipment(order_id, "CustomsReleased", delivered - timedelta(days=1)),
        shipment(order_id, "Delivered", delivered),
    )
    return placed
