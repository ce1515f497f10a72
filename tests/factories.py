"""Builders of upstream messages, commands and principals for tests, with realistic defaults."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from aftersales_core.application.access import Caller
from aftersales_core.application.principals import principal_id_of
from aftersales_core.application.results import CommandResult
from aftersales_core.application.services import Services
from aftersales_core.application.upstream import UpstreamResult
from dispatch.commands import submit
from dispatch.upstream import apply_upstream
from schemas.inbound import ANY_INBOUND

ADMIN = "test-admin"
# The principals tests act as, by name: their roles (customers: "customer-<customer id>").
STAFF: dict[str, tuple[str, ...]] = {
    "agent-1": ("agent",),
    "agent-2": ("agent",),
    "agent-3": ("agent",),
    "agent-7": ("agent",),
    "sup-1": ("supervisor",),
    "sup-2": ("supervisor",),
    "warehouse-1": ("warehouse",),
    "carrier-1": ("carrier",),
    "payments-1": ("payments",),
    "auditor-1": ("auditor",),
    "analyst-1": ("analyst",),
    "upstream-1": ("upstream",),
}

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


def ingest(app: Services, *messages: dict[str, Any]) -> list[UpstreamResult]:
    """Apply upstream messages as the inbound consumer does (principal system.upstream)."""
    upstream = caller(app, "system.upstream")
    return [apply_upstream(app, upstream, ANY_INBOUND.validate_python(m)) for m in messages]


def delivered_order(
    app: Services,
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


# ---- principals ----------------------------------------------------------------------------
def caller(app: Services, name: str) -> Caller:
    """The caller acting as principal ``name``: test staff (STAFF), ``customer-<id>`` bound to
    customer ``<id>``, or a built-in ``system.…`` principal. The first call creates the whole
    cast (so a test that counts stored events sees none appear mid-test); a customer's
    principal is created the first time it acts."""
    cast(app)
    if name.startswith("system."):
        return Caller(app.principals.ensure_system(name, T0), datetime.now(UTC), "test")
    principal_id = principal_id_of(name)
    if not app.store.exists(principal_id):
        roles, customer_id = STAFF.get(name, ("customer",)), None
        if name.startswith("customer-"):
            customer_id = name.removeprefix("customer-")
        app.principals.add(admin(app), name, list(roles), T0, customer_id=customer_id)
    return Caller(principal_id, datetime.now(UTC), "test")


def cast(app: Services) -> None:
    """The administrator, the test staff and the built-in principals, once per store."""
    if app.store.exists(principal_id_of(ADMIN)):
        return
    boss = admin(app)
    for name, roles in STAFF.items():
        app.principals.add(boss, name, list(roles), T0)
    for name in ("system.upstream", "system.scheduler"):
        app.principals.ensure_system(name, T0)


def admin(app: Services) -> Caller:
    principal_id = principal_id_of(ADMIN)
    if not app.store.exists(principal_id):
        app.principals.bootstrap(ADMIN, T0)
    return Caller(principal_id, datetime.now(UTC), "test")


def customer(app: Services, customer_id: str = "c-1") -> Caller:
    return caller(app, f"customer-{customer_id}")


def pid(app: Services, name: str) -> str:
    """The principal id events record for ``name`` (the principal is created if needed)."""
    return str(caller(app, name).principal_id)


def run(app: Services, name: str, command: dict[str, Any]) -> CommandResult:
    """Submit one command body as principal ``name``, as `aftersales submit --as` does."""
    return submit(app, caller(app, name), command, datetime.now(UTC))


def cli_cast(cli: Callable[..., Any], *customers: str) -> None:
    """Through the CLI, as an operator would: bootstrap the test administrator, then import
    the test staff and a principal per customer id (``customer-<id>``)."""
    done = cli("principals", "bootstrap", ADMIN)
    assert done.returncode == 0, done.stderr
    lines = [{"name": name, "roles": list(roles)} for name, roles in STAFF.items()]
    lines += [{"name": f"customer-{c}", "roles": ["customer"], "customer_id": c}
              for c in customers]
    done = cli("principals", "import", "-", "--as", ADMIN,
               stdin="".join(json.dumps(line) + "\n" for line in lines))
    assert done.returncode == 0, done.stderr
