"""Every projection, by name: what the runners apply and what `aftersales query` reads."""

from __future__ import annotations

import re

from projections.base import Projection
from projections.buyer_quota import BuyerQuotas
from projections.cases import Cases
from projections.complaints import Complaints
from projections.deadlines import Deadlines
from projections.decisions import Decisions
from projections.logistics_exceptions import LogisticsExceptions
from projections.orders import Orders
from projections.product_signals import ProductSignals
from projections.refunds import Refunds
from projections.returns_by_reason import ReturnsByReason
from projections.shipments import Shipments

PROJECTIONS: dict[str, type[Projection]] = {
    p.name: p for p in (Orders, Cases, Deadlines, Refunds, ReturnsByReason, Complaints,
                        LogisticsExceptions, Decisions, BuyerQuotas, Shipments,
                        ProductSignals)
}


def all_projections(suffix: str = "") -> list[Projection]:
    return [cls(suffix) for cls in PROJECTIONS.values()]


def select(names: list[str] | None, suffix: str = "") -> list[Projection]:
    """The named projections (all when none is named); an unknown name is an error."""
    if not names:
        return all_projections(suffix)
    unknown = [n for n in names if n not in PROJECTIONS]
    if unknown:
        raise ValueError(f"unknown projection(s) {', '.join(unknown)}; "
                         f"known: {', '.join(PROJECTIONS)}")
    return [PROJECTIONS[n](suffix) for n in names]


def queryable_tables() -> dict[str, str]:
    """Table name -> projection name, for `aftersales query`."""
    return {table: cls.name for cls in PROJECTIONS.values() for table in cls.tables}


def json_columns(table: str) -> frozenset[str]:
    """The columns of a projection table that hold JSON documents (JSONB in its DDL; none for
    other tables)."""
    for cls in PROJECTIONS.values():
        if table in cls.tables:
            return frozenset(re.findall(r"^\s*([a-z_][a-z0-9_]*)\s+JSONB\b", cls.tables[table],
                                        re.MULTILINE))
    return frozenset()
