"""Under the built-in book the book-governed versions decide exactly as the versions before
them did: books change nothing until a merchant sets one (hypothesis over the inputs)."""

from __future__ import annotations

from hypothesis import given, settings

from aftersales_core.decisions import JSON
from aftersales_core.policies import evaluate
from tests.unit.policies import strategies

# v3 gives China's own refund term to a domestic fault return (v2: the merchant default's),
# and names each line's category rule after the category (v2: "category.standard" too)
IGNORED = {"categories", "refund_due_days"}


@settings(max_examples=300, deadline=None)
@given(strategies.eligibility_inputs())
def test_eligibility_v3_decides_as_v2(inputs: JSON) -> None:
    v2, v3 = (evaluate("return.eligibility", inputs, v) for v in (2, 3))
    assert v3.outcome == v2.outcome
    assert {k: v for k, v in v3.details.items() if k not in IGNORED} == \
        {k: v for k, v in v2.details.items() if k not in IGNORED}


@settings(max_examples=300, deadline=None)
@given(strategies.shipping_inputs())
def test_shipping_v3_decides_as_v2(inputs: JSON) -> None:
    v2, v3 = (evaluate("return.shipping", inputs, v) for v in (2, 3))
    assert (v3.outcome, v3.details, v3.reasons, v3.rules) == \
        (v2.outcome, v2.details, v2.reasons, v2.rules)


@settings(max_examples=300, deadline=None)
@given(strategies.triage_inputs())
def test_triage_v2_sets_v1s_deadlines(inputs: JSON) -> None:
    v1, v2 = (evaluate("complaint.triage", inputs, v) for v in (1, 2))
    assert v2.outcome == v1.outcome
    for key in ("first_response_due", "resolution_due", "route", "first_response_hours"):
        assert v2.details[key] == v1.details[key]
