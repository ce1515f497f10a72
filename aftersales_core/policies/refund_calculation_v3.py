"""``refund.calculation`` v3: components that add up to the refund and, over all the refunds of
an order, never to more than was paid for each of them (v4 only words one reason right: see
``refund_calculation_v4``; v5 caps a refund of a return by the return's own units: see
``refund_calculation_v5``; v6, the current one, caps an amount asked for a return's units by
what they were paid and names the rule that waives a restocking fee: see
``refund_calculation_v6``).

What changed from v2 (``refund_calculation.py``, still registered for re-runs; the same settings
and the same rules otherwise):

* v2 capped the amount at what was left to refund but recorded the components uncapped (items
  80.00 + outbound shipping 10.00 for a refund of 10.00). v3 takes what the cap cuts off the
  positive components, pro rata to their size (``Money.allocate``: the rounding remainder to the
  largest fractions first), and a refund floored at zero deducts only what there was to deduct
  from, so the components always add up to the amount.
* v2 pro-rated each refund alone, so three one-unit refunds of a 2,900 JPY line took 967 each.
  v3 gives the units r+1..r+k of a line ``cumulative(r + k) - cumulative(r)`` of the line's
  value after its share of the order discount, where r are the units whose share earlier refunds
  already took: each unit is within one minor unit of an exact share, and all of them, refunded
  at once or in any number of refunds, take exactly the line's value. Outbound shipping, duties
  and taxes are shared the same way over the order's units, weighted by list price (by units when
  every line is free).
* Items, outbound shipping, duties and taxes are each at most what was paid for them less what
  earlier refunds of the order took (``already_refunded_by_component``, new input: the amounts
  and units of each, ``refund_ledger.py``), an amount asked for (booked as items) too.
"""

from __future__ import annotations

from decimal import Decimal

from aftersales_core.decisions import JSON, PolicyDecision, copy_json
from aftersales_core.money import Money, total
from aftersales_core.policies.reading import Reader, percent
from aftersales_core.policies.refund_booking import NAMES, Refund, capped
from aftersales_core.policies.refund_calculation import (
    POLICY_ID,
    SETTINGS_V2,
    RefundSettings,
    line_quantities,
)
from aftersales_core.policies.refund_components import cumulative, net_line_values
from aftersales_core.policies.refund_ledger import read_ledger
from aftersales_core.policies.refund_return_units import (
    described,
    leave_out_unsealed,
    return_units_left,
    seal_broken,
    units_value,
    waiver,
)
from aftersales_core.policies.registry import policy
from aftersales_core.policies.vocabulary import (
    FULFILMENTS,
    INSPECTION_GRADES,
    REFUND_SOURCES,
    SHIPPING_PAYERS,
    is_cn_cross_border,
)


