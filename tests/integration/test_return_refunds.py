"""A return's refunds (SPEC 3.1, 3.2): a refund naming a return as its source refunds only that
return's lines, at most its units that its other refunds did not take; the return records it,
so that its refund deadline follows the refund and its resolution opens no second refund for
the same units (found cold, F1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from aftersales.bootstrap import scheduler_principal
from aftersales_core.application.results import CommandResult
from aftersales_core.application.services import Services
from aftersales_core.domain.ids import case_id_for, order_aggregate_id
from aftersales_core.domain.order import Order
from aftersales_core.domain.refunds import RefundCase
from aftersales_core.domain.returns import ReturnCase
from aftersales_core.errors import (
    AlreadyExistsError,
    IdempotencyKeyConflictError,
    IllegalTransitionError,
    InvalidFieldError,
    RefundCapExceededError,
)
from desk.assignments import Assignments
from desk.i18n import Reader
from desk.queue import Query, queue
from projections.db import ReadDatabase
from scheduling.scheduler import Scheduler
from tests.factories import T0, caller, delivered_order, run
from tests.read_models import applied_by_a_runner

AT = T0 + timedelta(days=5)
L1 = [{"line_id": "l1", "sku": "MUG-1", "category": "home", "quantity": 2,
       "unit_price": "50.00"}]


def order(app: Services, order_id: str = "o1") -> None:
    """Line l1, 2 units x 50.00 EUR, 10.00 EUR shipping: 110.00 EUR paid."""
    delivered_order(app, order_id, lines=L1, shipping_fee="10.00", taxes="0.00")


def returned(app: Services, units: int = 1, order_id: str = "o1") -> UUID:
    """An approved return of ``units`` of l1, returnless (the carrier's quote an agent gives
    is above 60 % of the goods' value)."""
    case_id = uuid4()
    app.returns.request(caller(app, "agent-1"), case_id, order_id,
                        [{"line_id": "l1", "quantity": units}], "changed_mind", "refund", AT,
                        channel="email", return_shipping_estimate=Decimal("99.00"))
    case = app.store.load(ReturnCase, case_id)
    assert (case.status.value, case.returnless) == ("approved", True)
    return case_id


def refund(app: Services, rid: UUID, lines: list[dict[str, Any]] | None,
           hours: int = 2, order_id: str = "o1") -> CommandResult:
    return app.refunds.request(caller(app, "agent-1"), uuid4(), order_id, "return", "return",
                               AT + timedelta(hours=hours), source_case_id=str(rid),
                               lines=lines)


def utc_time(value: Any) -> datetime:
    """A read model's time (a string in SQLite) as an aware time, to compare."""
    found = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return found.astimezone(UTC)


def stored(app: Services) -> int:
    return app.store.recorder.max_notification_id() or 0


def test_one_returned_unit_is_refunded_once(app: Services) -> None:
    """Reproduction A: two refunds of l1 x 1 for a return of one unit were both approved
    (110.00 EUR); the second is refused, naming the line and its units, and nothing is
    stored."""
    order(app)
    rid = returned(app)
    first = refund(app, rid, [{"line_id": "l1", "quantity": 1}])
    assert first.status == "approved"
    assert app.store.load(RefundCase, first.case_id).components == {
        "items": "50.00", "outbound_shipping": "5.00"}
    before = stored(app)
    with pytest.raises(RefundCapExceededError,
                       match=f"lines: line l1: 1 asked for, but return {rid} returns 1 of it "
                             f"and its refunds not rejected took 1 \\({first.case_id}\\): at "
                             "most 0 left to refund"):
        refund(app, rid, [{"line_id": "l1", "quantity": 1}], hours=3)
    assert stored(app) == before
    with pytest.raises(RefundCapExceededError, match="every unit it returns is refunded"):
        refund(app, rid, None, hours=3)  # no lines: the units left, and there are none
    assert stored(app) == before
    assert list(app.store.load(Order, order_aggregate_id("o1")).refunds) == [
        str(first.case_id)]


def test_a_refund_of_a_return_is_of_its_units_only(app: Services) -> None:
    """Reproduction C: l1 x 2 on a return of one unit refunded both (110.00 EUR)."""
    order(app)
    rid = returned(app)
    before = stored(app)
    with pytest.raises(RefundCapExceededError,
                       match=f"line l1: 2 asked for, but return {rid} returns 1 of it and "
                             "none of them is refunded yet: at most 1 left to refund"):
        refund(app, rid, [{"line_id": "l1", "quantity": 2}])
    assert stored(app) == before


def test_a_cancelled_return_is_not_refunded(app: Services) -> None:
    """Reproduction D: a refund for a return the customer cancelled was approved."""
    order(app)
    rid = returned(app)
    app.returns.cancel(caller(app, "customer-c-1"), rid, AT + timedelta(hours=1), "kept it")
    before = stored(app)
    with pytest.raises(IllegalTransitionError, match=f"return {rid}: cannot be refunded while "
                                                     "cancelled"):
        refund(app, rid, [{"line_id": "l1", "quantity": 1}])
    assert stored(app) == before


def test_without_lines_a_return_refund_takes_the_units_not_refunded_yet(app: Services) -> None:
    order(app)
    rid = returned(app, units=2)
    first = refund(app, rid, [{"line_id": "l1", "quantity": 1}])
    rest = refund(app, rid, None, hours=3)
    assert app.store.load(RefundCase, rest.case_id).lines == [{"line_id": "l1", "quantity": 1}]
    assert app.store.load(RefundCase, rest.case_id).components == {
        "items": "50.00", "outbound_shipping": "5.00"}
    case = app.store.load(ReturnCase, rid)
    assert [r["refund_case_id"] for r in case.refunds] == [str(first.case_id),
                                                           str(rest.case_id)]


def test_a_refund_requested_for_a_return_is_its_refund(app: Services, tmp_path: Path) -> None:
    """Reproduction B: after a RequestRefund of its unit was issued and settled, the return's
    refund deadline stayed open (the scheduler then recorded a false breach and escalated),
    and ResolveReturn opened a second refund of 55.00 EUR for the same unit."""
    order(app)
    rid = returned(app)
    due = app.store.load(ReturnCase, rid).deadlines["refund"].due_at
    first = refund(app, rid, [{"line_id": "l1", "quantity": 1}])
    case = app.store.load(ReturnCase, rid)
    assert case.refunds == [{"refund_case_id": str(first.case_id),
                             "lines": [{"line_id": "l1", "quantity": 1}]}]
    assert (case.deadlines["refund"].state, case.deadlines["refund"].outcome) == ("met", "met")
    carried = app.store.load(RefundCase, first.case_id).deadlines["refund"]
    assert (carried.due_at, carried.state) == (due, "open")  # as a resolution's refund
    app.refunds.issue(caller(app, "payments-1"), first.case_id, AT + timedelta(hours=3))
    app.refunds.confirm_settled(caller(app, "payments-1"), first.case_id, "psp-1",
                                AT + timedelta(hours=4))
    assert app.store.load(RefundCase, first.case_id).deadlines["refund"].state == "met"
    scheduler = Scheduler(app, scheduler_principal(app))
    assert scheduler.fire_due(due + timedelta(days=1)) == []
    assert app.store.load(ReturnCase, rid).escalations == []
    before = stored(app)
    resolved = app.resolutions.resolve(caller(app, "agent-1"), rid, AT + timedelta(days=1),
                                       resolution="refund")
    assert resolved.related == {"refund_case_id": str(first.case_id)}
    case = app.store.load(ReturnCase, rid)
    assert case.status.value == "resolved"
    assert case.resolution is not None
    assert case.resolution["refund_case_id"] == str(first.case_id)
    placed = app.store.load(Order, order_aggregate_id("o1"))
    assert list(placed.refunds) == [str(first.case_id)]
    assert stored(app) > before  # the return's resolution, and nothing else
    assert not app.store.exists(case_id_for("refund", f"return:{rid}"))  # no second refund
    read = ReadDatabase(f"sqlite:///{tmp_path / 'read.sqlite'}")
    applied_by_a_runner(app, read)  # the read models take the return's RefundOpened
    rows = read.query("SELECT refund_id, amount FROM refunds")
    cases = read.query("SELECT status FROM cases WHERE case_id = ?", (str(rid),))
    read.close()
    assert [(r["refund_id"], str(r["amount"])) for r in rows] == [(str(first.case_id), "55.00")]
    assert [c["status"] for c in cases] == ["resolved"]


def test_a_partly_refunded_return_resolves_with_a_refund_of_the_rest(app: Services) -> None:
    """Two units returned, one refunded by a RequestRefund: the return's refund deadline is
    still owed for the other, and its resolution refunds that one only."""
    order(app)
    rid = returned(app, units=2)
    first = refund(app, rid, [{"line_id": "l1", "quantity": 1}])
    assert app.store.load(ReturnCase, rid).deadlines["refund"].state == "open"
    resolved = app.resolutions.resolve(caller(app, "agent-1"), rid, AT + timedelta(days=1))
    rest = app.store.load(RefundCase, UUID(resolved.related["refund_case_id"]))
    assert rest.id != first.case_id
    assert rest.components == {"items": "50.00", "outbound_shipping": "5.00"}
    calculation = next(d for d in rest.decisions if d.policy_id == "refund.calculation")
    assert calculation.policy_version == 6
    assert calculation.inputs["return_units_left"]["items"] == [
        {"line_id": "l1", "quantity": 1}]
    assert app.store.books.rerun(calculation).same_result_as(calculation)
    assert app.store.load(ReturnCase, rid).deadlines["refund"].state == "met"


@pytest.mark.parametrize("lines", [None, [{"line_id": "l1", "quantity": 2}]])
def test_an_exact_retry_of_a_return_refund_exists_already(
        app: Services, lines: list[dict[str, Any]] | None) -> None:
    """A retry under the same key is the same request ("exists already"): not a refusal
    saying the return has no units left (its own refund took them), nor, without lines (its
    case records the return's units it took), an idempotency_key conflict."""
    order(app)
    rid = returned(app, units=2)
    body = {"command": "RequestRefund", "order_id": "o1", "source": "return",
            "source_case_id": str(rid), "reason": "return", "idempotency_key": "k-1",
            "at": (AT + timedelta(hours=2)).isoformat(),
            **({} if lines is None else {"lines": lines})}
    first = run(app, "agent-1", body)
    assert app.store.load(RefundCase, first.case_id).lines == [
        {"line_id": "l1", "quantity": 2}]
    before = stored(app)
    with pytest.raises(AlreadyExistsError, match=f"refund case {first.case_id} exists"):
        run(app, "agent-1", body)
    with pytest.raises(IdempotencyKeyConflictError, match="idempotency_key k-1"):
        run(app, "agent-1", {**body, "reason": "another"})
    assert stored(app) == before


@pytest.mark.parametrize("kind", ["exchange", "repair"])
def test_a_refunded_return_is_not_resolved_by_exchange_or_repair(app: Services,
                                                                  kind: str) -> None:
    """Its units are paid back by the refund requested for it: goods on top would be given
    twice (as a refund after an exchange is refused); once that refund is rejected, it may."""
    order(app)
    rid = returned(app)
    first = refund(app, rid, [{"line_id": "l1", "quantity": 1}])
    before = stored(app)
    replacement = {"replacement_sku": "MUG-1", "replacement_unit_price": Decimal("50.00")} \
        if kind == "exchange" else {}
    with pytest.raises(IllegalTransitionError,
                       match=f"return {rid}: cannot be resolved by {kind} while refunded by "
                             f"refund {first.case_id}"):
        app.resolutions.resolve(caller(app, "agent-1"), rid, AT + timedelta(days=1),
                                resolution=kind, **replacement)
    assert stored(app) == before
    app.refunds.reject(caller(app, "sup-1"), first.case_id, "sent goods instead",
                       AT + timedelta(hours=5))
    done = app.resolutions.resolve(caller(app, "agent-1"), rid, AT + timedelta(days=1),
                                   resolution=kind, **replacement)
    assert done.status == "resolved"


def test_a_rejected_refund_of_a_return_leaves_its_refund_owed(app: Services,
                                                               tmp_path: Path) -> None:
    """A refund requested for a return and then rejected by a supervisor counted on as the
    return's refund: the return's refund deadline stayed met and the refund's own copy was
    cancelled, so the money owed was watched by no deadline. The return records the
    rejection; its units are refundable again and its refund deadline is owed again by its
    original due time, breached and escalated when missed."""
    order(app)
    rid = returned(app)
    due = app.store.load(ReturnCase, rid).deadlines["refund"].due_at
    first = refund(app, rid, [{"line_id": "l1", "quantity": 1}])
    assert app.store.load(ReturnCase, rid).deadlines["refund"].state == "met"
    app.refunds.reject(caller(app, "sup-1"), first.case_id, "wrong account",
                       AT + timedelta(hours=5))
    case = app.store.load(ReturnCase, rid)
    assert (case.status.value, case.refunds) == ("approved", [])
    owed = case.deadlines["refund"]
    assert (owed.state, owed.due_at) == ("open", due)  # the law's term does not restart
    assert app.store.load(RefundCase, first.case_id).deadlines["refund"].state == "cancelled"
    scheduler = Scheduler(app, scheduler_principal(app))
    assert scheduler.fire_due(due) == []  # in time up to its due time
    fired = scheduler.fire_due(due + timedelta(hours=1))
    assert [(f.case_id, f.name) for f in fired] == [(rid, "refund")]
    case = app.store.load(ReturnCase, rid)
    assert case.deadlines["refund"].state == "breached"
    assert case.escalations != []
    read = ReadDatabase(f"sqlite:///{tmp_path / 'read.sqlite'}")
    applied_by_a_runner(app, read)  # the read models take the return's RefundRejected
    cases = read.query("SELECT status FROM cases WHERE case_id = ?", (str(rid),))
    read.close()
    assert [c["status"] for c in cases] == ["approved"]


def test_after_a_rejected_refund_a_new_one_carries_the_original_due_time(
        app: Services) -> None:
    order(app)
    rid = returned(app)
    due = app.store.load(ReturnCase, rid).deadlines["refund"].due_at
    first = refund(app, rid, [{"line_id": "l1", "quantity": 1}])
    app.refunds.reject(caller(app, "sup-1"), first.case_id, "wrong account",
                       AT + timedelta(hours=5))
    again = refund(app, rid, [{"line_id": "l1", "quantity": 1}], hours=6)  # refundable again
    assert again.status == "approved"
    case = app.store.load(ReturnCase, rid)
    assert [r["refund_case_id"] for r in case.refunds] == [str(again.case_id)]
    assert case.deadlines["refund"].state == "met"
    carried = app.store.load(RefundCase, again.case_id).deadlines["refund"]
    assert (carried.due_at, carried.state) == (due, "open")
    app.refunds.issue(caller(app, "payments-1"), again.case_id, AT + timedelta(hours=7))
    assert app.store.load(RefundCase, again.case_id).deadlines["refund"].state == "met"
    assert Scheduler(app, scheduler_principal(app)).fire_due(due + timedelta(days=1)) == []
    resolved = app.resolutions.resolve(caller(app, "agent-1"), rid, AT + timedelta(days=1))
    assert resolved.related == {"refund_case_id": str(again.case_id)}


def test_a_refund_of_a_return_rejected_at_request_does_not_carry_its_deadline(
        app: Services) -> None:
    """Nothing to refund (a goodwill refund took what was paid): the return is not told, and
    its refund deadline stays owed."""
    order(app)
    rid = returned(app)
    app.refunds.request(caller(app, "agent-1"), uuid4(), "o1", "goodwill", "sorry",
                        AT + timedelta(hours=1), goodwill=Decimal("110.00"))
    nothing = refund(app, rid, [{"line_id": "l1", "quantity": 1}])
    assert nothing.status == "rejected"
    case = app.store.load(ReturnCase, rid)
    assert (case.refunds, case.deadlines["refund"].state) == ([], "open")


def test_a_partly_refunded_return_is_not_resolved_by_that_part(app: Services) -> None:
    """Two units returned, one refunded by a RequestRefund, and a goodwill refund took the
    rest of what was paid: the refund of the other unit has nothing to refund. The return
    was resolved with the refund of the one unit, as if it covered both; it is resolved with
    the refund of the rest, rejected, its calculation saying why (as a return without earlier
    refunds is, when nothing is left under the order's cap)."""
    order(app)
    rid = returned(app, units=2)
    first = refund(app, rid, [{"line_id": "l1", "quantity": 1}])
    app.refunds.request(caller(app, "agent-1"), uuid4(), "o1", "goodwill", "sorry",
                        AT + timedelta(hours=3), goodwill=Decimal("55.00"))
    resolved = app.resolutions.resolve(caller(app, "agent-1"), rid, AT + timedelta(days=1))
    rest = case_id_for("refund", f"return:{rid}")
    assert resolved.related == {"refund_case_id": str(rest)}
    assert app.store.load(ReturnCase, rid).resolution["refund_case_id"] == str(rest)
    closed = app.store.load(RefundCase, rest)
    assert (closed.status.value, closed.amount.amount) == ("rejected", Decimal("0.00"))
    assert closed.id != first.case_id
    calculation = next(d for d in closed.decisions if d.policy_id == "refund.calculation")
    assert calculation.outcome == "nothing_to_refund"
    assert "capped at 0.00 EUR: 110.00 EUR paid, 110.00 EUR already refunded" in \
        "; ".join(calculation.reasons)


def test_an_amount_for_a_return_names_its_lines(app: Services) -> None:
    """An amount without lines took every unit the return had left: a 10.00 EUR compensation
    met the return's refund deadline, and its resolution then resolved it with those 10.00.
    It is invalid (exit 2), nothing stored; with lines, the amount takes those units."""
    order(app)
    rid = returned(app, units=2)
    before = stored(app)
    with pytest.raises(InvalidFieldError,
                       match="amount: name the lines the amount is for; a compensation is a "
                             "goodwill or complaint refund"):
        app.refunds.request(caller(app, "agent-1"), uuid4(), "o1", "return", "scratch",
                            AT + timedelta(hours=2), source_case_id=str(rid),
                            amount=Decimal("10.00"))
    assert stored(app) == before
    case = app.store.load(ReturnCase, rid)
    assert (case.refunds, case.deadlines["refund"].state) == ([], "open")
    part = app.refunds.request(caller(app, "agent-1"), uuid4(), "o1", "return", "scratch",
                               AT + timedelta(hours=2), source_case_id=str(rid),
                               lines=[{"line_id": "l1", "quantity": 1}],
                               amount=Decimal("10.00"))
    assert app.store.load(RefundCase, part.case_id).components == {
        "items": "10.00", "outbound_shipping": "5.00"}  # as before: the unit's shipping too
    case = app.store.load(ReturnCase, rid)
    assert case.refunds == [{"refund_case_id": str(part.case_id),
                             "lines": [{"line_id": "l1", "quantity": 1}]}]
    assert case.deadlines["refund"].state == "open"  # one of its two units is refunded


def test_an_amount_for_a_returns_unit_is_at_most_what_the_unit_was_paid(app: Services) -> None:
    """Found cold (F4): 500.00 EUR asked for one returned unit of 50.00 took the whole line's
    100.00 (v5 capped the amount at the order line only) and the buyer kept the other unit;
    v6 refunds the unit's 50.00 and its 5.00 of shipping, and the return's other unit is
    still refundable."""
    order(app)
    rid = returned(app, units=2)
    part = app.refunds.request(caller(app, "agent-1"), uuid4(), "o1", "return", "scratch",
                               AT + timedelta(hours=2), source_case_id=str(rid),
                               lines=[{"line_id": "l1", "quantity": 1}],
                               amount=Decimal("500.00"))
    first = app.store.load(RefundCase, part.case_id)
    assert first.components == {"items": "50.00", "outbound_shipping": "5.00"}
    calculation = next(d for d in first.decisions if d.policy_id == "refund.calculation")
    assert calculation.policy_version == 6 and "refund.return_units_cap" in calculation.rules
    assert app.store.books.rerun(calculation).same_result_as(calculation)
    rest = refund(app, rid, None, hours=3)
    assert app.store.load(RefundCase, rest.case_id).components == {
        "items": "50.00", "outbound_shipping": "5.00"}


def test_a_rejected_refund_that_resolved_a_return_reopens_it(app: Services,
                                                              tmp_path: Path) -> None:
    """The refund its resolution opened, rejected by a supervisor, left the return resolved
    with the money owed and no deadline on it. The return is reopened: back to the status it
    was resolved from (approved: it is returnless), its units refundable, its refund deadline
    owed again by its original due time (breached and escalated when missed), and met by a
    new resolution's refund, under a key of its own."""
    order(app)
    rid = returned(app)
    due = app.store.load(ReturnCase, rid).deadlines["refund"].due_at
    resolved = app.resolutions.resolve(caller(app, "agent-1"), rid, AT + timedelta(hours=2),
                                       resolution="refund")
    first = UUID(resolved.related["refund_case_id"])
    assert app.store.load(ReturnCase, rid).deadlines["refund"].state == "met"
    app.refunds.reject(caller(app, "sup-1"), first, "wrong account", AT + timedelta(hours=5))
    case = app.store.load(ReturnCase, rid)
    assert (case.status.value, case.resolution, case.refunds) == ("approved", None, [])
    assert case.history[-2:] == ["resolved", "approved"]
    owed = case.deadlines["refund"]
    assert (owed.state, owed.due_at) == ("open", due)  # the law's term does not restart
    scheduler = Scheduler(app, scheduler_principal(app))
    assert scheduler.fire_due(due) == []
    fired = scheduler.fire_due(due + timedelta(hours=1))
    assert [(f.case_id, f.name) for f in fired] == [(rid, "refund")]
    assert app.store.load(ReturnCase, rid).escalations != []
    read = ReadDatabase(f"sqlite:///{tmp_path / 'read.sqlite'}")
    applied_by_a_runner(app, read)  # the read models fold the return's Reopened
    cases = read.query("SELECT status FROM cases WHERE case_id = ?", (str(rid),))
    read.close()
    assert [c["status"] for c in cases] == ["approved"]
    again = app.resolutions.resolve(caller(app, "agent-1"), rid, due + timedelta(hours=2),
                                    resolution="refund")
    second = UUID(again.related["refund_case_id"])
    assert second == case_id_for("refund", f"return:{rid}:reopened:1")
    assert app.store.load(RefundCase, second).components == {
        "items": "50.00", "outbound_shipping": "5.00"}
    assert app.store.load(ReturnCase, rid).status.value == "resolved"


def test_after_a_reopening_a_request_refund_meets_the_original_due_time(app: Services) -> None:
    order(app)
    rid = returned(app)
    due = app.store.load(ReturnCase, rid).deadlines["refund"].due_at
    resolved = app.resolutions.resolve(caller(app, "agent-1"), rid, AT + timedelta(hours=2),
                                       resolution="refund")
    app.refunds.reject(caller(app, "sup-1"), UUID(resolved.related["refund_case_id"]),
                       "wrong account", AT + timedelta(hours=3))
    assert app.store.load(ReturnCase, rid).deadlines["refund"].state == "open"
    again = refund(app, rid, None, hours=4)
    assert again.status == "approved"
    assert app.store.load(ReturnCase, rid).deadlines["refund"].state == "met"
    carried = app.store.load(RefundCase, again.case_id).deadlines["refund"]
    assert (carried.due_at, carried.state) == (due, "open")
    app.refunds.issue(caller(app, "payments-1"), again.case_id, AT + timedelta(hours=5))
    assert Scheduler(app, scheduler_principal(app)).fire_due(due + timedelta(days=1)) == []


def test_a_rejected_refund_a_resolution_counted_on_reopens_the_return(app: Services) -> None:
    """Resolved with the refunds requested for it (they covered every unit): one of them
    rejected, the return is reopened with the others still counted."""
    order(app)
    rid = returned(app, units=2)
    first = refund(app, rid, [{"line_id": "l1", "quantity": 1}])
    second = refund(app, rid, None, hours=3)
    resolved = app.resolutions.resolve(caller(app, "agent-1"), rid, AT + timedelta(hours=4),
                                       resolution="refund")
    assert resolved.related == {"refund_case_id": str(second.case_id)}
    app.refunds.reject(caller(app, "sup-1"), first.case_id, "wrong account",
                       AT + timedelta(hours=5))
    case = app.store.load(ReturnCase, rid)
    assert case.status.value == "approved"
    assert [r["refund_case_id"] for r in case.refunds] == [str(second.case_id)]
    assert case.deadlines["refund"].state == "open"
    rest = app.resolutions.resolve(caller(app, "agent-1"), rid, AT + timedelta(hours=6))
    again = app.store.load(RefundCase, UUID(rest.related["refund_case_id"]))
    assert again.components == {"items": "50.00", "outbound_shipping": "5.00"}
    assert app.store.load(ReturnCase, rid).deadlines["refund"].state == "met"


def test_a_return_resolved_against_the_cap_is_reopened_when_the_cap_frees(
        app: Services) -> None:
    """A goodwill refund took what was paid, so the return's resolution refunded nothing
    (its refund rejected at request, capped). Once that goodwill refund is rejected, the
    money is owed after all: the return is reopened, its refund deadline owed again."""
    order(app)
    rid = returned(app)
    due = app.store.load(ReturnCase, rid).deadlines["refund"].due_at
    goodwill = app.refunds.request(caller(app, "agent-1"), uuid4(), "o1", "goodwill", "sorry",
                                   AT + timedelta(hours=1), goodwill=Decimal("110.00"))
    resolved = app.resolutions.resolve(caller(app, "agent-1"), rid, AT + timedelta(hours=2),
                                       resolution="refund")
    nothing = app.store.load(RefundCase, UUID(resolved.related["refund_case_id"]))
    assert nothing.status.value == "rejected"
    app.refunds.reject(caller(app, "sup-1"), goodwill.case_id, "not agreed",
                       AT + timedelta(hours=3))
    case = app.store.load(ReturnCase, rid)
    assert (case.status.value, case.resolution) == ("approved", None)
    owed = case.deadlines["refund"]
    assert (owed.state, owed.due_at) == ("open", due)
    again = app.resolutions.resolve(caller(app, "agent-1"), rid, AT + timedelta(hours=4))
    assert app.store.load(RefundCase, UUID(again.related["refund_case_id"])).status.value \
        == "approved"


def test_free_units_refused_for_nothing_to_refund_count_in_the_ledger(app: Services) -> None:
    """Three free units and 1 JPY of taxes, each unit returned alone (defective: the taxes
    follow the goods). The first unit's share of the taxes rounds to nothing: its refund is
    refused, and its units were not counted, so each later unit's share was worked out as
    the first one's (nothing) and the 1 JPY was never refunded. Counted, the second unit's
    refund takes it."""
    delivered_order(app, "jp", market="JP", currency="JPY", shipping_fee="0", taxes="1",
                    lines=[{"line_id": "l1", "sku": "S-1", "category": "home", "quantity": 3,
                            "unit_price": "0"}])
    totals = []
    for i in range(3):
        rid = uuid4()
        app.returns.request(caller(app, "agent-1"), rid, "jp",
                            [{"line_id": "l1", "quantity": 1}], "defective", "refund",
                            AT + timedelta(hours=i), channel="email")
        done = app.refunds.request(caller(app, "agent-1"), uuid4(), "jp", "return", "return",
                                   AT + timedelta(hours=i, minutes=30),
                                   source_case_id=str(rid))
        totals.append((done.status, str(app.store.load(RefundCase, done.case_id).amount)))
    assert totals == [("rejected", "0 JPY"), ("approved", "1 JPY"), ("rejected", "0 JPY")]
    placed = app.store.load(Order, order_aggregate_id("jp"))
    assert str(placed.refunded) == "1 JPY"


def test_a_retry_without_lines_of_a_return_refund_asked_with_fewer_lines_conflicts(
        app: Services) -> None:
    """The first request named one of the return's two units; the same key again without
    lines asks for every unit left (both): another request, a conflict (exit 4, 409), not
    "exists already". The same request again still exists already."""
    order(app)
    rid = returned(app, units=2)
    body = {"command": "RequestRefund", "order_id": "o1", "source": "return",
            "source_case_id": str(rid), "reason": "return", "idempotency_key": "k-2",
            "at": (AT + timedelta(hours=2)).isoformat(),
            "lines": [{"line_id": "l1", "quantity": 1}]}
    first = run(app, "agent-1", body)
    before = stored(app)
    without = {key: value for key, value in body.items() if key != "lines"}
    with pytest.raises(IdempotencyKeyConflictError, match="idempotency_key k-2"):
        run(app, "agent-1", without)
    with pytest.raises(AlreadyExistsError, match=f"refund case {first.case_id} exists"):
        run(app, "agent-1", body)
    assert stored(app) == before


def close(app: Services, rid: UUID, hours: int) -> CommandResult:
    return app.returns.close(caller(app, "agent-1"), rid, AT + timedelta(hours=hours))


def paid(app: Services, refund_id: UUID, hours: int) -> None:
    app.refunds.issue(caller(app, "payments-1"), refund_id, AT + timedelta(hours=hours))
    app.refunds.confirm_settled(caller(app, "payments-1"), refund_id, f"psp-{refund_id}",
                                AT + timedelta(hours=hours, minutes=30))


def test_a_return_is_not_closed_while_the_refund_that_resolved_it_may_be_rejected(
        app: Services) -> None:
    """Closed after its resolution and before its refund was paid, the return stayed closed
    when that refund was rejected later (a closed return is final: no reopening), with the
    money owed and no deadline. CloseReturn is refused, naming the refund and its status,
    while the refund may still be rejected: approved, issued (its payment may still fail),
    failed; once settled, the return is closed."""
    order(app)
    rid = returned(app)
    resolved = app.resolutions.resolve(caller(app, "agent-1"), rid, AT + timedelta(hours=2),
                                       resolution="refund")
    first = UUID(resolved.related["refund_case_id"])
    before = stored(app)
    with pytest.raises(IllegalTransitionError,
                       match=f"cannot close while its refund {first} is approved"):
        close(app, rid, 3)
    assert stored(app) == before
    app.refunds.issue(caller(app, "payments-1"), first, AT + timedelta(hours=4))
    with pytest.raises(IllegalTransitionError, match=f"its refund {first} is issued"):
        close(app, rid, 5)
    app.refunds.record_failed(caller(app, "payments-1"), first, "card expired",
                              AT + timedelta(hours=6))
    with pytest.raises(IllegalTransitionError, match=f"its refund {first} is failed"):
        close(app, rid, 7)
    # what the refusal guards: the failed refund rejected, the return is reopened, owed
    app.refunds.reject(caller(app, "sup-1"), first, "wrong account", AT + timedelta(hours=8))
    assert app.store.load(ReturnCase, rid).status.value == "approved"
    again = app.resolutions.resolve(caller(app, "agent-1"), rid, AT + timedelta(hours=9),
                                    resolution="refund")
    paid(app, UUID(again.related["refund_case_id"]), 10)
    assert close(app, rid, 11).status == "closed"


def test_a_return_is_not_closed_while_a_refund_its_resolution_counted_on_is_pending(
        app: Services) -> None:
    """Resolved with the refunds requested for it: its resolution's refund settled, another
    it counted on still approved (its rejection would reopen the return)."""
    order(app)
    rid = returned(app, units=2)
    first = refund(app, rid, [{"line_id": "l1", "quantity": 1}])
    second = refund(app, rid, None, hours=3)
    resolved = app.resolutions.resolve(caller(app, "agent-1"), rid, AT + timedelta(hours=4),
                                       resolution="refund")
    assert resolved.related == {"refund_case_id": str(second.case_id)}
    paid(app, second.case_id, 5)
    with pytest.raises(IllegalTransitionError,
                       match=f"cannot close while its refund {first.case_id} is approved"):
        close(app, rid, 6)
    paid(app, first.case_id, 7)
    assert close(app, rid, 8).status == "closed"


def test_a_return_resolved_against_the_cap_is_not_closed_while_the_cap_may_free(
        app: Services) -> None:
    """Resolved with nothing to refund (a goodwill refund took what was paid): a rejection of
    that goodwill refund would reopen the return, so it is not closed until it is settled."""
    order(app)
    rid = returned(app)
    goodwill = app.refunds.request(caller(app, "agent-1"), uuid4(), "o1", "goodwill", "sorry",
                                   AT + timedelta(hours=1), goodwill=Decimal("110.00"))
    resolved = app.resolutions.resolve(caller(app, "agent-1"), rid, AT + timedelta(hours=2),
                                       resolution="refund")
    assert app.store.load(RefundCase, UUID(resolved.related["refund_case_id"])).status.value \
        == "rejected"
    with pytest.raises(IllegalTransitionError,
                       match=f"cannot close while its refund {goodwill.case_id} is approved"):
        close(app, rid, 3)
    paid(app, goodwill.case_id, 4)
    assert close(app, rid, 5).status == "closed"


def test_the_read_models_and_the_desk_follow_a_reopened_return(app: Services,
                                                               tmp_path: Path) -> None:
    """A return reopened (``Reopened``) is no longer listed as resolved: the `cases` row is
    back in approved with its refund deadline as its next one (the desk's queue lists it, and
    overdue past that time), the `deadlines` row is open again, and `returns_by_reason`,
    which counts requests and their eligibility, is as before (a reopening is no request)."""
    order(app)
    rid = returned(app)
    due = app.store.load(ReturnCase, rid).deadlines["refund"].due_at
    resolved = app.resolutions.resolve(caller(app, "agent-1"), rid, AT + timedelta(hours=2),
                                       resolution="refund")
    app.refunds.reject(caller(app, "sup-1"), UUID(resolved.related["refund_case_id"]),
                       "wrong account", AT + timedelta(hours=5))
    read = ReadDatabase(f"sqlite:///{tmp_path / 'read.sqlite'}")
    try:
        applied_by_a_runner(app, read)
        (row,) = read.query("SELECT status, next_deadline FROM cases WHERE case_id = ?",
                            (str(rid),))
        assert (row["status"], utc_time(row["next_deadline"])) == ("approved", due)
        (deadline,) = read.query("SELECT state, due_at FROM deadlines WHERE case_id = ? "
                                 "AND name = 'refund'", (str(rid),))
        assert (deadline["state"], utc_time(deadline["due_at"])) == ("open", due)
        (counted,) = read.query("SELECT requests, approved FROM returns_by_reason")
        assert (counted["requests"], counted["approved"]) == (1, 1)
        reader, assignments = Reader("en", "Europe/Berlin"), Assignments(app.store.recorder)
        later = due + timedelta(hours=1)
        resolved_ones = queue(read, assignments, Query(filters={"case_type": "return",
                                                                "status": "resolved"}),
                              "agent-1", reader, later)
        assert resolved_ones.rows == []
        overdue = queue(read, assignments, Query(view="overdue"), "agent-1", reader, later)
        assert [r["case_id"] for r in overdue.rows] == [str(rid)]
    finally:
        read.close()
