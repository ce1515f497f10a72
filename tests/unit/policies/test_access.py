"""access v1: the actor table of SECURITY.md, rule by rule, and the edges of its conditions."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales_core.policies import evaluate, rerun
from aftersales_core.policies.access import roles_for
from aftersales_core.policies.access_matrix import ACCESS_V1

ROLES = ("customer", "agent", "supervisor", "warehouse", "carrier", "payments", "upstream",
         "auditor", "analyst", "admin", "scheduler")
CASE_COMMANDS = ("RequestReturn", "ApproveReturn", "RejectReturn", "CancelReturn",
                 "IssueReturnLabel", "ReceiveReturn", "InspectReturn", "ResolveReturn",
                 "CloseReturn", "RequestRefund", "ApproveRefund", "RejectRefund", "IssueRefund",
                 "ConfirmRefundSettled", "RecordRefundFailed", "FileComplaint",
                 "AcknowledgeComplaint", "AddComplaintMessage", "ProposeResolution",
                 "RespondToProposal", "EscalateComplaint", "ResolveComplaint", "CloseComplaint",
                 "ReopenComplaint")
MONEY = ("RequestRefund", "ApproveRefund", "RejectRefund", "IssueRefund",
         "ConfirmRefundSettled", "RecordRefundFailed")
PRINCIPAL_ADMIN = ("AddPrincipal", "GrantRole", "RevokeRole", "DisablePrincipal",
                   "EnablePrincipal")


def decide(operation: str, roles: tuple[str, ...], *, bound_to: str | None = None,
           principal_id: str = "p-1", enabled: bool = True, **facts: Any) -> Any:
    """The access decision for a principal (roles, customer binding) and an object's facts."""
    return evaluate("access", {
        "operation": operation,
        "principal": {"id": principal_id, "roles": list(roles), "customer_id": bound_to,
                      "enabled": enabled},
        "facts": facts,
    })


def may(operation: str, role: str) -> bool:
    facts = {"customer_id": "c-1", "requested_by": "someone-else", "requires_supervisor": False,
             "direction": "in", "table": "cases", "staff_fields": []}
    principal = {"id": "p-1", "roles": [role], "enabled": True,
                 "customer_id": "c-1" if role == "customer" else None}
    decision = evaluate("access", {"operation": operation, "principal": principal,
                                   "facts": facts})
    return bool(decision.outcome == "allow")


def test_every_command_of_spec_4_3_has_a_row_and_anything_else_is_denied_by_default() -> None:
    assert set(CASE_COMMANDS) <= set(ACCESS_V1.operations)
    unknown = decide("DropAllTables", ("admin", "supervisor"))
    assert (unknown.outcome, unknown.details["rule"]) == ("deny", "access.default_deny")


@pytest.mark.parametrize("role", ["upstream", "auditor", "analyst", "admin", "scheduler"])
def test_roles_that_act_on_no_case_may_send_no_case_command(role: str) -> None:
    assert [c for c in CASE_COMMANDS if may(c, role)] == []


def test_customers_file_message_answer_cancel_and_reopen_their_own_and_nothing_else() -> None:
    assert {c for c in CASE_COMMANDS if may(c, "customer")} == {
        "RequestReturn", "CancelReturn", "FileComplaint", "AddComplaintMessage",
        "RespondToProposal", "ReopenComplaint"}


def test_the_warehouse_receives_and_inspects_and_touches_no_money() -> None:
    assert {c for c in CASE_COMMANDS if may(c, "warehouse")} == {"ReceiveReturn",
                                                                 "InspectReturn"}


def test_payments_issue_confirm_and_fail_refunds_but_never_approve_or_request() -> None:
    assert {c for c in CASE_COMMANDS if may(c, "payments")} == {
        "IssueRefund", "ConfirmRefundSettled", "RecordRefundFailed"}


def test_carriers_report_return_shipments_only() -> None:
    assert [c for c in CASE_COMMANDS if may(c, "carrier")] == []
    assert decide("ShipmentScanned", ("carrier",), direction="return").outcome == "allow"
    denied = decide("ShipmentScanned", ("carrier",), direction="outbound")
    assert (denied.outcome, denied.details["rule"]) == ("deny", "access.return_shipment")
    assert decide("OrderPlaced", ("carrier",)).outcome == "deny"


def test_agents_and_supervisors_work_cases_but_agents_never_move_money() -> None:
    for role in ("agent", "supervisor"):
        assert {c for c in CASE_COMMANDS if may(c, role)} >= {
            "ApproveReturn", "IssueReturnLabel", "ResolveReturn", "EscalateComplaint",
            "RequestRefund", "ApproveRefund", "RejectRefund"}
        assert not {"IssueRefund", "ConfirmRefundSettled", "RecordRefundFailed",
                    "ReceiveReturn", "InspectReturn"} & {c for c in CASE_COMMANDS if may(c, role)}


def test_only_upstream_publishes_order_facts() -> None:
    for operation in ("OrderPlaced", "OrderPaid", "OrderCancelled"):
        assert roles_for(operation) == ["upstream"]


def test_administrators_manage_principals_and_nobody_else_does() -> None:
    for operation in PRINCIPAL_ADMIN:
        assert roles_for(operation) == ["admin"]


def test_auditors_read_everything_and_analysts_read_redacted() -> None:
    auditor = decide("ReadCase", ("auditor",), customer_id="c-1")
    assert (auditor.outcome, auditor.details["view"]) == ("allow", "full")
    analyst = decide("ReadCase", ("analyst",), customer_id="c-1")
    assert (analyst.outcome, analyst.details["view"]) == ("allow", "redacted")
    for operation in ("ReadDenials", "VerifyAudit"):
        assert roles_for(operation) == ["auditor"]


