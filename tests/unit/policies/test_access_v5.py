"""access v5: a member of staff who is also an order's customer is its buyer there (SECURITY:
nobody approves or requests a refund or return paid to themselves; a customer may never
choose who pays). They may request a return on their own order as any customer may, setting
none of the fields only staff set; they do not resolve their own return. Staff serving other
customers, and staff bound to no customer, decide as v4; every other decision is v4's."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales_core.policies import current_version, evaluate, rerun
from aftersales_core.policies.access_matrix import ACCESS_V4, ACCESS_V5
from tests.unit.policies.test_access import ROLES

STAFF_FIELDS = ["case_id", "buyer_informed_of_return_cost", "return_shipping_estimate"]


def decide(operation: str, roles: tuple[str, ...], version: int = 5,
           bound_to: str | None = "c-1", **facts: Any) -> Any:
    return evaluate("access", {
        "operation": operation,
        "principal": {"id": "p-1", "roles": list(roles), "enabled": True,
                      "customer_id": bound_to},
        "facts": {"customer_id": "c-1", "requested_by": "p-2", **facts},
    }, version)


def test_v5_was_followed_by_v6() -> None:
    assert current_version("access") == 6  # v6: payments query no projection (test_access_v6)


@pytest.mark.parametrize("role", ["agent", "supervisor"])
@pytest.mark.parametrize("field", STAFF_FIELDS)
def test_staff_who_are_the_buyer_set_no_staff_field_on_their_own_return(
        role: str, field: str) -> None:
    denied = decide("RequestReturn", (role, "customer"), staff_fields=[field])
    assert denied.outcome == "deny"
    assert f"as {role}: nobody approves or requests a refund or return paid to themselves" \
        in denied.reasons
    assert any(r.startswith(f"as {role}: {field}: only the merchant's staff")
               for r in denied.reasons)
    assert denied.details["hide"] is False
    # v4 let them: the returnless refund a staff-chosen estimate decides was theirs to take
    assert decide("RequestReturn", (role, "customer"), 4, staff_fields=[field]).outcome == "allow"


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_staff_who_are_the_buyer_still_request_a_plain_return(role: str) -> None:
    allowed = decide("RequestReturn", (role,), staff_fields=[])
    assert (allowed.outcome, allowed.details["role"]) == ("allow", role)


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_staff_set_staff_fields_on_other_customers_returns(role: str) -> None:
    for bound_to in ("c-2", None):
        allowed = decide("RequestReturn", (role,), bound_to=bound_to, staff_fields=STAFF_FIELDS)
        assert (allowed.outcome, allowed.details["role"]) == ("allow", role)


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_nobody_resolves_their_own_return(role: str) -> None:
    denied = decide("ResolveReturn", (role, "customer"))
    assert denied.outcome == "deny" and denied.details["rule"] == "access.not_beneficiary"
    assert decide("ResolveReturn", (role,), bound_to="c-2").outcome == "allow"
    assert decide("ResolveReturn", (role,), bound_to=None).outcome == "allow"


def test_v4_decisions_rerun_as_recorded() -> None:
    old = decide("RequestReturn", ("agent", "customer"), 4,
                 staff_fields=["return_shipping_estimate"])
    assert old.outcome == "allow" and rerun(old).same_result_as(old)


@given(operation=st.sampled_from(sorted(set(ACCESS_V4.operations)
                                        - {"RequestReturn", "ResolveReturn"})),
       roles=st.lists(st.sampled_from(ROLES), max_size=3, unique=True),
       fact_customer=st.sampled_from([None, "c-1", "c-2"]),
       bound_to=st.sampled_from([None, "c-1"]))
def test_v5_decides_every_other_operation_as_v4(
        operation: str, roles: list[str], fact_customer: str | None,
        bound_to: str | None) -> None:
    facts = {"customer_id": fact_customer, "direction": "in", "table": "cases",
             "staff_fields": [], "holder_id": "p-1", "holder_is_admin": False}
    old = decide(operation, tuple(roles), 4, bound_to, **facts)
    new = decide(operation, tuple(roles), 5, bound_to, **facts)
    assert (new.outcome, new.details, new.reasons) == (old.outcome, old.details, old.reasons)
    assert ACCESS_V5.operations[operation] == ACCESS_V4.operations[operation]
