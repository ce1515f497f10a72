"""ReturnCase lifecycle (SPEC §3.1): a state machine over every command, and the paths a desk
walks every day."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID, uuid4

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule

from aftersales_core.decisions import PolicyDecision
from aftersales_core.domain.return_status import GRADES
from aftersales_core.domain.returns import ReturnCase, ReturnStatus
from aftersales_core.errors import DomainError, IllegalTransitionError
from aftersales_core.money import Money
from aftersales_core.personal import PersonalData
from tests.unit.domain import builders as b
from tests.unit.domain.machines import MACHINE_SETTINGS, CaseMachine, Command, explore

S = ReturnStatus

# The specification of this test, written from SPEC §3.1: requested → eligibility decision →
# approved / rejected / pending review → label issued or returnless → shipped back → received →
# inspected (with a disposition) → resolved → closed; cancelled by the customer before the goods
# travel; expired when not shipped back in time. Goods may reach the warehouse before any
# "shipped back" scan (received straight from approved or label issued).
ALLOWED: frozenset[tuple[S, S]] = frozenset(
    {
        (S.REQUESTED, S.APPROVED),
        (S.REQUESTED, S.PENDING_REVIEW),
        (S.REQUESTED, S.REJECTED),
        (S.REQUESTED, S.CANCELLED),
        (S.PENDING_REVIEW, S.APPROVED),
        (S.PENDING_REVIEW, S.REJECTED),
        (S.PENDING_REVIEW, S.CANCELLED),
        (S.APPROVED, S.LABEL_ISSUED),
        (S.APPROVED, S.SHIPPED_BACK),
        (S.APPROVED, S.RECEIVED),
        (S.APPROVED, S.RESOLVED),  # returnless: the buyer keeps the item
        (S.APPROVED, S.CANCELLED),
        (S.APPROVED, S.EXPIRED),
        (S.LABEL_ISSUED, S.SHIPPED_BACK),
        (S.LABEL_ISSUED, S.RECEIVED),
        (S.LABEL_ISSUED, S.CANCELLED),
        (S.LABEL_ISSUED, S.EXPIRED),
        (S.SHIPPED_BACK, S.RECEIVED),
        (S.RECEIVED, S.INSPECTED),
        (S.INSPECTED, S.RESOLVED),
        (S.RESOLVED, S.CLOSED),
        # the refund that resolved it rejected: back to where it was resolved from, its
        # refund owed again (returnless, goods inspected, or a failed repair's remedy)
        (S.RESOLVED, S.APPROVED),
        (S.RESOLVED, S.INSPECTED),
        (S.RESOLVED, S.REPAIR_FAILED),
        (S.RESOLVED, S.IN_REPAIR),  # resolved by repair: the goods go to the repairer
        (S.IN_REPAIR, S.DIAGNOSED),
        (S.DIAGNOSED, S.REPAIRED),
        (S.DIAGNOSED, S.REPAIR_FAILED),  # not repairable, or the repair did not work
        (S.REPAIRED, S.REPAIR_SHIPPED),
        (S.REPAIR_SHIPPED, S.REPAIR_FAILED),  # the fault came back
        (S.REPAIR_SHIPPED, S.CLOSED),
        (S.REPAIR_FAILED, S.IN_REPAIR),  # another repair, where the ladder allows it
        (S.REPAIR_FAILED, S.RESOLVED),  # the buyer's remedy: refund, price reduction, exchange
        (S.REJECTED, S.CLOSED),
        (S.CANCELLED, S.CLOSED),
        (S.EXPIRED, S.CLOSED),
    }
)
TERMINAL = frozenset({S.CLOSED})
GOODS_COME_BACK = frozenset({S.LABEL_ISSUED, S.SHIPPED_BACK, S.RECEIVED, S.INSPECTED})

people = st.sampled_from(["agent-1", "agent-2", "supervisor-1", "c"])
payers = st.sampled_from(["merchant", "buyer"])
COMMANDS = [
    "decide",
    "approve",
    "reject",
    "cancel",
    "issue_label",
    "receive",
    "inspect",
    "resolve",
    "close",
    "reopen",
    "send_to_repair",
    "diagnose",
    "complete_repair",
    "ship_repaired",
    "report_repair_failed",
]
REMEDY_SETS = [["repair"], ["refund", "price_reduction"], ["replacement", "refund"],
               ["replacement", "price_reduction", "refund"]]


def remedies(offered: list[str]) -> PolicyDecision:
    outcome = "repair_again" if offered == ["repair"] else "buyer_chooses"
    return b.decision("repair.remedies", outcome, details={"remedies": offered})


def resolve(case: ReturnCase, resolution: str, refund_id: UUID | None, at: datetime) -> None:
    """Resolve as a desk would: an exchange with its replacement and settlement."""
    exchange = {"replacement_sku": "MUG-2", "replacement_unit_price": "20.00"}
    settlement = b.decision("exchange.settlement", "even")
    if resolution == "exchange":
        case.resolve(b.AGENT, resolution, refund_id, None, at, exchange, settlement)
    else:
        case.resolve(b.AGENT, resolution, refund_id, None, at)


def new_case(at: datetime = b.T0, **overrides: object) -> ReturnCase:
    fields: dict[str, object] = dict(
        id=uuid4(),
        order_id="o-1",
        customer_id="c-1",
        lines=[{"line_id": "1", "quantity": 1}],
        reason="damaged",
        wanted_outcome="refund",
        note=PersonalData("c-1", "the handle came off"),
        evidence=[PersonalData("c-1", "https://img.example/1.jpg")],
        channel="web",
        by="c",
        role="customer",
        timestamp=at,
    )
    fields.update(overrides)
    return ReturnCase(**fields)  # type: ignore[arg-type]


class ReturnCaseMachine(CaseMachine):
    STATUS = ReturnStatus
    ALLOWED = ALLOWED
    TERMINAL = TERMINAL

    @initialize(note=st.none() | st.text(max_size=20).map(lambda t: PersonalData("c-1", t)))
    def request(self, note: PersonalData | None) -> None:
        self.start(new_case(self.now, note=note))

    # ---- commands: each draws its own arguments ------------------------------------------------
    def do_decide(self, data: st.DataObject) -> None:
        outcome = data.draw(st.sampled_from(["approve", "review", "reject"]), "eligibility")
        abuse = data.draw(st.sampled_from(["ok", "review"]), "abuse")
        shipping = b.shipping(data.draw(payers, "payer"), data.draw(st.booleans(), "returnless"))
        self.attempt(
            lambda: self.case.decide(b.eligibility(outcome), b.abuse(abuse), shipping, self.now)
        )

    def do_approve(self, data: st.DataObject) -> None:
        by = data.draw(people, "by")
        shipping = b.shipping(data.draw(payers, "payer"), data.draw(st.booleans(), "returnless"))
        self.attempt(lambda: self.case.approve(b.who(by), shipping, self.now))

    def do_reject(self, data: st.DataObject) -> None:
        by = data.draw(people, "by")
        self.attempt(lambda: self.case.reject(b.who(by), "outside the window", self.now))

    def do_cancel(self, data: st.DataObject) -> None:
        by = data.draw(people, "by")
        self.attempt(lambda: self.case.cancel(b.who(by), "changed my mind", self.now))

    def do_issue_label(self, data: st.DataObject) -> None:
        cost = data.draw(st.none() | st.sampled_from(["0.00", "4.90", "12.35"]), "cost")
        money = None if cost is None else Money.of(cost, "EUR")
        self.attempt(lambda: self.case.issue_label(b.AGENT, "DHL", "JD0001", money, self.now))

    def do_receive(self, data: st.DataObject) -> None:
        shipment = data.draw(st.none() | st.just("s-wh"), "shipment")
        # A warehouse scan may carry a time before the case's last change: it is clamped.
        at = self.in_the_past() if data.draw(st.booleans(), "late scan") else self.now
        self.attempt(lambda: self.case.receive(b.WAREHOUSE, shipment, at))

    def do_inspect(self, data: st.DataObject) -> None:
        grade = data.draw(st.sampled_from([*GRADES, *GRADES, "E", "a", ""]), "grade")
        outcome = data.draw(
            st.sampled_from(["restock", "refurbish", "quarantine", "destroy"]), "disposition"
        )
        if self.attempt(
            lambda: self.case.inspect(
                b.WAREHOUSE, grade, "scuffed", b.disposition(outcome), self.now
            )
        ):
            assert self.case.grade == grade and self.case.disposition == outcome

    def do_resolve(self, data: st.DataObject) -> None:
        resolution = data.draw(st.sampled_from(["refund", "exchange", "repair",
                                                "price_reduction"]), "resolution")
        refund_id = uuid4() if data.draw(st.booleans(), "with refund case") else None
        offered = self.case.remedies()
        if self.attempt(lambda: resolve(self.case, resolution, refund_id, self.now)):
            assert resolution not in ("refund", "price_reduction") or \
                self.case.resolution["refund_case_id"]
            if offered:  # a failed repair is resolved only by a remedy the ladder offered
                chosen = {"exchange": "replacement"}.get(resolution, resolution)
                assert chosen in offered and chosen != "repair"

    def do_send_to_repair(self, data: st.DataObject) -> None:
        offered = self.case.remedies()
        if self.attempt(lambda: self.case.send_to_repair(b.AGENT, "FixIt Ltd", self.now)):
            assert not offered or "repair" in offered

    def do_diagnose(self, data: st.DataObject) -> None:
        repairable = data.draw(st.booleans(), "repairable")
        fault = data.draw(st.sampled_from(["hinge", "battery", " "]), "fault")
        self.attempt(lambda: self.case.diagnose(b.WAREHOUSE, fault, repairable, "", self.now))

    def do_complete_repair(self, data: st.DataObject) -> None:
        repaired = data.draw(st.booleans(), "repaired")
        decision = remedies(data.draw(st.sampled_from(REMEDY_SETS), "remedies"))
        given = None if repaired else decision
        if self.attempt(
            lambda: self.case.complete_repair(b.WAREHOUSE, repaired, "", given, self.now)
        ):
            assert repaired or self.case.latest("repair.remedies") == decision
            assert not repaired or self.case.repair.get("repairable") is not False

    def do_ship_repaired(self, data: st.DataObject) -> None:
        self.attempt(lambda: self.case.ship_repaired(b.WAREHOUSE, "DHL", "R-1", self.now))

    def do_report_repair_failed(self, data: st.DataObject) -> None:
        decision = remedies(data.draw(st.sampled_from(REMEDY_SETS), "remedies"))
        self.attempt(
            lambda: self.case.report_repair_failed(b.CUSTOMER, "hinge", decision, self.now)
        )

    def do_reopen(self, data: st.DataObject) -> None:
        """The refund that resolved it was rejected: back to the status it was resolved
        from, only from a resolution by a refund (or a price reduction)."""
        kind, before = (self.case.resolution or {}).get("kind"), self.case.resolved_from
        if self.attempt(lambda: self.case.reopen(b.SUPERVISOR, uuid4(), self.now)):
            assert kind in ("refund", "price_reduction")
            assert self.case.status.value == before and self.case.resolution is None

    def do_close(self, data: st.DataObject) -> None:
        by = data.draw(people, "by")
        self.attempt(lambda: self.case.close(b.who(by), self.now))

    # ---- rules: the forward moves of SPEC §3.1 from each status (so that runs get far), and
    # any command at all in any status (rejections, cancellations and every refusal) ----------
    @precondition(lambda self: self.case.status == S.REQUESTED)
    @rule(data=st.data())
    def decide(self, data: st.DataObject) -> None:
        self.do_decide(data)

    @precondition(lambda self: self.case.status == S.PENDING_REVIEW)
    @rule(data=st.data())
    def approve(self, data: st.DataObject) -> None:
        self.do_approve(data)

    @precondition(lambda self: self.case.status == S.APPROVED)
    @rule(data=st.data())
    def issue_label(self, data: st.DataObject) -> None:
        self.do_issue_label(data)

    @precondition(lambda self: self.case.can_record_shipped())
    @rule(carrier=st.sampled_from(["DHL", "UPS"]))
    def shipped_back(self, carrier: str) -> None:
        assert self.attempt(
            lambda: self.case.shipped_back(
                shipment_id="s-back", carrier=carrier, actor=b.CARRIER, at=self.now
            )
        )

    @precondition(lambda self: self.case.status in (S.APPROVED, S.LABEL_ISSUED, S.SHIPPED_BACK))
    @rule(data=st.data())
    def receive(self, data: st.DataObject) -> None:
        self.do_receive(data)

    @precondition(lambda self: self.case.status == S.RECEIVED)
    @rule(data=st.data())
    def inspect(self, data: st.DataObject) -> None:
        self.do_inspect(data)

    @precondition(lambda self: self.case.status in (S.INSPECTED, S.APPROVED))
    @rule(data=st.data())
    def resolve(self, data: st.DataObject) -> None:
        self.do_resolve(data)

    @precondition(lambda self: self.case.status in (S.RESOLVED, S.REPAIR_SHIPPED))
    @rule(data=st.data())
    def close(self, data: st.DataObject) -> None:
        self.do_close(data)

    @precondition(lambda self: self.case.status == S.RESOLVED)
    @rule(data=st.data())
    def reopen(self, data: st.DataObject) -> None:
        self.do_reopen(data)

    @precondition(lambda self: self.case.status in (S.RESOLVED, S.REPAIR_FAILED))
    @rule(data=st.data())
    def send_to_repair(self, data: st.DataObject) -> None:
        self.do_send_to_repair(data)

    @precondition(lambda self: self.case.status == S.IN_REPAIR)
    @rule(data=st.data())
    def diagnose(self, data: st.DataObject) -> None:
        self.do_diagnose(data)

    @precondition(lambda self: self.case.status == S.DIAGNOSED)
    @rule(data=st.data())
    def complete_repair(self, data: st.DataObject) -> None:
        self.do_complete_repair(data)

    @precondition(lambda self: self.case.status == S.REPAIRED)
    @rule(data=st.data())
    def ship_repaired(self, data: st.DataObject) -> None:
        self.do_ship_repaired(data)

    @precondition(lambda self: self.case.status == S.REPAIR_SHIPPED)
    @rule(data=st.data())
    def report_repair_failed(self, data: st.DataObject) -> None:
        self.do_report_repair_failed(data)

    @precondition(lambda self: self.case.status == S.REPAIR_FAILED)
    @rule(data=st.data())
    def choose_a_remedy(self, data: st.DataObject) -> None:
        self.do_resolve(data)

    @rule(name=st.sampled_from(COMMANDS), data=st.data())
    def any_command_in_any_status(self, name: str, data: st.DataObject) -> None:
        getattr(self, f"do_{name}")(data)

    @rule(
        action=st.sampled_from(
            ["approve", "reject", "cancel", "issue_label", "inspect", "resolve", "close", "receive"]
        ),
        naive=st.booleans(),
    )
    def a_command_dated_before_the_last_change_or_without_offset_is_refused(
        self, action: str, naive: bool
    ) -> None:
        at = self.now.replace(tzinfo=None) + timedelta(days=1) if naive else self.in_the_past()
        if action == "receive" and not naive:
            return  # a late warehouse scan is clamped, not refused (see do_receive)
        commands = {
            "approve": lambda: self.case.approve(b.AGENT, b.shipping(), at),
            "reject": lambda: self.case.reject(b.AGENT, "no", at),
            "cancel": lambda: self.case.cancel(b.CUSTOMER, "no", at),
            "issue_label": lambda: self.case.issue_label(b.AGENT, "DHL", "T", None, at),
            "inspect": lambda: self.case.inspect(b.WAREHOUSE, "A", "", b.disposition(), at),
            "resolve": lambda: resolve(self.case, "exchange", None, at),
            "close": lambda: self.case.close(b.AGENT, at),
            "receive": lambda: self.case.receive(b.WAREHOUSE, None, at),
        }
        assert not self.attempt(commands[action])

    # ---- invariants of returns ---------------------------------------------------------------
    @invariant()
    def history_lists_every_status_the_case_went_through(self) -> None:
        expected = [S.REQUESTED.value, *(to.value for _, to in self.transitions)]
        assert self.case.history == expected
        assert self.case.history[-1] == self.case.status.value

    @invariant()
    def a_returnless_case_never_sees_the_goods_come_back(self) -> None:
        seen = {to for _, to in self.transitions}
        if self.case.returnless:
            assert not seen & GOODS_COME_BACK
            assert self.case.ship_back_by is None and self.case.label is None
        elif (S.APPROVED, S.RESOLVED) in self.transitions:
            raise AssertionError("a return that needs the goods back was resolved without them")

    @invariant()
    def a_label_exists_once_one_was_issued(self) -> None:
        issued = any(to == S.LABEL_ISSUED for _, to in self.transitions)
        assert (self.case.label is not None) == issued

    @invariant()
    def decisions_hold_only_the_return_policies(self) -> None:
        ids = {d.policy_id for d in self.case.decisions}
        assert ids <= {
            "return.eligibility",
            "buyer.abuse_signal",
            "return.shipping",
            "return.disposition",
            "return.customs_return",
            "exchange.settlement",
            "repair.remedies",
        }


TestReturnCaseStateMachine = ReturnCaseMachine.TestCase
TestReturnCaseStateMachine.settings = MACHINE_SETTINGS


# ---- paths a desk walks ----------------------------------------------------------------------


def at(hours: int) -> datetime:
    return b.T0 + timedelta(hours=hours)


def test_an_eligible_return_comes_back_is_inspected_resolved_and_closed() -> None:
    case = new_case()
    case.decide(b.eligibility(), b.abuse(), b.shipping("merchant"), at(1))
    assert case.status == S.APPROVED and case.ship_back_by == b.SHIP_BACK_BY
    assert case.return_shipping_payer == "merchant"
    case.issue_label(b.AGENT, "DHL", "JD01", Money.of("5.90", "EUR"), at(2))
    case.shipped_back(shipment_id="s-1", carrier="DHL", at=at(30), actor=b.CARRIER)
    case.receive(b.WAREHOUSE, None, at(80))
    assert case.shipment_id == "s-1"
    case.inspect(b.WAREHOUSE, "B", "box dented", b.disposition("refurbish"), at(81))
    refund_id = uuid4()
    case.resolve(b.AGENT, "refund", refund_id, None, at(82))
    case.close(b.AGENT, at(83))
    assert case.history == [
        "requested",
        "approved",
        "label_issued",
        "shipped_back",
        "received",
        "inspected",
        "resolved",
        "closed",
    ]
    assert case.resolution == {"kind": "refund", "refund_case_id": str(refund_id), "detail": None}
    assert [d.policy_id for d in case.decisions] == [
        "return.eligibility",
        "buyer.abuse_signal",
        "return.shipping",
        "return.disposition",
    ]


def test_a_returnless_refund_resolves_without_the_goods() -> None:
    case = new_case()
    case.decide(b.eligibility(), b.abuse(), b.shipping("merchant", returnless=True), at(1))
    assert case.returnless and case.ship_back_by is None
    assert not case.can_record_shipped()
    with pytest.raises(IllegalTransitionError, match="returnless"):  # a refusal: exit 1
        case.issue_label(b.AGENT, "DHL", "JD01", None, at(2))
    with pytest.raises(IllegalTransitionError, match="returnless"):
        case.receive(b.WAREHOUSE, None, at(2))
    case.resolve(b.AGENT, "refund", uuid4(), None, at(3))
    assert case.status == S.RESOLVED


def test_a_suspected_abuser_goes_to_manual_review_with_both_reasons() -> None:
    case = new_case()
    eligibility = b.decision("return.eligibility", "approve", reasons=("within 14 days",))
    abuse = b.decision("buyer.abuse_signal", "review", reasons=("return rate 80%",))
    case.decide(eligibility, abuse, b.shipping(), at(1))
    assert case.status == S.PENDING_REVIEW
    review = case.collect_events()[-1]
    assert isinstance(review, ReturnCase.SentToReview)
    assert review.reasons == ["within 14 days", "return rate 80%"]
    case.approve(b.SUPERVISOR, b.shipping("buyer"), at(5))
    assert case.status == S.APPROVED and case.return_shipping_payer == "buyer"


def test_an_ineligible_return_is_rejected_by_policy_with_its_reasons() -> None:
    case = new_case()
    case.decide(
        b.decision("return.eligibility", "reject", reasons=("window over", "opened")),
        b.abuse(),
        b.shipping(),
        at(1),
    )
    rejected = case.collect_events()[-1]
    assert isinstance(rejected, ReturnCase.Rejected)
    assert (rejected.by, rejected.reason) == ("policy", "window over; opened")
    with pytest.raises(IllegalTransitionError):
        case.cancel(b.CUSTOMER, "too late", at(2))


def test_a_closed_return_accepts_no_command() -> None:
    case = new_case()
    case.cancel(b.CUSTOMER, "changed my mind", at(1))
    case.close(b.AGENT, at(2))
    commands = [
        lambda: case.decide(b.eligibility(), b.abuse(), b.shipping(), at(3)),
        lambda: case.approve(b.AGENT, b.shipping(), at(3)),
        lambda: case.reject(b.AGENT, "r", at(3)),
        lambda: case.cancel(b.CUSTOMER, "r", at(3)),
        lambda: case.issue_label(b.AGENT, "DHL", "T", None, at(3)),
        lambda: case.receive(b.WAREHOUSE, None, at(3)),
        lambda: case.inspect(b.WAREHOUSE, "A", "", b.disposition(), at(3)),
        lambda: resolve(case, "exchange", None, at(3)),
        lambda: case.close(b.AGENT, at(3)),
        lambda: case.send_to_repair(b.AGENT, "FixIt", at(3)),
        lambda: case.diagnose(b.WAREHOUSE, "hinge", True, "", at(3)),
        lambda: case.complete_repair(b.WAREHOUSE, True, "", None, at(3)),
        lambda: case.ship_repaired(b.WAREHOUSE, "DHL", "R", at(3)),
        lambda: case.report_repair_failed(b.CUSTOMER, "hinge", remedies(["refund"]), at(3)),
    ]
    for command in commands:
        with pytest.raises(IllegalTransitionError):
            command()
    assert not case.can_record_shipped()
    assert case.version == 3


def test_a_decision_refused_for_want_of_a_shipping_decision_records_nothing() -> None:
    case = new_case()
    case.collect_events()
    with pytest.raises(DomainError):
        case.decide(b.eligibility("approve"), b.abuse("ok"), None, at(1))
    assert case.version == 1
    assert case.pending_events == []
    assert case.decisions == []


def test_an_approved_return_not_shipped_back_in_time_expires() -> None:
    case = new_case()
    case.decide(b.eligibility(), b.abuse(), b.shipping(), at(1))
    case.expire(actor=b.SCHEDULER, deadline=at(24 * 45).isoformat(), at=at(24 * 46))
    assert case.status == S.EXPIRED


EXPLORE: dict[str, Command] = {
    **{
        f"decide {e}/{a}/{r}": (
            lambda c, t, e=e, a=a, r=r: c.decide(
                b.eligibility(e), b.abuse(a), b.shipping("buyer", r), t
            )
        )
        for e in ("approve", "review", "reject")
        for a in ("ok", "review")
        for r in (False, True)
    },
    **{
        f"approve returnless={r}": (
            lambda c, t, r=r: c.approve(b.AGENT, b.shipping("buyer", r), t)
        )
        for r in (False, True)
    },
    "reject": lambda c, t: c.reject(b.AGENT, "no", t),
    "cancel": lambda c, t: c.cancel(b.CUSTOMER, "no", t),
    "issue_label": lambda c, t: c.issue_label(b.AGENT, "DHL", "T", None, t),
    "shipped_back": lambda c, t: (
        c.shipped_back(shipment_id="s", carrier="DHL", at=t, actor=b.CARRIER)
        if c.can_record_shipped()
        else None
    ),
    "receive": lambda c, t: c.receive(b.WAREHOUSE, None, t),
    "inspect": lambda c, t: c.inspect(b.WAREHOUSE, "A", "", b.disposition(), t),
    **{
        f"resolve {r}": (lambda c, t, r=r: resolve(c, r, UUID(int=1), t))
        for r in ("exchange", "repair", "refund", "price_reduction")
    },
    "close": lambda c, t: c.close(b.AGENT, t),
    "reopen": lambda c, t: c.reopen(b.SUPERVISOR, UUID(int=2), t),
    "send_to_repair": lambda c, t: c.send_to_repair(b.AGENT, "FixIt", t),
    **{
        f"diagnose repairable={r}": (lambda c, t, r=r: c.diagnose(b.WAREHOUSE, "hinge", r, "", t))
        for r in (False, True)
    },
    "repaired": lambda c, t: c.complete_repair(b.WAREHOUSE, True, "", None, t),
    **{
        f"repair failed {o}": (
            lambda c, t, o=o: c.complete_repair(b.WAREHOUSE, False, "", remedies(o), t)
        )
        for o in (["repair"], ["refund"])
    },
    "ship_repaired": lambda c, t: c.ship_repaired(b.WAREHOUSE, "DHL", "R-1", t),
    "report_repair_failed": lambda c, t: c.report_repair_failed(
        b.CUSTOMER, "hinge", remedies(["refund"]), t
    ),
    "expire": lambda c, t: c.expire(b.SCHEDULER, t.isoformat(), t),
}


def test_exhaustive_exploration_takes_exactly_the_allowed_transitions() -> None:
    reached = explore(new_case(), EXPLORE, key=lambda c: (
        c.status, c.returnless, (c.resolution or {}).get("kind"), tuple(c.remedies()),
        c.repair.get("repairable")))
    assert reached == ALLOWED


def test_a_shipped_back_scan_on_a_closed_return_is_refused() -> None:
    case = new_case()
    case.cancel(b.CUSTOMER, "changed my mind", at(1))
    case.close(b.AGENT, at(2))
    with pytest.raises(DomainError, match="cannot record the goods shipped back while closed"):
        case.shipped_back(shipment_id="s-9", carrier="DHL", at=at(3), actor=b.CARRIER)
    assert case.status == S.CLOSED
    assert case.version == 3
