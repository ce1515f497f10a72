"""RefundCase lifecycle (SPEC §3.1): calculated, approved by policy or by a supervisor who is not
the requester, issued with the refund id as idempotency key, settled once or failed and retried."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule

from aftersales_core.domain.refunds import RefundCase, RefundStatus
from aftersales_core.errors import (
    ApprovalRefusedError,
    DomainError,
    IllegalTransitionError,
    SelfApprovalError,
)
from aftersales_core.money import Money
from tests.unit.domain import builders as b
from tests.unit.domain.machines import MACHINE_SETTINGS, CaseMachine, Command, explore

S = RefundStatus
REQUESTER = "agent-7"

# The specification of this test, from SPEC §3.1: requested → calculation decision → approved
# (by policy under a threshold, else by a supervisor) or awaiting approval or rejected →
# issued to the payment provider → settled, or failed → issued again → settled. A desk may still
# withdraw an approved refund before it is issued, or give up on one whose attempts failed;
# once money is with the provider (issued) only the provider's answer moves the case.
ALLOWED: frozenset[tuple[S, S]] = frozenset(
    {
        (S.REQUESTED, S.APPROVED),
        (S.REQUESTED, S.AWAITING_APPROVAL),
        (S.REQUESTED, S.REJECTED),
        (S.AWAITING_APPROVAL, S.APPROVED),
        (S.AWAITING_APPROVAL, S.REJECTED),
        (S.APPROVED, S.ISSUED),
        (S.APPROVED, S.REJECTED),
        (S.ISSUED, S.SETTLED),
        (S.ISSUED, S.FAILED),
        (S.FAILED, S.ISSUED),
        (S.FAILED, S.REJECTED),
    }
)
TERMINAL = frozenset({S.REJECTED, S.SETTLED})

totals = st.sampled_from(["0.00", "0.01", "42.00", "249.99", "250.01", "1999.95"])
approvers = st.sampled_from([REQUESTER, "supervisor-1", "supervisor-2"])


def new_refund(at: datetime = b.T0, requested_by: str = REQUESTER) -> RefundCase:
    return RefundCase(
        id=uuid4(),
        order_id="o-1",
        customer_id="c-1",
        source="return",
        source_case_id=str(uuid4()),
        lines=[{"line_id": "1", "quantity": 1}],
        amount=None,
        reason="damaged",
        by=requested_by,
        role="agent",
        timestamp=at,
    )


class RefundCaseMachine(CaseMachine):
    STATUS = RefundStatus
    ALLOWED = ALLOWED
    TERMINAL = TERMINAL

    @initialize()
    def request(self) -> None:
        self.start(new_refund(self.now))
        self.calculated_total: Money | None = None

    # ---- commands ------------------------------------------------------------------------------
    def do_calculate(self, data: st.DataObject) -> None:
        total = data.draw(totals, "total")
        outcome = (
            "nothing_to_refund"
            if Decimal(total) == 0
            else data.draw(st.sampled_from(["calculated", "capped"]), "calculation")
        )
        approval = data.draw(st.sampled_from(["auto_approve", "needs_supervisor"]), "approval")
        if self.attempt(
            lambda: self.case.calculate(
                b.calculation(total, outcome), b.approval(approval), self.now
            )
        ):
            self.calculated_total = Money.of(total, "EUR")
            expected = (
                S.REJECTED
                if outcome == "nothing_to_refund"
                else S.APPROVED
                if approval == "auto_approve"
                else S.AWAITING_APPROVAL
            )
            assert self.case.status == expected

    def do_approve(self, data: st.DataObject) -> None:
        approver = data.draw(approvers, "approver")
        outcome = data.draw(st.sampled_from(["approve", "approve", "refuse"]), "decision")
        status = self.case.status
        accepted = self.attempt(
            lambda: self.case.approve(
                b.who(approver), b.decision("refund.approval", outcome), self.now
            )
        )
        if status == S.AWAITING_APPROVAL and approver == REQUESTER:
            assert isinstance(self.last_error, SelfApprovalError)
        if accepted:
            assert self.case.approved_by == approver

    def do_reject(self, data: st.DataObject) -> None:
        by = data.draw(approvers, "by")
        self.attempt(lambda: self.case.reject(b.who(by), "not justified", self.now))

    def do_issue(self, data: st.DataObject) -> None:
        by = data.draw(st.sampled_from(["agent-1", "payments-bot"]), "by")
        self.attempt(lambda: self.case.issue(b.who(by), self.now))

    def do_fail(self, data: st.DataObject) -> None:
        error = data.draw(st.sampled_from(["timeout", "card expired", ""]), "error")
        self.attempt(lambda: self.case.fail(error, b.PAYMENTS, self.now))

    def do_settle(self, data: st.DataObject) -> None:
        ref = data.draw(st.sampled_from(["psp-123", "psp-456", "", "   "]), "provider ref")
        if self.attempt(lambda: self.case.settle(ref, b.PAYMENTS, self.now)):
            assert ref.strip() and self.case.provider_ref == ref

    # ---- rules -------------------------------------------------------------------------------
    @precondition(lambda self: self.case.status == S.REQUESTED)
    @rule(data=st.data())
    def calculate(self, data: st.DataObject) -> None:
        self.do_calculate(data)

    @precondition(lambda self: self.case.status == S.AWAITING_APPROVAL)
    @rule(data=st.data())
    def approve(self, data: st.DataObject) -> None:
        self.do_approve(data)

    @precondition(lambda self: self.case.status in (S.APPROVED, S.FAILED))
    @rule(data=st.data())
    def issue(self, data: st.DataObject) -> None:
        self.do_issue(data)

    @precondition(lambda self: self.case.status == S.ISSUED)
    @rule(data=st.data())
    def fail(self, data: st.DataObject) -> None:
        self.do_fail(data)

    @precondition(lambda self: self.case.status == S.ISSUED)
    @rule(data=st.data())
    def settle(self, data: st.DataObject) -> None:
        self.do_settle(data)

    @rule(
        name=st.sampled_from(["calculate", "approve", "reject", "issue", "fail", "settle"]),
        data=st.data(),
    )
    def any_command_in_any_status(self, name: str, data: st.DataObject) -> None:
        getattr(self, f"do_{name}")(data)

    @rule(
        action=st.sampled_from(["approve", "reject", "issue", "fail", "settle"]),
        naive=st.booleans(),
    )
    def a_command_dated_before_the_last_change_or_without_offset_is_refused(
        self, action: str, naive: bool
    ) -> None:
        at = self.now.replace(tzinfo=None) + timedelta(days=1) if naive else self.in_the_past()
        commands = {
            "approve": lambda: self.case.approve(b.SUPERVISOR, b.approval("approve"), at),
            "reject": lambda: self.case.reject(b.SUPERVISOR, "no", at),
            "issue": lambda: self.case.issue(b.AGENT, at),
            "fail": lambda: self.case.fail("timeout", b.PAYMENTS, at),
            "settle": lambda: self.case.settle("psp-1", b.PAYMENTS, at),
        }
        assert not self.attempt(commands[action])

    # ---- invariants of refunds -------------------------------------------------------------
    @invariant()
    def a_refund_is_settled_at_most_once_and_never_issued_after(self) -> None:
        kinds = [type(e) for e in self.events]
        assert kinds.count(RefundCase.Settled) <= 1
        if RefundCase.Settled in kinds:
            settled_at = kinds.index(RefundCase.Settled)
            assert RefundCase.Issued not in kinds[settled_at:]
            assert self.case.status == S.SETTLED

    @invariant()
    def issue_attempts_are_numbered_one_two_three_in_order(self) -> None:
        issued = [e for e in self.events if isinstance(e, RefundCase.Issued)]
        assert [e.attempt for e in issued] == list(range(1, len(issued) + 1))
        assert self.case.attempts == len(issued)

    @invariant()
    def every_attempt_carries_the_refund_id_as_idempotency_key(self) -> None:
        assert self.case.idempotency_key == str(self.case.id)
        assert all(
            e.idempotency_key == str(self.case.id)
            for e in self.events
            if isinstance(e, RefundCase.Issued)
        )

    @invariant()
    def each_failure_is_followed_by_a_retry_or_is_the_last_word(self) -> None:
        kinds = [type(e) for e in self.events]
        failed = [i for i, k in enumerate(kinds) if k is RefundCase.Failed]
        assert len(self.case.failures) == len(failed)
        for i in failed:
            assert kinds[i - 1] is RefundCase.Issued

    @invariant()
    def the_requester_never_approves_their_own_refund(self) -> None:
        assert self.case.approved_by != REQUESTER
        if self.case.approved_by is not None:
            assert self.case.approved_by == "policy" or any(
                isinstance(e, RefundCase.DecisionRecorded)
                and e.decision.policy_id == "refund.approval"
                and e.decision.outcome == "approve"
                for e in self.events
            )

    @invariant()
    def the_amount_is_the_calculated_total(self) -> None:
        assert self.case.amount == self.calculated_total
        assert (self.case.provider_ref is not None) == (self.case.status == S.SETTLED)


TestRefundCaseStateMachine = RefundCaseMachine.TestCase
TestRefundCaseStateMachine.settings = MACHINE_SETTINGS


# ---- paths a desk walks ----------------------------------------------------------------------


def at(hours: int) -> datetime:
    return b.T0 + timedelta(hours=hours)


def test_a_refund_under_the_threshold_is_approved_by_policy_and_settles() -> None:
    refund = new_refund()
    refund.calculate(b.calculation("42.00"), b.approval("auto_approve"), at(0))
    assert refund.status == S.APPROVED and refund.approved_by == "policy"
    assert refund.amount == Money.of("42.00", "EUR")
    assert refund.components == {"items": "42.00"}
    refund.issue(b.PAYMENTS, at(1))
    refund.settle("psp-123", b.PAYMENTS, at(2))
    assert (refund.status, refund.provider_ref, refund.attempts) == (S.SETTLED, "psp-123", 1)


def test_a_refund_above_the_threshold_waits_for_a_supervisor() -> None:
    refund = new_refund()
    refund.calculate(
        b.calculation("300.00"),
        b.decision("refund.approval", "needs_supervisor", reasons=("above 250.00 EUR",)),
        at(0),
    )
    assert refund.status == S.AWAITING_APPROVAL
    waiting = refund.collect_events()[-1]
    assert isinstance(waiting, RefundCase.AwaitingApproval)
    assert waiting.reasons == ["above 250.00 EUR"]
    refund.approve(b.SUPERVISOR, b.approval("approve"), at(1))
    assert (refund.status, refund.approved_by) == (S.APPROVED, "supervisor-1")


def test_the_requester_may_not_approve_their_own_refund() -> None:
    refund = new_refund()
    refund.calculate(b.calculation("300.00"), b.approval("needs_supervisor"), at(0))
    refund.collect_events()
    with pytest.raises(SelfApprovalError):
        refund.approve(b.who(REQUESTER), b.approval("approve"), at(1))
    assert refund.status == S.AWAITING_APPROVAL and not refund.pending_events


def test_an_approval_decision_that_refuses_does_not_approve() -> None:
    refund = new_refund()
    refund.calculate(b.calculation("300.00"), b.approval("needs_supervisor"), at(0))
    with pytest.raises(ApprovalRefusedError, match="an agent may not"):  # a refusal: exit 1
        refund.approve(
            b.who("agent-2", "agent"),
            b.decision("refund.approval", "refuse", reasons=("an agent may not approve",)),
            at(1),
        )
    assert refund.status == S.AWAITING_APPROVAL


def test_a_failed_refund_is_retried_with_the_same_idempotency_key_then_settles_once() -> None:
    refund = new_refund()
    refund.calculate(b.calculation("42.00"), b.approval("auto_approve"), at(0))
    refund.issue(b.PAYMENTS, at(1))
    refund.fail("timeout", b.PAYMENTS, at(2))
    refund.issue(b.PAYMENTS, at(3))
    refund.fail("card expired", b.PAYMENTS, at(4))
    refund.issue(b.PAYMENTS, at(5))
    refund.settle("psp-9", b.PAYMENTS, at(6))
    issued = [e for e in refund.collect_events() if isinstance(e, RefundCase.Issued)]
    assert [(e.attempt, e.idempotency_key) for e in issued] == [
        (n, str(refund.id)) for n in (1, 2, 3)
    ]
    assert refund.failures == ["timeout", "card expired"]
    for late in (
        lambda: refund.issue(b.PAYMENTS, at(7)),
        lambda: refund.settle("psp-9", b.PAYMENTS, at(7)),
        lambda: refund.fail("late", b.PAYMENTS, at(7)),
    ):
        with pytest.raises(IllegalTransitionError):
            late()


def test_nothing_to_refund_is_rejected_by_policy() -> None:
    refund = new_refund()
    refund.calculate(b.calculation("0.00", "nothing_to_refund"), None, at(0))
    assert refund.status == S.REJECTED
    assert [d.policy_id for d in refund.decisions] == ["refund.calculation"]  # no approval
    with pytest.raises(IllegalTransitionError):
        refund.issue(b.PAYMENTS, at(1))


@pytest.mark.parametrize(("total", "currency"), [("12.5x", "EUR"), ("12.50", "XXX")])
def test_a_calculation_with_an_invalid_total_is_refused_without_recording_anything(
    total: str, currency: str
) -> None:
    refund = new_refund()
    refund.collect_events()
    with pytest.raises(DomainError):
        refund.calculate(b.calculation(total, currency=currency), b.approval("auto_approve"), at(0))
    assert refund.version == 1
    assert refund.pending_events == []
    assert refund.decisions == []


EXPLORE: dict[str, Command] = {
    **{
        f"calculate {t}/{a}": (
            lambda c, w, t=t, a=a: c.calculate(
                b.calculation(t, "nothing_to_refund" if t == "0.00" else "calculated"),
                b.approval(a),
                w,
            )
        )
        for t in ("0.00", "42.00")
        for a in ("auto_approve", "needs_supervisor")
    },
    "approve": lambda c, t: c.approve(b.SUPERVISOR, b.approval("approve"), t),
    "self-approve": lambda c, t: c.approve(b.who(REQUESTER), b.approval("approve"), t),
    "reject": lambda c, t: c.reject(b.SUPERVISOR, "no", t),
    "issue": lambda c, t: c.issue(b.PAYMENTS, t),
    "fail": lambda c, t: c.fail("timeout", b.PAYMENTS, t),
    "settle": lambda c, t: c.settle("psp-1", b.PAYMENTS, t),
}


def test_exhaustive_exploration_takes_exactly_the_allowed_transitions() -> None:
    assert explore(new_refund(), EXPLORE, key=lambda c: c.status) == ALLOWED