def decide(inputs: JSON, settings: RefundSettings, version: int) -> PolicyDecision:
    read = Reader(POLICY_ID, inputs)
    source = read.text("source", REFUND_SOURCES)
    market, fulfilment = read.market(), read.text("fulfilment", FULFILMENTS)
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
    ledger = read_ledger(read, lines, currency)
    left = return_units_left(read, lines) if version >= 5 else None
    broken = seal_broken(read, lines) if version >= 6 else {}
    grade = read.optional_text("inspection_grade", INSPECTION_GRADES)
    payer = read.optional_text("return_shipping_payer", SHIPPING_PAYERS)
    return_cost = read.optional_money("return_shipping_cost", currency)
    goodwill = read.optional_money("goodwill", currency)
    if already > paid:
        raise read.error("already_refunded", f"{already} is more than the {paid} paid")

    whole_order = source in settings.whole_order_sources
    refund = Refund(lines, quantities, ledger, currency, left)
    if left is not None and broken:
        leave_out_unsealed(refund, broken)
    if whole_order and not quantities and explicit is None:
        refund.quantities = {line.line_id: line.quantity for line in lines}
        refund.reasons.append(f"a {source.replace('_', ' ')} without lines refunds the whole "
                              "order")
    net = net_line_values(lines, discount)
    items_paid = total(list(net.values()), currency)
    refund.rules.append("refund.items")
    if explicit is not None and source == "goodwill" and \
            settings.goodwill_amount_component == "goodwill":
        refund.components["items"] = Money.zero(currency)
        refund.components["goodwill"] = explicit
        refund.reasons.append(f"goodwill {explicit}: the amount asked for, a goodwill gesture "
                              "(no goods are refunded)")
        refund.rules = ["refund.goodwill"]
    elif explicit is not None:
        # v5: an amount for units of a return takes those units (its later refunds get the
        # rest); v3 and v4 booked it without units. A goodwill or complaint amount is a
        # compensation: it takes no units, and only the order's caps apply to it
        units = refund.fresh("items") if left is not None else None
        asked, why = explicit, f"items {explicit}: the amount asked for"
        if units is not None and quantities and version >= 6:  # v6: at most what they were paid
            worth = units_value(refund, net, units)
            if explicit > worth:
                asked = worth
                why += f", capped at {worth}: what the return's units it takes " \
                       f"({described(units)}) were paid, less what was refunded of them before"
                refund.rules.append("refund.return_units_cap")
        refund.book("items", asked, items_paid, why, units)
    else:
        _items(refund, net, items_paid, discount, version)

    if whole_order or merchant_fault or (withdrawal and regime
                                         not in settings.goods_only_withdrawal_regimes):
        why = f"a {source.replace('_', ' ')}" if whole_order else \
            "the merchant's fault" if merchant_fault else "a withdrawal"
        _fee(refund, "outbound_shipping", shipping_fee, why)
        refund.rules.append("refund.outbound_shipping")
    # v6: a China cross-border order cancelled after its customs release was imported: its
    # cross-border tax is charged and the buyer's quota stays used, as for a return that is no
    # customs return (v5 refunded the tax in full while the quota stayed used)
    released = read.optional_time("customs_released_at") if version >= 6 and \
        source == "cancellation" and is_cn_cross_border(market, fulfilment) and \
        read.inputs.get("customs_released_at") is not None else None
    if released is not None and not tax_refundable:
        if not (duties.is_zero() and taxes.is_zero()):
            refund.reasons.append(
                f"duties {duties} and taxes {taxes} not refunded: the order was cancelled after "
                f"its goods cleared customs ({released.isoformat()}), so they were imported; "
                "only a customs return (the goods back in the bonded zone in time) refunds the "
                "cross-border tax and restores the buyer's annual quota, and the quota stays "
                "used")
        refund.rules.append("refund.cancelled_after_customs_release")
    elif tax_refundable or whole_order:
        why = f"a {source.replace('_', ' ')}" if whole_order else "the taxes follow the goods"
        _fee(refund, "duties", duties, why)
        _fee(refund, "taxes", taxes, why)
        refund.rules.append("refund.duties_and_taxes")
    waived = waiver(regime, withdrawal, merchant_fault) if version >= 6 else \
        "a withdrawal or a merchant-fault return"
    _deductions_and_goodwill(refund, settings, grade, withdrawal or merchant_fault, waived,
                             payer, return_cost, goodwill)
    return capped(refund, paid, already, copy_json(inputs), version)


def _items(refund: Refund, net: dict[str, Money], items_paid: Money, discount: Money,
           version: int) -> None:
    fresh = refund.fresh("items")
    before = refund.ledger["items"].units
    part = units_value(refund, net, fresh)
    gross, notes = Money.zero(refund.currency), []
    for line in refund.lines:
        done, count = before.get(line.line_id, 0), fresh[line.line_id]
        gross = gross + line.unit_price.times(count)
        asked = refund.quantities.get(line.line_id, 0)
        kept = None if refund.left is None else refund.left["items"].get(line.line_id, 0)
        unsealed = refund.unsealed.get(line.line_id, 0)
        wanted = min(asked, line.quantity - done)
        if kept is not None and asked > count and kept < wanted <= kept + unsealed:
            notes.append(f"{unsealed} of line {line.line_id} found with the seal broken: "
                         f"{count} of the {asked} asked for left to refund")
        elif kept is not None and asked > count and kept < wanted:
            notes.append(f"of line {line.line_id} the return's earlier refunds took all but "
                         f"{kept} of its units: {count} of the {asked} asked for left to "
                         "refund")
        elif asked > count and version >= 4:  # the units refunded before, and what is left
            notes.append(f"{done} of line {line.line_id} refunded before: {count} of the "
                         f"{asked} asked for left to refund")
        elif asked > count:  # v3: said the overlap with the request, not the units before
            notes.append(f"{asked - count} of line {line.line_id} refunded before")
    if discount.is_zero() or part == gross:
        why = f"items {part}: the refunded lines' value"
    else:
        why = f"items {part}: the refunded lines' value {gross} less {gross - part} of the " \
              f"{discount} order discount, pro-rated by value, unit by unit"
    if notes:
        why += f" ({'; '.join(notes)})"
    refund.book("items", part, items_paid, why, fresh)


