"""Properties that hold for every input: re-runs agree, refunds stay within what was paid."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import orjson
from hypothesis import given
from hypothesis import strategies as st

from aftersales_core.decisions import JSON, PolicyDecision
from aftersales_core.money import Money, total
from aftersales_core.policies import evaluate, rerun
from aftersales_core.policies.reading import Line
from aftersales_core.policies.refund_components import net_line_values
from tests.unit.policies import strategies

POLICY_INPUTS = st.one_of(
    st.tuples(st.just("return.eligibility"), strategies.eligibility_inputs()),
    st.tuples(st.just("buyer.abuse_signal"), strategies.abuse_inputs()),
    st.tuples(st.just("return.shipping"), strategies.shipping_inputs()),
    st.tuples(st.just("refund.calculation"), strategies.refund_inputs()),
    st.tuples(st.just("refund.approval"), strategies.approval_inputs()),
    st.tuples(st.just("complaint.triage"), strategies.triage_inputs()),
    st.tuples(st.just("logistics.exception"), strategies.logistics_inputs()),
    st.tuples(st.just("return.disposition"), strategies.disposition_inputs()),
)


@given(POLICY_INPUTS)
def test_every_recorded_decision_reruns_to_the_same_result(case: tuple[str, JSON]) -> None:
    policy_id, inputs = case
    decision = evaluate(policy_id, inputs)
    stored = PolicyDecision.from_json(orjson.loads(orjson.dumps(decision.to_json())))
    assert stored == decision  # inputs and details are plain JSON
    assert rerun(stored).same_result_as(decision)
    assert rerun(stored).rules == decision.rules


@given(strategies.refund_inputs())
def test_a_refund_is_never_negative_nor_above_what_was_paid_and_not_yet_refunded(
        inputs: JSON) -> None:
    details = evaluate("refund.calculation", inputs).details
    refund = Money.of(details["total"], inputs["currency"])
    left = Money.of(inputs["paid"], inputs["currency"]) - Money.of(inputs["already_refunded"],
                                                                   inputs["currency"])
    assert Money.zero(inputs["currency"]) <= refund <= left
    assert details["refundable_before"] == str(left.amount)


@given(strategies.refund_inputs())
def test_every_refund_component_is_in_the_order_currency(inputs: JSON) -> None:
    currency = inputs["currency"]
    details = evaluate("refund.calculation", inputs).details
    assert details["currency"] == currency
    amounts = [*details["components"].values(), details["total"], details["components_total"]]
    for text in amounts:
        assert str(Money.of(text, currency).amount) == text  # exact to the minor unit
    parts = [Money.of(text, currency) for text in details["components"].values()]
    assert str(total(parts, currency).amount) == details["components_total"]


@given(strategies.refund_inputs())
def test_the_outcome_says_whether_the_refund_was_capped(inputs: JSON) -> None:
    decision = evaluate("refund.calculation", inputs)
    refund = Decimal(decision.details["total"])
    # v3 records the total before the cap apart: its components add up to the refund
    uncapped = Decimal(decision.details.get("uncapped_total",
                                            decision.details["components_total"]))
    if refund == 0:
        assert decision.outcome == "nothing_to_refund"
    else:
        assert decision.outcome == ("capped" if refund < uncapped else "calculated")


@given(st.data())
def test_discount_pro_rating_neither_creates_nor_loses_a_cent(data: st.DataObject) -> None:
    currency = data.draw(st.sampled_from(strategies.CURRENCIES))
    raw = data.draw(strategies.order_lines(currency, most=8))
    lines = [Line(r["line_id"], r["sku"], r["category"], r["quantity"],
                  Money.of(r["unit_price"], currency)) for r in raw]
    value = total([line.value for line in lines], currency)
    share = data.draw(st.fractions(0, 1))
    discount = Money(value.amount * share.numerator / share.denominator, currency)
    net = net_line_values(lines, discount)
    assert total(list(net.values()), currency) == value - discount
    assert all(not part.is_negative() for part in net.values())


@given(strategies.eligibility_inputs())
def test_an_approved_return_was_requested_within_its_window(inputs: JSON) -> None:
    decision = evaluate("return.eligibility", inputs)
    if decision.outcome == "approve":
        ends = datetime.fromisoformat(decision.details["window_ends_at"])
        assert datetime.fromisoformat(inputs["requested_at"]) <= ends


@given(strategies.approval_inputs())
def test_no_one_ever_approves_a_refund_they_requested(inputs: JSON) -> None:
    decision = evaluate("refund.approval", inputs)
    if inputs["approver"] == inputs["requested_by"]:
        assert decision.outcome == "refuse"
    if decision.outcome in ("approve", "auto_approve") and decision.details["requires_supervisor"]:
        assert inputs["approver_role"] == "supervisor"
