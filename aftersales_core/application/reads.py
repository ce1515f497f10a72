"""Who may read what: the one place every query asks, whichever entry point it came through.

* ``case``: a case (or an order's facts) as of any moment, with personal data shown or redacted
  as the principal's role may see it; a customer asking for someone else's case gets "not
  found", word for word what a case that does not exist gives.
* ``query_scope``: whether a principal may read a projection table, and which rows (a customer
  only their own customer's rows, the caller adds ``customer_id = ?``).
* ``require``: the other reads (report, deadlines, denials, audit verification, decision
  re-runs), allowed or denied by the same matrix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from aftersales_core.application.access import CASE_TYPES, Access, Caller, Grant, case_facts
from aftersales_core.application.history import CaseHistory, load_history
from aftersales_core.application.store import Store, unknown_case
from aftersales_core.domain.order import Order
from aftersales_core.errors import NotAuthorisedError


@dataclass(frozen=True)
class QueryScope:
    """What a principal may read of one projection table."""

    table: str
    view: str  # "full" or "redacted" (projections carry no personal data: the relay redacts)
    customer_id: str | None  # when set: only rows of this customer

    def where(self) -> tuple[str, list[Any]] | None:
        """The row filter to add to every query of the table, if any."""
        return None if self.customer_id is None else ("customer_id", [self.customer_id])


class ReadService:
    def __init__(self, store: Store, access: Access) -> None:
        self.store, self.access = store, access

    def case(
        self,
        caller: Caller,
        case_id: UUID,
        as_of: datetime | None = None,
        operation: str = "ReadCase",
    ) -> CaseHistory:
        principal = self.access.may_try(caller, operation, case_id)
        aggregate = self.store.load_any(case_id)
        if isinstance(aggregate, CASE_TYPES):
            facts = case_facts(aggregate)
        elif isinstance(aggregate, Order):
            facts = {"case_id": str(case_id), "case_type": "order",
                     "customer_id": aggregate.customer_id}
        else:  # nothing, or no case nor order: what another customer's case gets
            raise self.access.absent(caller, principal, operation,
                                     lambda: unknown_case(case_id), case_id=case_id,
                                     facts={"case_id": str(case_id)})
        grant = self.access.require(caller, operation, facts, case_id=case_id,
                                    hidden=lambda: unknown_case(case_id), principal=principal)
        return load_history(self.store, case_id, as_of, view=grant.view)

    def query_scope(self, caller: Caller, table: str) -> QueryScope:
        grant = self.access.require(caller, "QueryProjection", {"table": table})
        if grant.rows == "own":
            if grant.customer_id is None:
                raise NotAuthorisedError("own rows need a customer binding")
            return QueryScope(table, grant.view, grant.customer_id)
        return QueryScope(table, grant.view, None)

    def require(self, caller: Caller, operation: str) -> Grant:
        return self.access.require(caller, operation)
