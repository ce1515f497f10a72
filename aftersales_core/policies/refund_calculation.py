"""``refund.calculation``: how much to refund, component by component, in the order currency."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from aftersales_core.decisions import JSON, PolicyDecision, copy_json
from aftersales_core.money import Money, total
from aftersales_core.outcomes import RefundCalculation
from aftersales_core.policies.reading import Line, Reader, percent
from aftersales_core.policies.refund_components import Selection, select, share
from aftersales_core.policies.registry import policy
from aftersales_core.policies.vocabulary import (
    FULFILMENTS,
    INSPECTION_GRADES,
    REFUND_SOURCES,
    SHIPPING_PAYERS,
)

POLICY_ID = "refund.calculation"


@dataclass(frozen=True)
class RefundSettings:
    """Settings of refund.calculation v1."""

    restocking_fee_rate: Decimal = Decimal("0.10")  # of the items component
    restocking_grades: frozenset[str] = frozenset({"C", "D"})
    # Sources that refund the order itself: its shipping, duties and taxes go back in full.
    whole_order_sources: frozenset[str] = frozenset({"cancellation", "logistics_exception"})
    # No-reason returns whose law refunds the price of the goods only, not the outbound delivery.
    goods_only_withdrawal_regimes: frozenset[str] = frozenset({"cn_no_reason_7d",
                                                               "cn_cross_border"})
    # The component an amount asked for by a goodwill refund is booked under (v1: items).
    goodwill_amount_component: str = "items"


SETTINGS_V1 = RefundSettings()
# v2: a goodwill refund's amount is goodwill, so that reports of goodwill spend are right.
SETTINGS_V2 = RefundSettings(goodwill_amount_component="goodwill")


def line_quantities(items: list[Reader], lines: list[Line]) -> dict[str, int]:
    """Units per line from ``[{line_id, quantity}]``: lines of the order, each once, never
    more units than were ordered."""
    by_id = {line.line_id: line for line in lines}
    quantities: dict[str, int] = {}
    for item in items:
        line_id = item.text("line_id")
        if line_id not in by_id:
            raise item.error("line_id", f"{line_id!r} is not a line of the order")
        if line_id in quantities:
            raise item.error("line_id", f"{line_id!r} is listed twice")
        quantity = item.count("quantity", 1)
        if quantity > by_id[line_id].quantity:
            raise item.error("quantity", f"{quantity} is more than the {by_id[line_id].quantity} "
                                         "ordered")
        quantities[line_id] = quantity
    return quantities


def decide(inputs: JSON, settings: RefundSettings, version: int) -> PolicyDecision:
    read = Reader(POLICY_ID, inputs)
    source = read.text("source", REFUND_SOURCES)
    read.market()
    read.text("fulfilment", FULFILMENTS)
    currency = read.currency()
    regime = read.optional_text("regime")
    merchant_fault, withdrawal = read.flag("merchant_fault"), read.flag("is_withdrawal")
    tax_refundable = read.flag("tax_refundable")
    lines = read.lines("order_lines", currency, allow_empty=True)
    quantities = line_quantities(read.items("refund_lines"), lines)
    explicit = read.optional_money("amount", currency)
    shipping_fee, duties, taxes, discount, paid, already = (
        read.money(name, currency) for name in
        ("shipping_fee", "duties", "taxes", "discount", "paid", "already_refunded"))
    grade = read.optional_text("inspection_grade", INSPECTION_GRADES)
    payer = read.optional_text("return_shipping_payer", SHIPPING_PAYERS)
    return_cost = read.optional_money("return_shipping_cost", currency)
    goodwill = read.optional_money("goodwill", currency)
    if already > paid:
        raise read.error("already_refunded", f"{already} is more than the {paid} paid")

    reasons: list[str] = []
    whole_order = source in settings.whole_order_sources
    if whole_order and not quantities and explicit is None:
        quantities = {line.line_id: line.quantity for line in lines}
        reasons.append(f"a {source.replace('_', ' ')} without lines refunds the whole order")
    picked = select(lines, quantities, discount)
    components: dict[str, Money] = {}
    rules = ["refund.items"]
    if explicit is not None and source == "goodwill" and \
            settings.goodwill_amount_component == "goodwill":
        components["items"] = Money.zero(currency)
        components["goodwill"] = explicit
        reasons.append(f"goodwill {explicit}: the amount asked for, a goodwill gesture (no goods "
                       "are refunded)")
        rules = ["refund.goodwill"]
    elif explicit is not None:
        components["items"] = explicit
        reasons.append(f"items {explicit}: the amount asked for")
    else:
        components["items"] = picked.items
        reasons.append(_items_reason(picked, discount))

    if whole_order or merchant_fault or (withdrawal and regime
                                         not in settings.goods_only_withdrawal_regimes):
        why = f"a {source.replace('_', ' ')}" if whole_order else \
            "the merchant's fault" if merchant_fault else "a withdrawal"
        components["outbound_shipping"] = _prorate(shipping_fee, picked, "outbound shipping",
                                                   why, reasons)
        rules.append("refund.outbound_shipping")
    if tax_refundable or whole_order:
        why = f"a {source.replace('_', ' ')}" if whole_order else "the taxes follow the goods"
        components["duties"] = _prorate(duties, picked, "duties", why, reasons)
        components["taxes"] = _prorate(taxes, picked, "taxes", why, reasons)
        rules.append("refund.duties_and_taxes")
    if grade in settings.restocking_grades:
        if withdrawal or merchant_fault:
            reasons.append(f"no restocking fee for grade {grade}: never charged on a withdrawal "
                           "or a merchant-fault return")
        else:
            fee = components["items"].times(settings.restocking_fee_rate)
            components["restocking_fee"] = -fee
            reasons.append(f"restocking fee {fee}: {percent(settings.restocking_fee_rate)} of "
                           f"the items for inspection grade {grade}")
        rules.append("refund.restocking_fee")
    if payer == "buyer" and return_cost is not None:
        components["return_shipping"] = -return_cost
        reasons.append(f"return shipping {return_cost} deducted: the buyer pays it and the "
                       "merchant issued the label")
        rules.append("refund.return_shipping")
    if goodwill is not None:
        components["goodwill"] = components.get("goodwill", Money.zero(currency)) + goodwill
        reasons.append(f"goodwill {goodwill} added")
        if "refund.goodwill" not in rules:
            rules.append("refund.goodwill")

    uncapped = total(list(components.values()), currency)
    refundable = paid - already
    amount = uncapped.max(Money.zero(currency)).min(refundable)
    outcome = RefundCalculation.NOTHING_TO_REFUND if amount.is_zero() else \
        RefundCalculation.CAPPED if amount < uncapped else RefundCalculation.CALCULATED
    if amount < uncapped:
        reasons.append(f"capped at {refundable}: {paid} paid, {already} already refunded")
        rules.append("refund.cap")
    reasons.append(f"total {amount}" if uncapped >= Money.zero(currency) else
                   f"total {amount}: the deductions {uncapped} outweigh the refund")
    details: JSON = {
        "components": {name: str(value.amount) for name, value in components.items()
                       if not value.is_zero()},
        "components_total": str(uncapped.amount),
        "total": str(amount.amount),
        "currency": currency,
        "refundable_before": str(refundable.amount),
    }
    return PolicyDecision(POLICY_ID, version, copy_json(inputs), outcome, tuple(reasons),
                          tuple(rules), details)


def _items_reason(picked: Selection, discount: Money) -> str:
    if discount.is_zero() or picked.items == picked.gross:
        return f"items {picked.items}: the refunded lines' value"
    return f"items {picked.items}: the refunded lines' value {picked.gross} less " \
           f"{picked.gross - picked.items} of the {discount} order discount, pro-rated by value"


def _prorate(whole: Money, picked: Selection, name: str, why: str, reasons: list[str]) -> Money:
    part = share(whole, picked.taken, picked.rest)
    if not whole.is_zero():
        scope = "in full" if part == whole else f"pro rata, of {whole}"
        reasons.append(f"{name} {part} refunded {scope}: {why}")
    return part


@policy(POLICY_ID, 1, settings=SETTINGS_V1)
def refund_calculation_v1(inputs: JSON, settings: RefundSettings) -> PolicyDecision:
    return decide(inputs, settings, 1)


@policy(POLICY_ID, 2, settings=SETTINGS_V2)
def refund_calculation_v2(inputs: JSON, settings: RefundSettings) -> PolicyDecision:
    return decide(inputs, settings, 2)
