"""Valid JSON inputs for every policy, overridable field by field."""

from __future__ import annotations

from typing import Any

from aftersales_core.decisions import JSON

DELIVERED = "2026-01-05T10:00:00+00:00"
RELEASED = "2026-01-03T10:00:00+00:00"


def line(line_id: str = "L1", *, sku: str = "SKU-1", category: str = "cosmetics",
         quantity: int = 1, unit_price: str = "100.00") -> JSON:
    return {"line_id": line_id, "sku": sku, "category": category, "quantity": quantity,
            "unit_price": unit_price}


def eligibility(**overrides: Any) -> JSON:
    inputs: JSON = {
        "market": "CN", "fulfilment": "domestic", "currency": "CNY", "reason": "changed_mind",
        "wanted_outcome": "refund", "requested_at": "2026-01-08T10:00:00+00:00",
        "delivered_at": DELIVERED, "customs_released_at": None, "lines": [line()],
        "non_returnable_line_ids": [], "goods_intact": None, "buyer_timezone": None,
        "already_returned": [],
    }
    inputs.update(overrides)
    return inputs


def cross_border(**overrides: Any) -> JSON:
    return eligibility(**{"fulfilment": "bonded", "customs_released_at": RELEASED, **overrides})


def abuse(**overrides: Any) -> JSON:
    return {"customer_id": "cust-1", "recent_orders": 10, "recent_returns": 2, **overrides}


def shipping(**overrides: Any) -> JSON:
    inputs: JSON = {
        "market": "CN", "fulfilment": "domestic", "currency": "CNY", "reason": "changed_mind",
        "regime": "cn_no_reason_7d", "item_value": "100.00", "return_shipping_estimate": "12.00",
        "buyer_informed_of_return_cost": False, "wanted_outcome": "refund",
    }
    inputs.update(overrides)
    return inputs


def refund(**overrides: Any) -> JSON:
    """A US order of 2 x 50.00 + 1 x 100.00 USD, 10.00 shipping, 20.00 discount, all paid."""
    inputs: JSON = {
        "source": "return", "market": "US", "currency": "USD", "fulfilment": "direct_mail",
        "regime": "us_merchant", "merchant_fault": False, "is_withdrawal": False,
        "order_lines": [line("L1", quantity=2, unit_price="50.00"),
                        line("L2", sku="SKU-2", unit_price="100.00")],
        "refund_lines": [{"line_id": "L2", "quantity": 1}], "amount": None,
        "shipping_fee": "10.00", "duties": "0.00", "taxes": "0.00", "discount": "20.00",
        "paid": "190.00", "already_refunded": "0.00", "tax_refundable": False,
        "inspection_grade": None, "return_shipping_payer": None, "return_shipping_cost": None,
        "goodwill": None, "already_refunded_by_component": refunded_before(),
    }
    inputs.update(overrides)
    return inputs


def refunded_before(**components: tuple[str, list[tuple[str, int]]]) -> JSON:
    """refund.calculation v3's ``already_refunded_by_component``: nothing taken, but for the
    components given as (amount, [(line_id, units)])."""
    taken = {name: ("0", []) for name in ("items", "outbound_shipping", "duties", "taxes")}
    taken.update(components)
    return {name: {"amount": value, "units": [{"line_id": line_id, "quantity": units}
                                              for line_id, units in lines]}
            for name, (value, lines) in taken.items()}


def approval(**overrides: Any) -> JSON:
    return {"amount": "100.00", "currency": "CNY", "order_refunded": "0", "requested_by":
            "agent-1", "approver": None, "approver_role": None, "review": None, **overrides}


def triage(**overrides: Any) -> JSON:
    return {"channel": "email", "category": "service", "filed_at": "2026-01-05T10:00:00+00:00",
            "market": "CN", "order_value": "300.00", "currency": "CNY", "prior_complaints": 0,
            "buyer_timezone": None, **overrides}


def logistics(**overrides: Any) -> JSON:
    return {"event_type": "Lost", "direction": "outbound",
            "occurred_at": "2026-01-10T10:00:00+00:00", "since": None, "market": "CN",
            "fulfilment": "direct_mail", "currency": "CNY", "order_value": "300.00",
            "delivered_parcels": [], "parcels_on_the_way": [], "delivered_at": None,
            **overrides}


def disposition(**overrides: Any) -> JSON:
    return {"grade": "B", "reason": "defective", "wanted_outcome": "refund", **overrides}