# ---- conditions at their edges ---------------------------------------------------------------


def test_a_refund_above_the_threshold_is_approved_by_a_supervisor_never_by_an_agent() -> None:
    above = decide("ApproveRefund", ("agent",), requested_by="p-2", customer_id="c-1",
                   requires_supervisor=True)
    assert decide("ApproveRefund", ("agent",), requested_by="p-2", customer_id="c-1",
                  requires_supervisor=0).outcome == "deny"  # exactly False, not falsy-equal
    assert (above.outcome, above.details["rule"]) == ("deny", "access.within_threshold")
    within = decide("ApproveRefund", ("agent",), requested_by="p-2", customer_id="c-1",
                    requires_supervisor=False)
    assert (within.outcome, within.details["role"]) == ("allow", "agent")
    supervisor = decide("ApproveRefund", ("supervisor",), requested_by="p-2",
                        customer_id="c-1", requires_supervisor=True)
    assert (supervisor.outcome, supervisor.details["role"]) == ("allow", "supervisor")
    both = decide("ApproveRefund", ("agent", "supervisor"), requested_by="p-2",
                  customer_id="c-1", requires_supervisor=True)
    assert both.details["role"] == "supervisor"  # acts in the role that may


def test_nobody_approves_what_they_requested() -> None:
    own = decide("ApproveRefund", ("supervisor",), principal_id="p-1", requested_by="p-1",
                 customer_id="c-1", requires_supervisor=True)
    assert (own.outcome, own.details["rule"], own.details["hide"]) == (
        "deny", "access.not_requester", False)
    assert decide("ApproveReturn", ("agent",), principal_id="p-1", requested_by="p-1",
                  customer_id="c-1").outcome == "deny"
    assert decide("ApproveReturn", ("agent",), principal_id="p-1", requested_by="p-10",
                  customer_id="c-1").outcome == "allow"


def test_nobody_approves_or_requests_a_refund_paid_to_themselves() -> None:
    for operation in ("ApproveRefund", "RequestRefund", "ApproveReturn"):
        facts = {"requested_by": "p-2", "requires_supervisor": True}
        paid_to_me = decide(operation, ("supervisor", "customer"), bound_to="c-1",
                            customer_id="c-1", **facts)
        assert (paid_to_me.outcome, paid_to_me.details["rule"]) == (
            "deny", "access.not_beneficiary")
        someone_else = decide(operation, ("supervisor", "customer"), bound_to="c-1",
                              customer_id="c-10", **facts)
        assert (someone_else.outcome, someone_else.details["role"]) == ("allow", "supervisor")
        unbound = decide(operation, ("supervisor",), customer_id="c-1", **facts)
        assert unbound.outcome == "allow"


def test_a_customer_and_someone_elses_case_reads_as_not_found() -> None:
    theirs = decide("CancelReturn", ("customer",), bound_to="c-1", customer_id="c-2")
    assert (theirs.outcome, theirs.details["rule"], theirs.details["hide"]) == (
        "deny", "access.own", True)
    for similar in ("C-1", "c-1 ", "c-10", ""):
        decision = decide("CancelReturn", ("customer",), bound_to="c-1", customer_id=similar)
        assert decision.outcome == "deny"  # ids are compared exactly, never loosely


def test_a_missing_fact_denies() -> None:
    assert decide("CancelReturn", ("customer",), bound_to="c-1").outcome == "deny"
    assert decide("ApproveRefund", ("agent",), requested_by="p-2",
                  customer_id="c-1").outcome == "deny"  # requires_supervisor unknown


def test_a_disabled_principal_may_do_nothing() -> None:
    decision = decide("ReadCase", ("auditor",), enabled=False)
    assert (decision.outcome, decision.details["rule"]) == ("deny", "access.disabled")


def test_customers_read_only_their_own_rows_of_customer_tables() -> None:
    own = decide("QueryProjection", ("customer",), bound_to="c-1", table="cases")
    assert (own.outcome, own.details["rows"]) == ("allow", "own")
    assert decide("QueryProjection", ("customer",), bound_to="c-1",
                  table="decisions").outcome == "deny"
    assert decide("QueryProjection", ("agent",), table="decisions").details["rows"] == "all"


@given(
    operation=st.sampled_from([*sorted(ACCESS_V1.operations), "Nope"]),
    roles=st.lists(st.sampled_from(ROLES), max_size=3, unique=True),
    customer=st.sampled_from([None, "c-1", "c-2"]),
    fact_customer=st.sampled_from([None, "c-1", "c-2"]),
    requester=st.sampled_from(["p-1", "p-2"]),
    requires_supervisor=st.booleans(),
    direction=st.sampled_from(["in", "out", "return", "outbound"]),
    enabled=st.booleans(),
)
def test_every_decision_is_recorded_whole_and_gives_the_same_on_a_rerun(
    operation: str, roles: list[str], customer: str | None, fact_customer: str | None,
    requester: str, requires_supervisor: bool, direction: str, enabled: bool,
) -> None:
    decision = decide(operation, tuple(roles), bound_to=customer, enabled=enabled,
                      customer_id=fact_customer, requested_by=requester,
                      requires_supervisor=requires_supervisor, direction=direction,
                      table="cases")
    assert decision.outcome in ("allow", "deny") and decision.reasons
    assert rerun(decision).same_result_as(decision)
    if decision.outcome == "allow":
        assert enabled and decision.details["role"] in roles
        assert operation in ACCESS_V1.operations
    elif not enabled or not set(roles) & set(roles_for(operation)):
        assert not decision.details["hide"]
    if decision.details["hide"]:  # only a customer, and an object not theirs, reads as missing
        assert "customer" in roles
        assert fact_customer is None or customer is None or fact_customer != customer
