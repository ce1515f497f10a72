"""The Principal aggregate: roles, the customer binding, and administrators' limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales_core.domain.principals import Principal
from aftersales_core.domain.roles import GRANTABLE
from aftersales_core.errors import InvalidCommandError, NotAuthorisedError
from tests.unit.domain import builders as b

ADMIN = b.who("admin-id", "admin")


def test_a_principal_is_created_with_its_roles_and_its_history_replays() -> None:
    principal = Principal.open("ana", ["supervisor", "agent"], None, ADMIN, b.T0)
    principal.grant("customer", "c-7", ADMIN, b.T0 + timedelta(hours=1))
    principal.revoke("agent", ADMIN, b.T0 + timedelta(hours=2))
    principal.disable("on leave", ADMIN, b.T0 + timedelta(hours=3))
    assert principal.view() == {"id": str(principal.id), "name": "ana",
                                "roles": ["customer", "supervisor"], "customer_id": "c-7",
                                "enabled": False}
    principal.enable(ADMIN, b.T0 + timedelta(hours=4))
    assert b.replay(principal.collect_events()) == principal
    assert principal.enabled and principal.version == 5


@pytest.mark.parametrize(
    ("roles", "customer", "problem"),
    [
        ([], None, "at least one role"),
        (["boss"], None, "unknown role"),
        (["scheduler"], None, "built-in principal"),
        (["agent", "agent"], None, "listed twice"),
        (["customer"], None, "bound to a customer id"),
        (["agent"], "c-1", "goes with the customer role only"),
        (["customer"], "c-1\n", "printable"),
        (["customer"], " c-1", "printable"),
        (["customer"], "c" * 201, "printable"),
    ],
)
def test_roles_and_bindings_are_checked(roles: list[str], customer: str | None,
                                        problem: str) -> None:
    with pytest.raises(InvalidCommandError, match=problem):
        Principal.open("bob", roles, customer, ADMIN, b.T0)


def test_the_customer_binding_is_one_customer_id() -> None:
    principal = Principal.open("carl", ["customer"], "c-1", ADMIN, b.T0)
    with pytest.raises(InvalidCommandError, match="holds the customer role already"):
        principal.grant("customer", "c-2", ADMIN, b.T0)
    principal.revoke("customer", ADMIN, b.T0)
    assert principal.customer_id is None
    principal.grant("customer", "c-2", ADMIN, b.T0)
    assert principal.customer_id == "c-2"


def test_nobody_changes_their_own_principal() -> None:
    admin = Principal.open("root", ["admin"], None, ADMIN, b.T0)
    me = b.who(admin.principal_id, "admin")
    for change in (lambda: admin.grant("supervisor", None, me, b.T0),
                   lambda: admin.revoke("admin", me, b.T0),
                   lambda: admin.disable("oops", me, b.T0)):
        with pytest.raises(NotAuthorisedError, match="their own principal"):
            change()
    assert admin.version == 1


def test_a_change_dated_before_the_last_is_refused() -> None:
    principal = Principal.open("dora", ["agent"], None, ADMIN, b.T0 + timedelta(hours=2))
    with pytest.raises(InvalidCommandError, match="before its last change"):
        principal.disable("late", ADMIN, b.T0 + timedelta(hours=1))


@given(st.lists(st.tuples(st.sampled_from(["grant", "revoke", "disable", "enable"]),
                          st.sampled_from(sorted(GRANTABLE))), max_size=12))
def test_refused_changes_change_nothing_and_replay_gives_the_same_principal(
    steps: list[tuple[str, str]],
) -> None:
    principal = Principal.open("eve", ["agent"], None, ADMIN, b.T0)
    for action, role in steps:
        before = b.state_of(principal)
        try:
            if action == "grant":
                principal.grant(role, "c-1" if role == "customer" else None, ADMIN, b.T0)
            elif action == "revoke":
                principal.revoke(role, ADMIN, b.T0)
            elif action == "disable":
                principal.disable("why", ADMIN, b.T0)
            else:
                principal.enable(ADMIN, b.T0)
        except InvalidCommandError:
            assert b.state_of(principal) == before
        assert (principal.customer_id is not None) == ("customer" in principal.roles)
        assert len(set(principal.roles)) == len(principal.roles)
    assert b.replay(principal.collect_events()) == principal
