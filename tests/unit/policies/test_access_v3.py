"""access v3: customers never set what only the merchant's staff or policy set (SECURITY:
a customer may never choose who pays): whether the buyer was told the return cost, the return
shipping estimate, a price reduction's amount, a new case's id. The denial names each field;
staff still set them; every other decision is v2's."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales_core.policies import current_version, evaluate, rerun
from aftersales_core.policies.access_matrix import ACCESS_V2, ACCESS_V3
from tests.unit.policies.test_access import ROLES

GUARDED = {"RequestReturn": ["case_id", "buyer_informed_of_return_cost",
                             "return_shipping_estimate"],
           "ChooseRemedy": ["amount"],
           "FileComplaint": ["case_id"]}


def decide(operation: str, roles: tuple[str, ...], version: int = 3, **facts: Any) -> Any:
    return evaluate("access", {
        "operation": operation,
        "principal": {"id": "p-1", "roles": list(roles), "enabled": True,
                      "customer_id": "c-1" if "customer" in roles else None},
        "facts": {"customer_id": "c-1", "requested_by": "p-2", **facts},
    }, version)


def test_v3_was_followed_by_v4() -> None:
    assert current_version("access") >= 4  # v4: erasures listed, administrators key only themselves


@pytest.mark.parametrize(("operation", "fields"), GUARDED.items())
def test_a_customer_setting_a_staff_field_is_denied_and_told_which(
        operation: str, fields: list[str]) -> None:
    for field in fields:
        denied = decide(operation, ("customer",), staff_fields=[field])
        assert denied.outcome == "deny", field
        assert denied.details == {"role": None, "view": None, "rows": None,
                                  "rule": "access.no_staff_fields", "hide": False}
        assert denied.reasons[-1].startswith(f"as customer: {field}: only the merchant's staff")
    both = decide(operation, ("customer",), staff_fields=fields)
    assert ", ".join(fields) in both.reasons[-1]
    assert decide(operation, ("customer",), staff_fields=[]).outcome == "allow"


@pytest.mark.parametrize("operation", sorted(GUARDED))
def test_staff_set_them(operation: str) -> None:
    allowed = decide(operation, ("agent",), staff_fields=GUARDED[operation])
    assert (allowed.outcome, allowed.details["role"]) == ("allow", "agent")


@pytest.mark.parametrize("operation", sorted(GUARDED))
def test_another_customers_order_stays_not_found_whatever_the_fields(operation: str) -> None:
    denied = decide(operation, ("customer",), customer_id="c-2",
                    staff_fields=GUARDED[operation])
    assert (denied.outcome, denied.details["hide"]) == ("deny", True)


@pytest.mark.parametrize("operation", sorted(GUARDED))
def test_a_customer_command_that_does_not_say_what_it_sets_is_denied(operation: str) -> None:
    """Deny by default: an entry point that forgot the fact never lets a customer through."""
    assert decide(operation, ("customer",)).outcome == "deny"
    assert decide(operation, ("customer",), staff_fields="").outcome == "deny"


def test_v2_decisions_rerun_as_recorded() -> None:
    old = decide("RequestReturn", ("customer",), version=2)
    assert old.outcome == "allow" and rerun(old).same_result_as(old)


@given(operation=st.sampled_from(sorted(set(ACCESS_V2.operations) - set(GUARDED))),
       roles=st.lists(st.sampled_from(ROLES), max_size=3, unique=True),
       fact_customer=st.sampled_from([None, "c-1", "c-2"]),
       requires_supervisor=st.booleans())
def test_v3_decides_every_other_operation_as_v2(
        operation: str, roles: list[str], fact_customer: str | None,
        requires_supervisor: bool) -> None:
    facts = {"customer_id": fact_customer, "requires_supervisor": requires_supervisor,
             "direction": "in", "table": "cases"}
    old = decide(operation, tuple(roles), 2, **facts)
    new = decide(operation, tuple(roles), 3, **facts)
    assert (new.outcome, new.details, new.reasons) == (old.outcome, old.details, old.reasons)
    assert ACCESS_V3.operations[operation] == ACCESS_V2.operations[operation]
