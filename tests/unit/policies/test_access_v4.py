"""access v4: auditors, and the administrators who erase, list the recorded erasures of
personal data (``ListErasures``); nobody else does; every other decision but ``IssueApiKey``
(test_access_v4_keys.py) is v3's."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from aftersales_core.policies import current_version, rerun
from aftersales_core.policies.access_matrix import ACCESS_V3, ACCESS_V4
from tests.unit.policies.test_access import ROLES
from tests.unit.policies.test_access_v3 import decide as decide_as


def decide(operation: str, roles: tuple[str, ...], version: int = 4, **facts: Any) -> Any:
    return decide_as(operation, roles, version, **facts)  # v3's helper, v4 by default


def test_v4_was_followed_by_v5() -> None:
    assert current_version("access") >= 5  # v5: staff who are the buyer (test_access_v5)


def test_only_auditors_and_administrators_list_erasures() -> None:
    allowed = {role for role in ROLES if decide("ListErasures", (role,)).outcome == "allow"}
    assert allowed == {"auditor", "admin"}
    denied = decide("ListErasures", ("agent", "analyst"))
    assert denied.outcome == "deny" and denied.details["hide"] is False


def test_v3_knew_no_erasure_listing_and_its_decisions_rerun_as_recorded() -> None:
    old = decide("ListErasures", ("auditor",), version=3)
    assert old.outcome == "deny" and rerun(old).same_result_as(old)


@given(operation=st.sampled_from(sorted(set(ACCESS_V3.operations) - {"IssueApiKey"})),
       roles=st.lists(st.sampled_from(ROLES), max_size=3, unique=True),
       fact_customer=st.sampled_from([None, "c-1", "c-2"]))
def test_v4_decides_every_other_operation_as_v3(
        operation: str, roles: list[str], fact_customer: str | None) -> None:
    facts = {"customer_id": fact_customer, "direction": "in", "table": "cases",
             "staff_fields": []}
    old = decide(operation, tuple(roles), 3, **facts)
    new = decide(operation, tuple(roles), 4, **facts)
    assert (new.outcome, new.details, new.reasons) == (old.outcome, old.details, old.reasons)
    assert ACCESS_V4.operations[operation] == ACCESS_V3.operations[operation]
