"""``exchange.settlement``: what an exchange for another item (or the same one) settles.

The buyer paid for the returned units (their list price less their share of the order
discount); the replacement costs its unit price times the units sent. A cheaper replacement
leaves a difference the merchant refunds (a RefundCase with its own decisions); a dearer one
leaves a difference the buyer owes, recorded on the return; the same value settles nothing.

v2 (input ``remedy``): a replacement chosen as a remedy after a failed repair (``ChooseRemedy``)
is the legal guarantee's replacement of goods that do not conform, which is free of charge to
the buyer (Directive (EU) 2019/771 art. 14(1)(a); UK Consumer Rights Act 2015 s.23(2)(b)): the
same goods (one returned line, its SKU, as many units) settle even, whatever share of the order
discount the buyer's price carried. An exchange the buyer chose (``ResolveReturn``) still
settles the price difference. v1 charged a remedy's replacement as an exchange: a discounted
line paid 36.00 left 4.00 owed for the same 40.00 item.
"""

from __future__ import annotations

from dataclasses import dataclass

from aftersales_core.decisions import JSON, PolicyDecision, copy_json
from aftersales_core.money import Money
from aftersales_core.outcomes import ExchangeSettlement
from aftersales_core.policies.reading import Reader, amount
from aftersales_core.policies.refund_components import select
from aftersales_core.policies.registry import policy

POLICY_ID = "exchange.settlement"


@dataclass(frozen=True)
class ExchangeSettings:
    """Settings of exchange.settlement v1 (none yet: every minor unit of difference counts)."""


SETTINGS_V1 = ExchangeSettings()


def decide(inputs: JSON, settings: ExchangeSettings, version: int) -> PolicyDecision:
    read = Reader(POLICY_ID, inputs)
    currency = read.currency()
    lines = read.lines("order_lines", currency)
    discount = read.money("discount", currency)
    by_id = {line.line_id: line for line in lines}
    quantities: dict[str, int] = {}
    for item in read.items("returned_lines"):
        line_id = item.text("line_id")
        if line_id not in by_id:
            raise item.error("line_id", f"{line_id!r} is not a line of the order")
        quantity = item.count("quantity", 1)
        if quantity > by_id[line_id].quantity:
            raise item.error("quantity", f"{quantity} is more than the "
                                         f"{by_id[line_id].quantity} ordered")
        quantities[line_id] = quantity
    if not quantities:
        raise read.error("returned_lines", "must list at least one line")
    sku = read.text("replacement_sku")
    units = read.count("replacement_quantity", 1)
    price = read.money("replacement_unit_price", currency)
    remedy = read.flag("remedy") if version > 1 else False

    paid = select(lines, quantities, discount).items
    replacement = price.times(units)
    difference = paid - replacement
    rules = ["exchange.price_difference"]
    returned = ", ".join(f"{n} x line {line_id} ({by_id[line_id].sku})"
                         for line_id, n in quantities.items())
    what = f"the buyer paid {paid} for {returned}; the replacement is {units} x {sku} at " \
           f"{price}, {replacement}"
    refund: Money | None = None
    owed: Money | None = None
    if remedy:
        if len(quantities) != 1:
            raise read.error("returned_lines", "must list one line for a remedy's replacement "
                                               "(of the same goods)")
        [(line_id, returned_units)] = quantities.items()
        if sku != by_id[line_id].sku or units != returned_units:
            raise read.error("replacement_sku", f"a remedy's replacement is the same goods: "
                                                f"{returned_units} x {by_id[line_id].sku}, "
                                                f"not {units} x {sku}")
        rules = ["exchange.remedy_free_of_charge"]
        outcome = ExchangeSettlement.EVEN
        reasons = (f"{what}: a replacement as the remedy for goods that do not conform is free "
                   "of charge to the buyer (Directive (EU) 2019/771 art. 14(1)(a); UK Consumer "
                   "Rights Act 2015 s.23(2)(b)): nothing to settle",)
    elif difference.is_zero():
        outcome = ExchangeSettlement.EVEN
        reasons = (f"{what}: nothing to settle",)
    elif difference.is_negative():
        outcome, owed = ExchangeSettlement.BUYER_OWES, -difference
        reasons = (f"{what}: the buyer owes the difference of {-difference}, recorded on the "
                   "return",)
    else:
        outcome, refund = ExchangeSettlement.REFUND_DIFFERENCE, difference
        reasons = (f"{what}: the difference of {difference} is refunded",)
    details: JSON = {
        "paid_for_returned": amount(paid),
        "replacement_value": amount(replacement),
        "refund": amount(refund),
        "owed_by_buyer": amount(owed),
        "currency": currency,
    }
    if version > 1:
        details["remedy"] = remedy
    return PolicyDecision(POLICY_ID, version, copy_json(inputs), outcome, reasons,
                          tuple(rules), details)


@policy(POLICY_ID, 1, settings=SETTINGS_V1)
def exchange_settlement_v1(inputs: JSON, settings: ExchangeSettings) -> PolicyDecision:
    return decide(inputs, settings, 1)


@policy(POLICY_ID, 2, settings=SETTINGS_V1)
def exchange_settlement_v2(inputs: JSON, settings: ExchangeSettings) -> PolicyDecision:
    """v2: ``remedy`` (a replacement chosen after a failed repair) settles even: the legal
    guarantee's replacement is free of charge (Directive (EU) 2019/771 art. 14; UK CRA
    2015 s.23)."""
    return decide(inputs, settings, 2)
