"""What a customer may not choose, through the command path every entry point shares, on a real
SQLite file and on PostgreSQL: who pays the return shipping (so whether the goods come back),
its estimate, a case's id; another customer's idempotency key or case never shows; refunds
split under the approval threshold need a supervisor once their sum crosses it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from aftersales_core.application.returns import returned_lines, shipping_decision
from aftersales_core.application.services import Services
from aftersales_core.domain.ids import case_id_for, requested_case_id
from aftersales_core.domain.refunds import RefundCase
from aftersales_core.domain.returns import ReturnCase
from aftersales_core.errors import (
    AlreadyExistsError,
    InvalidMoneyError,
    NotAuthorisedError,
    UnknownCaseError,
)
from tests.factories import T0, admin, caller, delivered_order, pid, run

AT = T0 + timedelta(days=5)
TV = [{"line_id": "1", "sku": "TV", "category": "electronics", "quantity": 1,
       "unit_price": "900.00"}]


def stored(app: Services) -> int:
    return app.store.recorder.max_notification_id() or 0


def denials(app: Services) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = app.access.denials.list(limit=1_000)  # type: ignore[attr-defined]
    return found


def return_of(line: str = "2", reason: str = "changed_mind", **extra: Any) -> dict[str, Any]:
    return {"command": "RequestReturn", "order_id": "o-1", "reason": reason,
            "lines": [{"line_id": line, "quantity": 1}], "at": AT.isoformat(), **extra}


def shipping(app: Services, case_id: UUID) -> Any:
    decision = app.store.load(ReturnCase, case_id).latest("return.shipping")
    assert decision is not None
    return decision


# ---- who pays the return shipping ----------------------------------------------------------
@pytest.mark.parametrize(("fields", "named"), [
    ({"buyer_informed_of_return_cost": False}, "buyer_informed_of_return_cost"),
    ({"buyer_informed_of_return_cost": True}, "buyer_informed_of_return_cost"),
    ({"return_shipping_estimate": "500.00"}, "return_shipping_estimate"),
    ({"buyer_informed_of_return_cost": False, "return_shipping_estimate": "500.00"},
     "buyer_informed_of_return_cost, return_shipping_estimate"),
    ({"case_id": "0b5e2c1c-4f7e-4e40-9d5a-000000000001"}, "case_id"),
])
def test_a_customer_never_sets_who_pays_the_estimate_or_the_id_and_nothing_is_stored(
        app: Services, fields: dict[str, Any], named: str) -> None:
    delivered_order(app)
    buyer = caller(app, "customer-c-1")
    before, logged = stored(app), len(denials(app))
    with pytest.raises(NotAuthorisedError) as denied:
        run(app, "customer-c-1", return_of(reason="damaged", **fields))
    assert f"as customer: {named}: only the merchant's staff or its policy set these" in str(
        denied.value)
    assert stored(app) == before
    assert len(denials(app)) == logged + 1
    assert denials(app)[-1]["rule"] == "access.no_staff_fields"
    assert denials(app)[-1]["principal_id"] == str(buyer.principal_id)


def test_staff_who_are_the_buyer_choose_nothing_only_staff_choose_on_their_own_order(
        app: Services) -> None:
    """An agent who is also customer c-1 is c-1's buyer on c-1's order (SECURITY: nobody
    requests a return paid to themselves; a customer never chooses who pays): the estimate
    that would make their return returnless is denied and nothing is stored; a plain return
    goes on; they serve other customers as staff; they do not resolve their own return."""
    delivered_order(app)
    delivered_order(app, "o-2", customer_id="c-2")
    app.principals.add(admin(app), "eve", ["agent", "customer"], T0,
                       customer_id="c-1")
    before, logged = stored(app), len(denials(app))
    with pytest.raises(NotAuthorisedError, match="paid to themselves") as denied:
        run(app, "eve", return_of(reason="defective", return_shipping_estimate="999.00"))
    assert "return_shipping_estimate: only the merchant's staff" in str(denied.value)
    assert stored(app) == before
    assert denials(app)[-1]["rule"] == "access.no_staff_fields"
    assert len(denials(app)) == logged + 1
    mine = run(app, "eve", return_of(reason="damaged"))
    assert not app.store.load(ReturnCase, mine.case_id).returnless
    theirs = run(app, "eve", {**return_of(reason="defective", return_shipping_estimate="999.00"),
                              "order_id": "o-2"})
    assert app.store.load(ReturnCase, theirs.case_id).returnless
    with pytest.raises(NotAuthorisedError, match="paid to themselves"):
        run(app, "eve", {"command": "ResolveReturn", "case_id": str(mine.case_id),
                         "resolution": "refund", "at": AT.isoformat()})


def test_what_nobody_said_about_the_return_cost_is_not_assumed(app: Services) -> None:
    """EU withdrawal: the buyer pays the return only if told beforehand. Nobody said so, so the
    merchant pays, and the policy (not the customer) decides whether the goods come back."""
    delivered_order(app)  # DE, direct mail: the EUR rate table's 35.00 international label
    kept = run(app, "customer-c-1", return_of(line="2"))  # 60.00: worth sending back
    decision = shipping(app, kept.case_id)
    assert (decision.outcome, decision.inputs["buyer_informed_of_return_cost"]) == (
        "merchant", False)
    assert decision.inputs["return_shipping_estimate"] is None
    assert "shipping.uninformed_merchant_pays" in decision.rules
    assert decision.details["estimate_source"] == "rate_table"
    assert not app.store.load(ReturnCase, kept.case_id).returnless


def test_the_storefront_says_at_the_order_whether_the_buyer_was_told(app: Services) -> None:
    delivered_order(app, buyer_informed_of_return_cost=True)
    done = run(app, "customer-c-1", return_of(line="1"))  # 20.00, cheaper than its label
    decision = shipping(app, done.case_id)
    assert (decision.outcome, decision.inputs["buyer_informed_of_return_cost"]) == (
        "buyer", True)
    assert not app.store.load(ReturnCase, done.case_id).returnless
    assert "shipping.returnless_merchant_choice" in decision.rules


def test_staff_record_what_the_buyer_was_told_and_a_carriers_quote(app: Services) -> None:
    delivered_order(app, buyer_informed_of_return_cost=True)
    told = run(app, "agent-1", return_of(line="2", buyer_informed_of_return_cost=False,
                                         return_shipping_estimate="40.00"))
    decision = shipping(app, told.case_id)
    assert decision.outcome == "merchant"  # the agent's word wins over the order's
    assert decision.details["estimate_source"] == "given"
    assert app.store.load(ReturnCase, told.case_id).returnless  # 40.00 > 60% of 60.00
    with pytest.raises(InvalidMoneyError, match=r"^return_shipping_estimate: 40\.001 has more "):
        run(app, "agent-1", return_of(line="1", return_shipping_estimate="40.001"))


@pytest.mark.parametrize(("on_order", "stated", "told"), [
    (None, None, False), (True, None, True), (True, False, False), (None, True, True)])
def test_an_approval_states_what_it_knows_else_the_order_says_else_not_told(
        app: Services, on_order: bool | None, stated: bool | None, told: bool) -> None:
    """What ApproveReturn decides with (the approver's statement, else the order's)."""
    delivered_order(app, **({} if on_order is None else
                            {"buyer_informed_of_return_cost": on_order}))
    case = app.store.load(ReturnCase, run(app, "customer-c-1", return_of(line="2")).case_id)
    order = app.store.placed_order("o-1")
    again = shipping_decision(app.store.rules_for(order), order, case, None,
                              returned_lines(order, case.lines), stated, None)
    assert again.inputs["buyer_informed_of_return_cost"] is told
    assert again.outcome == ("buyer" if told else "merchant")


# ---- case ids -------------------------------------------------------------------------------
def complaint(key: str | None = None, order_id: str = "o-1", **extra: Any) -> dict[str, Any]:
    body = {"command": "FileComplaint", "order_id": order_id, "channel": "email",
            "category": "damaged", "description": "cracked", "at": AT.isoformat(), **extra}
    return body if key is None else {**body, "idempotency_key": key}


def test_an_idempotency_key_is_the_principals_own(app: Services) -> None:
    delivered_order(app, "o-1", customer_id="c-1")
    delivered_order(app, "o-2", customer_id="c-2")
    first = run(app, "customer-c-1", complaint("k-1"))
    assert first.case_id == requested_case_id("complaint", pid(app, "customer-c-1"), "k-1")
    before = stored(app)
    with pytest.raises(AlreadyExistsError, match=str(first.case_id)):
        run(app, "customer-c-1", complaint("k-1"))  # a retry opens no second case
    assert stored(app) == before
    other = run(app, "customer-c-2", complaint("k-1", order_id="o-2"))  # no "exists already"
    assert other.case_id != first.case_id and other.status == "open"
    with pytest.raises(UnknownCaseError):
        app.reads.case(caller(app, "customer-c-2"), first.case_id)


def test_a_case_opened_under_a_key_before_keys_were_scoped_is_found_by_its_opener_only(
        app: Services) -> None:
    delivered_order(app, "o-1", customer_id="c-1")
    delivered_order(app, "o-2", customer_id="c-2")
    legacy = case_id_for("complaint", "k-old")  # how ids were derived before
    app.complaints.file(caller(app, "customer-c-1"), legacy, "email", "damaged", "cracked", AT,
                        order_id="o-1")
    with pytest.raises(AlreadyExistsError, match=str(legacy)):
        run(app, "customer-c-1", complaint("k-old"))  # the retry finds it still
    assert app.reads.case(caller(app, "customer-c-1"), legacy).aggregate.id == legacy
    other = run(app, "customer-c-2", complaint("k-old", order_id="o-2"))
    assert other.case_id == requested_case_id("complaint", pid(app, "customer-c-2"), "k-old")


def test_staff_may_name_a_new_cases_id_and_hear_that_it_exists(app: Services) -> None:
    delivered_order(app)
    chosen = uuid4()
    assert run(app, "agent-1", complaint(case_id=str(chosen))).case_id == chosen
    with pytest.raises(AlreadyExistsError):
        run(app, "agent-2", complaint(case_id=str(chosen)))
    with pytest.raises(NotAuthorisedError, match="case_id: only the merchant's staff"):
        run(app, "customer-c-1", complaint(case_id=str(chosen)))  # the same answer as for any


def test_a_customer_never_learns_of_another_customers_case_by_its_id(app: Services) -> None:
    delivered_order(app, "o-1", customer_id="c-1")
    delivered_order(app, "o-2", customer_id="c-2")
    theirs = run(app, "customer-c-1", complaint("k-9")).case_id
    answers = []
    for case_id in (str(theirs), str(uuid4())):
        with pytest.raises(NotAuthorisedError) as denied:
            run(app, "customer-c-2", complaint(case_id=case_id, order_id="o-2"))
        answers.append(str(denied.value).replace(case_id, "ID"))
    assert answers[0] == answers[1]


# ---- refunds split under the threshold -------------------------------------------------------
def goodwill(app: Services, amount: str, by: str = "agent-1", order_id: str = "o-1"
             ) -> RefundCase:
    done = run(app, by, {"command": "RequestRefund", "order_id": order_id,
                         "source": "goodwill", "reason": "sorry", "amount": amount,
                         "at": AT.isoformat()})
    return app.store.load(RefundCase, done.case_id)


def test_refunds_split_under_the_threshold_need_a_supervisor_once_their_sum_crosses_it(
        app: Services) -> None:
    delivered_order(app, lines=TV)  # EUR: 250.00
    assert goodwill(app, "200.00").status.value == "approved"
    at_threshold = goodwill(app, "50.00")  # 250.00 in all: exactly the threshold
    assert at_threshold.status.value == "approved"
    over = goodwill(app, "0.01")  # one cent above it, in sum
    assert over.status.value == "awaiting_approval"
    approval = over.decisions[-1]
    assert approval.details["counted"] == "250.01"
    assert approval.details["order_refunded"] == "250.00"
    assert "applies to the order's sum" in approval.reasons[0]
    with pytest.raises(NotAuthorisedError, match="above the approval threshold"):
        run(app, "agent-2", {"command": "ApproveRefund", "case_id": str(over.id),
                             "at": (AT + timedelta(hours=1)).isoformat()})
    run(app, "sup-1", {"command": "ApproveRefund", "case_id": str(over.id),
                       "at": (AT + timedelta(hours=1)).isoformat()})
    assert app.store.load(RefundCase, over.id).status.value == "approved"


def test_a_rejected_refund_no_longer_counts_and_another_order_never_did(app: Services) -> None:
    delivered_order(app, "o-1", lines=TV)
    delivered_order(app, "o-2", lines=TV)
    big = goodwill(app, "240.00")
    run(app, "agent-1", {"command": "RejectRefund", "case_id": str(big.id), "reason": "no",
                         "at": (AT + timedelta(hours=1)).isoformat()})
    assert goodwill(app, "250.00").status.value == "approved"
    assert goodwill(app, "250.00", order_id="o-2").status.value == "approved"
    assert Decimal(goodwill(app, "0.01").decisions[-1].details["counted"]) == Decimal("250.01")


def test_a_key_sent_again_with_other_staff_facts_is_a_conflict(app: Services) -> None:
    """An agent's RequestReturn retried under its idempotency_key: the same request is told
    the case exists already; one stating another return shipping estimate, another answer
    on whether the buyer was told the cost, or other non-returnable lines is another request
    (exit 4), and nothing is stored for it."""
    from aftersales_core.errors import IdempotencyKeyConflictError

    delivered_order(app)
    first = return_of(reason="defective", idempotency_key="desk-r-1",
                      return_shipping_estimate="12.00", buyer_informed_of_return_cost=True)
    run(app, "agent-1", first)
    before = stored(app)
    with pytest.raises(AlreadyExistsError):
        run(app, "agent-1", first)
    for changed in ({"return_shipping_estimate": "500.00"},
                    {"buyer_informed_of_return_cost": False},
                    {"non_returnable_line_ids": ["1"]}):
        with pytest.raises(IdempotencyKeyConflictError, match="desk-r-1"):
            run(app, "agent-1", {**first, **changed})
    assert stored(app) == before
