"""access v4: an administrator's API key is issued by that administrator only (SECURITY:
repudiation; a key for another administrator would let its issuer act as them). Keys for
principals without the admin role, and an administrator's own, are issued as before; a
command that does not say whose key it is is denied; every other decision is v3's."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from aftersales_core.policies import current_version, evaluate, rerun
from aftersales_core.policies.access_matrix import ACCESS_V3, ACCESS_V4
from tests.unit.policies.test_access import ROLES


def issue(holder_id: Any, holder_is_admin: Any, *, roles: tuple[str, ...] = ("admin",),
          version: int = 4) -> Any:
    facts = {"name": "someone", "holder_id": holder_id, "holder_is_admin": holder_is_admin}
    return evaluate("access", {
        "operation": "IssueApiKey",
        "principal": {"id": "p-1", "roles": list(roles), "enabled": True, "customer_id": None},
        "facts": {k: v for k, v in facts.items() if v is not None},
    }, version)


def test_v4_is_followed_by_v5() -> None:
    assert current_version("access") >= 5


def test_an_administrator_never_issues_a_key_for_another_administrator() -> None:
    denied = issue("p-2", True)
    assert denied.outcome == "deny"
    assert denied.details == {"role": None, "view": None, "rows": None,
                              "rule": "access.holder_not_admin", "hide": False}
    assert any("a key for another administrator would let its issuer act as them" in reason
               for reason in denied.reasons)


def test_an_administrator_keys_themselves_and_principals_without_the_admin_role() -> None:
    for holder_id, holder_is_admin in (("p-1", True), ("p-2", False), ("p-1", False)):
        allowed = issue(holder_id, holder_is_admin)
        assert (allowed.outcome, allowed.details["role"]) == ("allow", "admin"), holder_id


def test_a_key_that_does_not_say_whose_it_is_is_denied() -> None:
    """Deny by default: an entry point that forgot the holder's facts lets nobody through."""
    assert issue(None, None).outcome == "deny"
    assert issue("p-2", None).outcome == "deny"
    assert issue("p-2", "false").outcome == "deny"  # a string is not the boolean


def test_other_roles_still_issue_no_key() -> None:
    for role in set(ROLES) - {"admin"}:
        assert issue("p-1", False, roles=(role,)).outcome == "deny", role


def test_v3_decisions_rerun_as_recorded() -> None:
    old = issue("p-2", True, version=3)
    assert old.outcome == "allow" and rerun(old).same_result_as(old)


@given(operation=st.sampled_from(sorted(set(ACCESS_V3.operations) - {"IssueApiKey"})),
       roles=st.lists(st.sampled_from(ROLES), max_size=3, unique=True),
       fact_customer=st.sampled_from([None, "c-1", "c-2"]),
       requires_supervisor=st.booleans())
def test_v4_decides_every_other_operation_as_v3(
        operation: str, roles: list[str], fact_customer: str | None,
        requires_supervisor: bool) -> None:
    def decide(version: int) -> Any:
        return evaluate("access", {
            "operation": operation,
            "principal": {"id": "p-1", "roles": roles, "enabled": True,
                          "customer_id": "c-1" if "customer" in roles else None},
            "facts": {"customer_id": fact_customer, "requires_supervisor": requires_supervisor,
                      "direction": "in", "table": "cases", "staff_fields": []},
        }, version)
    old, new = decide(3), decide(4)
    assert (new.outcome, new.details, new.reasons) == (old.outcome, old.details, old.reasons)
    assert ACCESS_V4.operations[operation] == ACCESS_V3.operations[operation]
