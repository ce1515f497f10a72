"""ComplaintCase lifecycle (SPEC §3.1): filed, triaged, acknowledged, messages both ways, a
resolution proposed and answered, escalated, resolved, closed with a 1 to 5 score, reopened."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule

from aftersales_core.domain.complaints import (
    ESCALATION_LEVELS,
    REFUNDS,
    RESOLUTIONS,
    ComplaintCase,
    ComplaintStatus,
)
from aftersales_core.errors import (
    DomainError,
    IllegalTransitionError,
    InvalidCommandError,
    RefundCapExceededError,
)
from aftersales_core.money import Money
from aftersales_core.personal import PersonalData
from tests.unit.domain import builders as b
from tests.unit.domain.machines import MACHINE_SETTINGS, CaseMachine, Command, explore

S = ComplaintStatus

# The specification of this test, from SPEC §3.1: filed → triage decision (open) →
# acknowledged (first response) → messages on any channel → resolution proposed → accepted, or
# declined (back to work) → escalated → resolved → closed with satisfaction 1 to 5 → reopened.
# An agent may propose, escalate or resolve while the case is being worked, acknowledged or not.
WORKED = (S.OPEN, S.ACKNOWLEDGED, S.ESCALATED, S.REOPENED)
ALLOWED: frozenset[tuple[S, S]] = frozenset(
    {
        (S.FILED, S.OPEN),
        (S.OPEN, S.ACKNOWLEDGED),
        (S.REOPENED, S.ACKNOWLEDGED),
        *((s, S.PROPOSED) for s in WORKED),
        (S.PROPOSED, S.ACCEPTED),
        (S.PROPOSED, S.ACKNOWLEDGED),
        *((s, S.ESCALATED) for s in (*WORKED, S.PROPOSED, S.ACCEPTED) if s != S.ESCALATED),
        *((s, S.RESOLVED) for s in (*WORKED, S.PROPOSED, S.ACCEPTED)),
        (S.RESOLVED, S.CLOSED),
        (S.RESOLVED, S.REOPENED),
        (S.CLOSED, S.REOPENED),
    }
)

texts = st.text(max_size=30)
agents = st.sampled_from(["agent-1", "agent-2", "supervisor-1"])


def new_complaint(at: datetime = b.T0, channel: str = "email") -> ComplaintCase:
    return ComplaintCase(
        id=uuid4(),
        customer_id="c-1",
        order_id="o-1",
        channel=channel,
        category="damaged",
        description=PersonalData("c-1", "the lamp arrived broken"),
        by="c-1",
        role="customer",
        proactive=False,
        timestamp=at,
    )


class ComplaintCaseMachine(CaseMachine):
    STATUS = ComplaintStatus
    ALLOWED = ALLOWED
    TERMINAL = frozenset()  # a closed complaint can be reopened (checked below)

    @initialize(channel=st.sampled_from(["chat", "phone", "email", "platform", "social"]))
    def file(self, channel: str) -> None:
        self.start(new_complaint(self.now, channel))

    def attempt(self, action: Callable[[], object]) -> bool:
        status = self.case.status
        accepted = super().attempt(action)
        if accepted and status == S.CLOSED:
            assert self.case.status == S.REOPENED, "a closed complaint accepted a command"
        return accepted

    # ---- commands ------------------------------------------------------------------------------
    def do_triage(self, data: st.DataObject) -> None:
        priority = data.draw(st.sampled_from(["low", "normal", "high", "urgent"]), "priority")
        if self.attempt(lambda: self.case.triage(b.triage(priority), self.now)):
            assert self.case.priority == priority

    def do_acknowledge(self, data: st.DataObject) -> None:
        message = data.draw(st.none() | texts.map(lambda t: PersonalData("c-1", t)), "message")
        agent = data.draw(agents, "agent")
        self.attempt(lambda: self.case.acknowledge(b.who(agent), message, self.now))

    def do_add_message(self, data: st.DataObject) -> None:
        direction = data.draw(st.sampled_from(["in", "out", "out", "sideways"]), "direction")
        text = PersonalData("c-1", data.draw(texts, "text"))
        count = len(self.case.messages)
        if self.attempt(
            lambda: self.case.add_message(
                direction, "chat", b.who("someone", "agent"), text, self.now
            )
        ):
            assert direction in ("in", "out") and len(self.case.messages) == count + 1

    def do_propose(self, data: st.DataObject) -> None:
        resolution = data.draw(st.sampled_from([*RESOLUTIONS, "voucher"]), "resolution")
        amount = data.draw(
            st.none()
            | st.sampled_from(["-1.00", "0.00", "15.00"]).map(lambda a: Money.of(a, "EUR")),
            "amount",
        )
        if self.attempt(lambda: self.case.propose(b.AGENT, resolution, amount, None, self.now)):
            assert resolution in RESOLUTIONS
            assert self.case.proposal == {"resolution": resolution, "amount": amount, "note": None}
            # only a refund carries an amount, and it pays something
            assert (amount is not None) == (resolution in REFUNDS)
            assert amount is None or not (amount.is_zero() or amount.is_negative())

    def do_respond(self, data: st.DataObject) -> None:
        accepted = data.draw(st.booleans(), "accepted")
        self.attempt(lambda: self.case.respond(accepted, b.CUSTOMER, self.now))

    def do_escalate(self, data: st.DataObject) -> None:
        level = data.draw(st.sampled_from([*ESCALATION_LEVELS, "ceo"]), "level")
        before = list(self.case.escalations)
        status = self.case.status
        if self.attempt(lambda: self.case.escalate(b.AGENT, level, "angry", self.now)):
            assert self.case.escalations[-1] == level
            assert all(ESCALATION_LEVELS.index(level) > ESCALATION_LEVELS.index(e) for e in before)
        elif level in ESCALATION_LEVELS and status in (*WORKED, S.PROPOSED, S.ACCEPTED):
            assert before, "a first escalation to a known level was refused"
            highest = max(before, key=ESCALATION_LEVELS.index)
            assert type(self.last_error) is DomainError
            assert f"already escalated to {highest}" in str(self.last_error)

    def do_resolve(self, data: st.DataObject) -> None:
        refund = data.draw(st.none() | st.just(str(uuid4())), "refund case")
        self.attempt(lambda: self.case.resolve(b.AGENT, "refunded", refund, self.now))

    def do_close(self, data: st.DataObject) -> None:
        score = data.draw(st.none() | st.integers(min_value=-2, max_value=8), "satisfaction")
        by = data.draw(agents, "by")
        status = self.case.status
        if self.attempt(lambda: self.case.close(b.who(by), score, self.now)):
            assert self.case.satisfaction == score
        elif status == S.RESOLVED:
            assert score is not None and not 1 <= score <= 5
            assert isinstance(self.last_error, InvalidCommandError)

    def do_reopen(self, data: st.DataObject) -> None:
        if self.attempt(lambda: self.case.reopen(b.CUSTOMER, "still broken", self.now)):
            assert self.case.resolution is None and self.case.satisfaction is None

    # ---- rules -------------------------------------------------------------------------------
    @precondition(lambda self: self.case.status in (S.FILED, S.REOPENED))
    @rule(data=st.data())
    def triage(self, data: st.DataObject) -> None:
        self.do_triage(data)

    @precondition(lambda self: self.case.status in WORKED)
    @rule(data=st.data())
    def acknowledge(self, data: st.DataObject) -> None:
        self.do_acknowledge(data)

    @precondition(lambda self: self.case.status in (*WORKED, S.PROPOSED, S.ACCEPTED))
    @rule(data=st.data())
    def add_message(self, data: st.DataObject) -> None:
        self.do_add_message(data)

    @precondition(lambda self: self.case.status in WORKED)
    @rule(data=st.data())
    def propose(self, data: st.DataObject) -> None:
        self.do_propose(data)

    @precondition(lambda self: self.case.status == S.PROPOSED)
    @rule(data=st.data())
    def respond(self, data: st.DataObject) -> None:
        self.do_respond(data)

    @precondition(lambda self: self.case.status in (*WORKED, S.PROPOSED, S.ACCEPTED))
    @rule(data=st.data())
    def resolve(self, data: st.DataObject) -> None:
        self.do_resolve(data)

    @precondition(lambda self: self.case.status == S.RESOLVED)
    @rule(data=st.data())
    def close(self, data: st.DataObject) -> None:
        self.do_close(data)

    @rule(
        name=st.sampled_from(
            [
                "triage",
                "acknowledge",
                "add_message",
                "propose",
                "respond",
                "escalate",
                "resolve",
                "close",
                "reopen",
            ]
        ),
        data=st.data(),
    )
    def any_command_in_any_status(self, name: str, data: st.DataObject) -> None:
        getattr(self, f"do_{name}")(data)

    @rule(
        action=st.sampled_from(
            [
                "acknowledge",
                "add_message",
                "propose",
                "respond",
                "escalate",
                "resolve",
                "close",
                "reopen",
            ]
        ),
        naive=st.booleans(),
    )
    def a_command_dated_before_the_last_change_or_without_offset_is_refused(
        self, action: str, naive: bool
    ) -> None:
        at = self.now.replace(tzinfo=None) + timedelta(days=1) if naive else self.in_the_past()
        text = PersonalData("c-1", "hello")
        commands = {
            "acknowledge": lambda: self.case.acknowledge(b.AGENT, None, at),
            "add_message": lambda: self.case.add_message("in", "chat", b.CUSTOMER, text, at),
            "propose": lambda: self.case.propose(b.AGENT, "apology", None, None, at),
            "respond": lambda: self.case.respond(True, b.CUSTOMER, at),
            "escalate": lambda: self.case.escalate(b.AGENT, "supervisor", "why", at),
            "resolve": lambda: self.case.resolve(b.AGENT, "done", None, at),
            "close": lambda: self.case.close(b.AGENT, 5, at),
            "reopen": lambda: self.case.reopen(b.CUSTOMER, "again", at),
        }
        assert not self.attempt(commands[action])

    # ---- invariants of complaints ----------------------------------------------------------
    @invariant()
    def satisfaction_is_absent_or_one_to_five(self) -> None:
        score = self.case.satisfaction
        assert score is None or 1 <= score <= 5
        if self.case.status != S.CLOSED:
            assert score is None

    @invariant()
    def a_proposal_exists_while_one_is_pending_or_accepted(self) -> None:
        if self.case.status in (S.PROPOSED, S.ACCEPTED):
            assert self.case.proposal is not None
            amount = self.case.proposal["amount"]
            assert amount is None or not amount.is_negative()
            if self.case.proposal["resolution"] in ("refund", "partial_refund"):
                assert amount is not None

    @invariant()
    def a_case_that_answered_the_customer_is_acknowledged(self) -> None:
        answered = any(
            isinstance(e, ComplaintCase.Acknowledged)
            or (isinstance(e, ComplaintCase.MessageAdded) and e.direction == "out")
            for e in self.events
        )
        assert (self.case.acknowledged_at is not None) == answered

    @invariant()
    def every_escalation_names_a_known_level_and_climbs_the_ladder(self) -> None:
        assert set(self.case.escalations) <= set(ESCALATION_LEVELS)
        ranks = [ESCALATION_LEVELS.index(level) for level in self.case.escalations]
        assert ranks == sorted(set(ranks))
        escalated = [e for e in self.events if isinstance(e, ComplaintCase.Escalated)]
        assert len(self.case.escalations) == len(escalated)

    @invariant()
    def reopenings_are_counted(self) -> None:
        assert self.case.reopened == sum(to == S.REOPENED for _, to in self.transitions)


TestComplaintCaseStateMachine = ComplaintCaseMachine.TestCase
TestComplaintCaseStateMachine.settings = MACHINE_SETTINGS


# ---- paths a desk walks ----------------------------------------------------------------------


def at(hours: int) -> datetime:
    return b.T0 + timedelta(hours=hours)


def worked_complaint() -> ComplaintCase:
    case = new_complaint()
    case.triage(b.triage("high"), at(0))
    case.acknowledge(b.AGENT, PersonalData("c-1", "sorry to hear that"), at(1))
    return case


def test_a_complaint_is_triaged_acknowledged_resolved_closed_and_reopened() -> None:
    case = worked_complaint()
    assert (case.status, case.priority, case.acknowledged_at) == (S.ACKNOWLEDGED, "high", at(1))
    case.add_message("in", "chat", b.CUSTOMER, PersonalData("c-1", "photo attached"), at(2))
    case.propose(b.AGENT, "partial_refund", Money.of("15.00", "EUR"), "for the trouble", at(3))
    case.respond(True, b.CUSTOMER, at(4))
    case.resolve(b.AGENT, "partial refund agreed", str(uuid4()), at(5))
    assert case.resolution is not None
    assert case.resolution["proposal"]["amount"] == Money.of("15.00", "EUR")
    case.close(b.AGENT, 4, at(6))
    assert (case.status, case.satisfaction) == (S.CLOSED, 4)
    case.reopen(b.CUSTOMER, "it broke again", at(7))
    assert (case.status, case.reopened, case.satisfaction) == (S.REOPENED, 1, None)
    case.triage(b.triage("urgent"), at(7))
    assert (case.status, case.priority) == (S.REOPENED, "urgent")


@pytest.mark.parametrize("score", [0, 6, -1, 10])
def test_a_satisfaction_score_outside_one_to_five_is_refused(score: int) -> None:
    case = worked_complaint()
    case.resolve(b.AGENT, "done", None, at(2))
    case.collect_events()
    with pytest.raises(InvalidCommandError, match="satisfaction"):
        case.close(b.AGENT, score, at(3))
    assert case.status == S.RESOLVED and not case.pending_events


@pytest.mark.parametrize("score", [1, 2, 3, 4, 5, None])
def test_a_satisfaction_score_of_one_to_five_or_none_closes_the_case(score: int | None) -> None:
    case = worked_complaint()
    case.resolve(b.AGENT, "done", None, at(2))
    case.close(b.AGENT, score, at(3))
    assert (case.status, case.satisfaction) == (S.CLOSED, score)


def test_a_declined_proposal_puts_the_complaint_back_to_work() -> None:
    case = worked_complaint()
    case.propose(b.AGENT, "coupon", None, None, at(2))
    case.respond(False, b.CUSTOMER, at(3))
    assert (case.status, case.proposal) == (S.ACKNOWLEDGED, None)


def test_a_refund_proposal_needs_a_non_negative_amount() -> None:
    case = worked_complaint()
    with pytest.raises(InvalidCommandError):
        case.propose(b.AGENT, "refund", None, None, at(2))
    with pytest.raises(InvalidCommandError):
        case.propose(b.AGENT, "apology", Money.of("-1.00", "EUR"), None, at(2))


@pytest.mark.parametrize("resolution", ["refund", "partial_refund"])
@pytest.mark.parametrize("amount", ["0.00", "-5.00"])
def test_a_refund_proposal_that_pays_nothing_is_invalid(resolution: str, amount: str) -> None:
    case = worked_complaint()
    case.collect_events()
    with pytest.raises(InvalidCommandError, match=r"^amount: .*more than nothing"):
        case.propose(b.AGENT, resolution, Money.of(amount, "EUR"), None, at(2))
    assert case.status == S.ACKNOWLEDGED and not case.pending_events


@pytest.mark.parametrize("resolution", ["apology", "coupon", "reship"])
def test_a_proposal_that_is_not_a_refund_carries_no_amount(resolution: str) -> None:
    case = worked_complaint()
    with pytest.raises(InvalidCommandError, match=f"^amount: a {resolution} proposal has no"):
        case.propose(b.AGENT, resolution, Money.of("10.00", "EUR"), None, at(2))
    case.propose(b.AGENT, resolution, None, None, at(2))
    assert case.proposal == {"resolution": resolution, "amount": None, "note": None}


@pytest.mark.parametrize(("amount", "left", "ok"), [
    ("100.00", "100.00", True), ("100.01", "100.00", False), ("150.00", "100.00", False),
    ("0.01", "0.00", False),
])
def test_a_refund_proposal_pays_no_more_than_is_left_to_refund(
    amount: str, left: str, ok: bool
) -> None:
    case = worked_complaint()
    propose = lambda: case.propose(  # noqa: E731
        b.AGENT, "partial_refund", Money.of(amount, "EUR"), None, at(2),
        refundable=Money.of(left, "EUR"))
    if ok:
        propose()
        assert case.status == S.PROPOSED
    else:
        with pytest.raises(RefundCapExceededError, match=rf"what is left to refund .*{left}"):
            propose()
        assert case.status == S.ACKNOWLEDGED


def test_an_escalation_climbs_the_ladder_and_may_skip_a_step() -> None:
    case = worked_complaint()
    case.escalate(b.AGENT, "platform_arbitration", "no answer", at(2))
    for level in ("supervisor", "platform_arbitration"):
        with pytest.raises(DomainError, match="already escalated to platform_arbitration"):
            case.escalate(b.AGENT, level, "again", at(3))
    case.escalate(b.AGENT, "regulator", "still no answer", at(3))
    assert case.escalations == ["platform_arbitration", "regulator"]
    with pytest.raises(DomainError, match="already escalated to regulator"):
        case.escalate(b.AGENT, "regulator", "again", at(4))


def test_a_reopened_complaint_climbs_on_from_where_it_was() -> None:
    case = worked_complaint()
    case.escalate(b.AGENT, "supervisor", "no answer", at(2))
    case.resolve(b.AGENT, "done", None, at(3))
    case.reopen(b.CUSTOMER, "broke again", at(4))
    case.triage(b.triage(), at(4))
    with pytest.raises(DomainError, match="already escalated to supervisor"):
        case.escalate(b.AGENT, "supervisor", "again", at(5))
    case.escalate(b.AGENT, "platform_arbitration", "again", at(5))


def test_a_filed_complaint_must_be_triaged_before_anything_else() -> None:
    case = new_complaint()
    for command in (
        lambda: case.acknowledge(b.AGENT, None, at(1)),
        lambda: case.escalate(b.AGENT, "supervisor", "x", at(1)),
        lambda: case.resolve(b.AGENT, "x", None, at(1)),
    ):
        with pytest.raises(IllegalTransitionError):
            command()


def test_a_complaint_first_answered_by_a_message_can_still_be_acknowledged() -> None:
    case = new_complaint()
    case.triage(b.triage(), at(0))
    case.add_message("out", "email", b.AGENT, PersonalData("c-1", "we are on it"), at(1))
    if case.status != S.ACKNOWLEDGED:
        case.acknowledge(b.AGENT, None, at(2))
    assert case.status == S.ACKNOWLEDGED


EXPLORE: dict[str, Command] = {
    "triage": lambda c, t: c.triage(b.triage(), t),
    "acknowledge": lambda c, t: c.acknowledge(b.AGENT, None, t),
    "message in": lambda c, t: c.add_message("in", "chat", b.CUSTOMER, PersonalData("c-1", "x"), t),
    "message out": lambda c, t: c.add_message("out", "chat", b.AGENT, PersonalData("c-1", "x"), t),
    "propose": lambda c, t: c.propose(b.AGENT, "coupon", None, None, t),
    "accept": lambda c, t: c.respond(True, b.CUSTOMER, t),
    "decline": lambda c, t: c.respond(False, b.CUSTOMER, t),
    "escalate": lambda c, t: c.escalate(b.AGENT, "supervisor", "x", t),
    "resolve": lambda c, t: c.resolve(b.AGENT, "done", None, t),
    "close": lambda c, t: c.close(b.AGENT, 5, t),
    "reopen": lambda c, t: c.reopen(b.CUSTOMER, "again", t),
}


def test_exhaustive_exploration_takes_exactly_the_allowed_transitions() -> None:
    reached = explore(new_complaint(), EXPLORE, key=lambda c: (c.status, c.acknowledged_at is None))
    assert reached == ALLOWED
