"""Money arithmetic of refunds: discount pro-rating and shares that never create or lose a cent."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from aftersales_core.errors import InvalidCommandError
from aftersales_core.money import Money, quantum, total
from aftersales_core.policies.reading import Line


def share(whole: Money, taken: Decimal, rest: Decimal) -> Money:
    """The part of ``whole`` in proportion taken : rest, split with ``Money.allocate``.

    Taking everything gives exactly ``whole``; the part and what is left always add up to it.
    """
    if whole.is_zero() or taken <= 0:
        return Money.zero(whole.currency)
    if rest <= 0:
        return whole
    return whole.allocate([taken, rest])[0]


def cumulative(whole: Money, done: Decimal, of: Decimal) -> Money:
    """The share of ``whole`` that a weight ``done`` of ``of`` takes, rounded half-even to the
    minor unit with exact arithmetic: 0 at 0, exactly ``whole`` at ``of``, never decreasing in
    between. The part of units r+1..r+k is ``cumulative(r + k) - cumulative(r)``, so parts taken
    in any number of steps add up to ``whole`` once every unit is taken."""
    if done <= 0 or of <= 0:
        return Money.zero(whole.currency)
    if done >= of:
        return whole
    step = quantum(whole.currency)
    minor = round(Fraction(whole.amount / step) * Fraction(done) / Fraction(of))
    return Money(Decimal(minor) * step, whole.currency)


def net_line_values(lines: list[Line], discount: Money) -> dict[str, Money]:
    """Each line's value less its share of the order discount, pro-rated by line value.

    The shares come from one allocation, so the discounts of all lines add up to the discount.
    """
    values = {line.line_id: line.value for line in lines}
    if discount.is_zero():
        return values
    order_value = total(list(values.values()), discount.currency)
    if discount > order_value:
        raise InvalidCommandError(f"refund.calculation: discount {discount} exceeds the value "
                                  f"{order_value} of the order lines")
    parts = discount.allocate([value.amount for value in values.values()])
    return {line_id: value - part for (line_id, value), part in zip(values.items(), parts,
                                                                    strict=True)}


@dataclass(frozen=True)
class Selection:
    """The lines and quantities a refund covers, measured against the whole order."""

    items: Money  # net of the pro-rated discount
    gross: Money  # the same lines at their list price
    taken: Decimal  # weight of the refunded part for pro-rating shipping, duties and taxes
    rest: Decimal  # weight of what stays with the buyer


def select(lines: list[Line], quantities: dict[str, int], discount: Money) -> Selection:
    """Value the refunded quantities of each line; weights are by value (by units if all free)."""
    currency = discount.currency
    net = net_line_values(lines, discount)
    items, gross = Money.zero(currency), Money.zero(currency)
    taken_value = rest_value = Decimal(0)
    taken_units = rest_units = Decimal(0)
    for line in lines:
        count = quantities.get(line.line_id, 0)
        items = items + share(net[line.line_id], Decimal(count), Decimal(line.quantity - count))
        gross = gross + line.unit_price.times(count)
        taken_value += line.unit_price.amount * count
        rest_value += line.unit_price.amount * (line.quantity - count)
        taken_units += count
        rest_units += line.quantity - count
    if taken_value + rest_value > 0:
        return Selection(items, gross, taken_value, rest_value)
    return Selection(items, gross, taken_units, rest_units)
