"""access v2: v1 and the operations on policy books. Administrators set books; administrators
and auditors read and simulate them; every role reads the published policy; v1 decisions stay
what they were."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from aftersales_core.policies import current_version, evaluate, rerun
from aftersales_core.policies.access_matrix import ACCESS_V1, ACCESS_V2, EVERYONE
from tests.unit.policies.test_access import ROLES

BOOK_OPERATIONS = ("SetPolicyBook", "ReadPolicyBook", "SimulatePolicyBook",
                   "ReadPublishedPolicy")


def decide(operation: str, roles: tuple[str, ...], version: int = 2, enabled: bool = True,
           **facts: Any) -> Any:
    return evaluate("access", {
        "operation": operation,
        "principal": {"id": "p-1", "roles": list(roles), "enabled": enabled,
                      "customer_id": "c-1" if "customer" in roles else None},
        "facts": {"merchant_id": "m-1", **facts},
    }, version)


def allowed(operation: str) -> set[str]:
    return {role for role in ROLES if decide(operation, (role,)).outcome == "allow"}


def test_v2_was_followed_by_v3() -> None:
    assert current_version("access") >= 3  # v3: fields customers may not set (test_access_v3)


def test_only_administrators_set_a_policy_book() -> None:
    assert allowed("SetPolicyBook") == {"admin"}
    denied = decide("SetPolicyBook", ("auditor", "supervisor", "agent"))
    assert (denied.outcome, denied.details["rule"], denied.details["hide"]) == (
        "deny", "access.role", False)


def test_administrators_and_auditors_read_and_simulate_books_and_nobody_else() -> None:
    for operation in ("ReadPolicyBook", "SimulatePolicyBook"):
        assert allowed(operation) == {"admin", "auditor"}, operation
    assert decide("ReadPolicyBook", ("auditor",)).details["role"] == "auditor"


def test_every_role_reads_the_published_policy_unless_disabled() -> None:
    assert allowed("ReadPublishedPolicy") == set(EVERYONE)
    assert "scheduler" not in EVERYONE  # the machine role reads no policy text
    disabled = decide("ReadPublishedPolicy", ("customer",), enabled=False)
    assert (disabled.outcome, disabled.details["rule"]) == ("deny", "access.disabled")
    assert decide("ReadPublishedPolicy", ()).outcome == "deny"  # no role, no text


def test_v1_knows_no_policy_book_operation_so_its_decisions_stay_denials() -> None:
    for operation in BOOK_OPERATIONS:
        old = decide(operation, ("admin", "auditor"), version=1)
        assert (old.outcome, old.details["rule"]) == ("deny", "access.default_deny")
        assert rerun(old).same_result_as(old)


@given(operation=st.sampled_from(sorted(ACCESS_V1.operations)),
       roles=st.lists(st.sampled_from(ROLES), max_size=3, unique=True),
       fact_customer=st.sampled_from([None, "c-1", "c-2"]),
       requester=st.sampled_from(["p-1", "p-2"]),
       requires_supervisor=st.booleans(), enabled=st.booleans())
def test_v2_decides_every_operation_of_v1_as_v1_did(
    operation: str, roles: list[str], fact_customer: str | None, requester: str,
    requires_supervisor: bool, enabled: bool,
) -> None:
    facts = {"customer_id": fact_customer, "requested_by": requester,
             "requires_supervisor": requires_supervisor, "direction": "return",
             "table": "cases"}
    old = decide(operation, tuple(roles), 1, enabled, **facts)
    new = decide(operation, tuple(roles), 2, enabled, **facts)
    assert (new.outcome, new.details, new.reasons) == (old.outcome, old.details, old.reasons)
    assert set(ACCESS_V2.operations) == set(ACCESS_V1.operations) | set(BOOK_OPERATIONS)
