"""The refund ``refund.calculation`` v3 on works out (refund_calculation_v3.py): its
components as they are booked, each at most what is left of what was paid for it and within
the units it may take, and the cap on the whole (what is left to refund on the order), taken
off the components pro rata, with the decision that records it all."""

from __future__ import annotations

from aftersales_core.decisions import JSON, PolicyDecision
from aftersales_core.money import Money, total
from aftersales_core.outcomes import RefundCalculation
from aftersales_core.policies.reading import Line
from aftersales_core.policies.refund_calculation import POLICY_ID
from aftersales_core.policies.refund_ledger import Taken

NAMES = {"items": "items", "outbound_shipping": "outbound shipping", "duties": "duties",
         "taxes": "taxes", "goodwill": "goodwill", "restocking_fee": "restocking fee",
         "return_shipping": "return shipping"}


class Refund:
    """The components of one refund as they are worked out, with the units each took."""

    def __init__(self, lines: list[Line], quantities: dict[str, int], ledger: dict[str, Taken],
                 currency: str, left: dict[str, dict[str, int]] | None = None) -> None:
        self.lines, self.quantities, self.ledger = lines, quantities, ledger
        self.currency = currency
        self.left = left  # v5: a return's units its earlier refunds did not take, per component
        self.unsealed: dict[str, int] = {}  # v6: units found with the seal broken, per line
        self.components: dict[str, Money] = {}
        self.units: dict[str, dict[str, int]] = {}
        self.reasons: list[str] = []
        self.rules: list[str] = []

    def fresh(self, name: str) -> dict[str, int]:
        """Units of each line this refund takes the share of ``name`` of: those asked for, less
        any whose share earlier refunds took."""
        before = self.ledger[name].units
        fresh = {line.line_id: min(self.quantities.get(line.line_id, 0),
                                   line.quantity - before.get(line.line_id, 0))
                 for line in self.lines}
        if self.left is not None and name in self.left:  # v5: and the return's units left
            return {line_id: min(n, self.left[name].get(line_id, 0))
                    for line_id, n in fresh.items()}
        return fresh

    def book(self, name: str, part: Money, paid: Money, why: str,
             units: dict[str, int] | None = None) -> None:
        """Book ``part`` under ``name``, at most what is left of the ``paid`` for it."""
        left = (paid - self.ledger[name].amount).max(Money.zero(self.currency))
        if units is not None and any(units.values()):
            self.units[name] = {line_id: n for line_id, n in units.items() if n}
        if part > left:
            self.reasons.append(f"{why}; {NAMES[name]} capped at {left}: {paid} paid, "
                                f"{self.ledger[name].amount} refunded before")
            if "refund.component_cap" not in self.rules:
                self.rules.append("refund.component_cap")
            part = left
        elif why:
            self.reasons.append(why)
        self.components[name] = part


def _take(parts: dict[str, Money], cut: Money) -> dict[str, Money]:
    """``cut`` (at most their sum) taken off ``parts`` pro rata to their size; what is left."""
    shares = cut.allocate([part.amount for part in parts.values()])
    return {name: part - share for (name, part), share in zip(parts.items(), shares,
                                                              strict=True)}


def _cuts(before: dict[str, Money], after: dict[str, Money]) -> str:
    return ", ".join(f"{NAMES[name]} {before[name] - left}" for name, left in after.items()
                     if left != before[name])


def capped(refund: Refund, paid: Money, already: Money, inputs: JSON,
            version: int) -> PolicyDecision:
    currency, zero = refund.currency, Money.zero(refund.currency)
    components, reasons, rules = refund.components, refund.reasons, refund.rules
    uncapped = total(list(components.values()), currency)
    refundable = paid - already
    amount = uncapped.max(zero).min(refundable)
    if uncapped > amount:  # above what is left to refund: less of each positive component
        positive = {name: v for name, v in components.items() if v > zero}
        kept = _take(positive, uncapped - amount)
        components.update(kept)
        reasons.append(f"capped at {refundable}: {paid} paid, {already} already refunded; "
                       f"taken off the components pro rata: {_cuts(positive, kept)}")
        rules.append("refund.cap")
    elif uncapped < amount:  # below zero: deduct only what there was to deduct from
        deducted = {name: -v for name, v in components.items() if v.is_negative()}
        kept = _take(deducted, amount - uncapped)
        components.update({name: -v for name, v in kept.items()})
        reasons.append(f"the deductions outweigh the refund by {amount - uncapped}: only what "
                       f"there was to deduct from is deducted ({_cuts(deducted, kept)} less)")
    outcome = RefundCalculation.NOTHING_TO_REFUND if amount.is_zero() else \
        RefundCalculation.CAPPED if amount < uncapped else RefundCalculation.CALCULATED
    reasons.append(f"total {amount}")
    assert total(list(components.values()), currency) == amount
    details: JSON = {
        "components": {name: str(value.amount) for name, value in components.items()
                       if not value.is_zero()},
        "components_total": str(amount.amount),
        "uncapped_total": str(uncapped.amount),
        "total": str(amount.amount),
        "currency": currency,
        "refundable_before": str(refundable.amount),
        "units": {name: [{"line_id": line_id, "quantity": n} for line_id, n in units.items()]
                  for name, units in refund.units.items()},
    }
    return PolicyDecision(POLICY_ID, version, inputs, outcome, tuple(reasons), tuple(rules),
                          details)
