"""``exchange.settlement``: what an exchange for another item (or the same one) settles.

The buyer paid for the returned units (their list price less their share of the order
discount); the replacement costs its unit price times the units sent. A cheaper replacement
leaves a difference the merchant refunds (a RefundCase with its own decisions); a dearer one
leaves a difference the buyer owes, recorded on the return; the same value settles nothing.
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
    if difference.is_zero():
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
    return PolicyDecision(POLICY_ID, version, copy_json(inputs), outcome, reasons,
                          tuple(rules), details)


@policy(POLICY_ID, 1, settings=SETTINGS_V1)
def exchange_settlement_v1(inputs: JSON, settings: ExchangeSettings) -> PolicyDecision:
    return decide(inputs, settings, 1)