def _fee(refund: Refund, name: str, whole: Money, why: str) -> None:
    """Outbound shipping, duties or taxes: the share of the units refunded, weighted by list
    price (by units when every line is free)."""
    free = all(line.unit_price.is_zero() for line in refund.lines)
    weight = {line.line_id: Decimal(1) if free else line.unit_price.amount
              for line in refund.lines}
    fresh, before = refund.fresh(name), refund.ledger[name].units
    of = sum((weight[line.line_id] * line.quantity for line in refund.lines), Decimal(0))
    done = sum((weight[id_] * n for id_, n in before.items() if id_ in weight), Decimal(0))
    now = sum((weight[id_] * n for id_, n in fresh.items()), Decimal(0))
    part = cumulative(whole, done + now, of) - cumulative(whole, done, of)
    words = ""
    if not whole.is_zero():
        scope = "in full" if part == whole else f"pro rata, of {whole}"
        words = f"{NAMES[name]} {part} refunded {scope}: {why}"
    refund.book(name, part, whole, words, fresh)


def _deductions_and_goodwill(refund: Refund, settings: RefundSettings, grade: str | None,
                             protected: bool, waived: str, payer: str | None,
                             return_cost: Money | None, goodwill: Money | None) -> None:
    components, reasons, rules = refund.components, refund.reasons, refund.rules
    if grade in settings.restocking_grades:
        if protected:
            reasons.append(f"no restocking fee for grade {grade}: never charged on {waived}")
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
        components["goodwill"] = components.get("goodwill", Money.zero(refund.currency)) + \
            goodwill
        reasons.append(f"goodwill {goodwill} added")
        if "refund.goodwill" not in rules:
            rules.append("refund.goodwill")


@policy(POLICY_ID, 3, settings=SETTINGS_V2)
def refund_calculation_v3(inputs: JSON, settings: RefundSettings) -> PolicyDecision:
    return decide(inputs, settings, 3)


@policy(POLICY_ID, 4, settings=SETTINGS_V2)
def refund_calculation_v4(inputs: JSON, settings: RefundSettings) -> PolicyDecision:
    """v3 with one reason corrected: a line whose units were partly refunded before says how
    many were ("2 of line l1 refunded before: 1 of the 2 asked for left to refund"); v3 said
    the overlap with the request as if it were that count. The same settings, inputs and sums."""
    return decide(inputs, settings, 4)


@policy(POLICY_ID, 5, settings=SETTINGS_V2)
def refund_calculation_v5(inputs: JSON, settings: RefundSettings) -> PolicyDecision:
    """v4 with input ``return_units_left`` (null, or absent, for a refund that is not of a
    return): a refund of a return takes of each component at most the units of the return's
    lines that its earlier refunds not rejected did not take, so one returned unit is refunded
    once, whatever the order's other units; an amount asked for a return's units takes those
    units. The same settings; without the input, v4's sums."""
    return decide(inputs, settings, 5)


@policy(POLICY_ID, 6, settings=SETTINGS_V2)
def refund_calculation_v6(inputs: JSON, settings: RefundSettings) -> PolicyDecision:
    """v5 with two changes. An amount asked for a return's units is at most what those units
    were paid (their items, after their share of the discount, less what the order's earlier
    refunds took of them by units), their shares of outbound shipping, duties and taxes added
    as v5 adds them: v5 capped it at the whole order line, so one returned unit of 100.00 was
    refunded 290.00 (rule ``refund.return_units_cap``). A goodwill or complaint amount, and an
    amount of a return's refund that names no lines (a price reduction after a failed repair),
    is a compensation for goods kept: it takes no units and only the order's caps apply, as in
    v5.
    And a restocking fee waived names the rule that waives it (a withdrawal, a China 7-day
    no-reason return, a merchant-fault return); v5 named a withdrawal and a merchant fault
    whichever applied. New input ``seal_broken`` (null or absent: none): a return's units whose
    return without a fault needed the seal unbroken and that the inspection found unsealed
    are refunded of no component (rule ``refund.seal_broken``). A China cross-border order
    cancelled after its customs release (input ``customs_released_at``, from the order) was
    imported: its cancellation refund leaves duties and taxes out, the quota staying used (rule
    ``refund.cancelled_after_customs_release``; v5 refunded the tax in full). The same
    settings."""
    return decide(inputs, settings, 6)
