"""Who acts in the demo: an administrator, the desk's staff, carriers and every customer, each
a principal with the role the permission matrix expects (SECURITY.md)."""

from __future__ import annotations

import re

ADMIN = "demo-admin"
STAFF: dict[str, str] = {
    "agent-ben": "agent",  # labels, resolutions, closures
    "agent-carla": "agent",  # complaints
    "supervisor-ana": "supervisor",  # returns in review
    "supervisor-olga": "supervisor",  # refunds above the threshold
    "warehouse-leeds": "warehouse",  # inspections
    "payments-psp": "payments",  # issues and settles refunds
    "analyst-ines": "analyst",  # the report
    "auditor-kim": "auditor",
}
UPSTREAM = "system.upstream"  # the inbound consumer of orders.v1 and shipments.v1


def customer(customer_id: str) -> str:
    """The principal of a customer (bound to that customer id)."""
    return f"customer-{customer_id}"


def carrier(name: str) -> str:
    """The principal of a carrier reporting return shipments: Royal Mail -> carrier-royal-mail."""
    return "carrier-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def staff_lines(carriers: set[str]) -> list[dict[str, object]]:
    """`aftersales principals import` lines of the staff and the carriers."""
    lines: list[dict[str, object]] = [{"name": n, "roles": [r]} for n, r in STAFF.items()]
    lines += [{"name": carrier(c), "roles": ["carrier"]} for c in sorted(carriers)]
    return lines


def customer_lines(customer_ids: set[str]) -> list[dict[str, object]]:
    return [{"name": customer(c), "roles": ["customer"], "customer_id": c}
            for c in sorted(customer_ids)]
