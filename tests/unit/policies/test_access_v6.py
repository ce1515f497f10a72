"""access v6: the payments role issues, settles and records the failure of refunds and reads
cases with personal data redacted, nothing else (SECURITY.md's actor table, README's role
table): it queries no projection, which v5 let it (every case, order and decision's inputs).
Every other decision is v5's."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales_core.policies import current_version, evaluate, rerun
from aftersales_core.policies.access_matrix import ACCESS_V5, ACCESS_V6
from tests.unit.policies.test_access import ROLES


def decide(operation: str, roles: tuple[str, ...], version: int = 6, **facts: Any) -> Any:
    return evaluate("access", {
        "operation": operation,
        "principal": {"id": "p-1", "roles": list(roles), "enabled": True, "customer_id": None},
        "facts": {"customer_id": "c-1", "requested_by": "p-2", **facts},
    }, version)


def test_v6_is_the_current_version() -> None:
    assert current_version("access") == 6


@pytest.mark.parametrize("table", ["cases", "orders", "refunds", "decisions", "complaints"])
def test_payments_query_no_projection(table: str) -> None:
    denied = decide("QueryProjection", ("payments",), table=table)
    assert denied.outcome == "deny" and denied.details["rule"] == "access.role"
    assert decide("QueryProjection", ("payments",), 5, table=table).outcome == "allow"


def test_payments_still_do_what_the_documents_give_them() -> None:
    for operation in ("IssueRefund", "ConfirmRefundSettled", "RecordRefundFailed"):
        assert decide(operation, ("payments",)).outcome == "allow", operation
    read = decide("ReadCase", ("payments",))
    assert (read.outcome, read.details["view"]) == ("allow", "redacted")


def test_v5_decisions_rerun_as_recorded() -> None:
    old = decide("QueryProjection", ("payments",), 5, table="cases")
    assert old.outcome == "allow" and rerun(old).same_result_as(old)


@given(operation=st.sampled_from(sorted(ACCESS_V5.operations)),
       roles=st.lists(st.sampled_from(ROLES), max_size=3, unique=True),
       table=st.sampled_from(["cases", "decisions"]))
def test_v6_decides_everything_else_as_v5(operation: str, roles: list[str], table: str
                                          ) -> None:
    if operation == "QueryProjection" and "payments" in roles:
        return
    facts = {"direction": "in", "table": table, "staff_fields": [], "holder_id": "p-1",
             "holder_is_admin": False}
    old, new = decide(operation, tuple(roles), 5, **facts), decide(operation, tuple(roles),
                                                                   **facts)
    assert (new.outcome, new.details) == (old.outcome, old.details)
    if operation != "QueryProjection":  # its denials name the roles that may: no payments
        assert new.reasons == old.reasons
        assert ACCESS_V6.operations[operation] == ACCESS_V5.operations[operation]
