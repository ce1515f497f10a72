"""The roles a principal may hold (domain/principals.py): a vocabulary on its own, light enough
for the command line's help texts."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CUSTOMER = "customer"  # bound to one customer id
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    WAREHOUSE = "warehouse"
    CARRIER = "carrier"
    PAYMENTS = "payments"
    UPSTREAM = "upstream"  # a service publishing order and shipment facts
    AUDITOR = "auditor"
    ANALYST = "analyst"
    ADMIN = "admin"  # manages principals and policy books, nothing else
    SCHEDULER = "scheduler"  # only the built-in system.scheduler: fires due deadlines


GRANTABLE = frozenset(r.value for r in Role if r is not Role.SCHEDULER)
SYSTEM_ONLY = frozenset({Role.SCHEDULER.value})
BOOTSTRAP = "bootstrap"  # the role recorded when the operator creates the first administrator
