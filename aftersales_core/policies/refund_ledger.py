"""What the earlier refunds of an order took of each component: the input
``already_refunded_by_component`` of ``refund.calculation`` v3, from their recorded calculations.

For each of items, outbound shipping, duties and taxes: the amount that the order's refunds not
rejected booked under it, and the units of each line whose share of it they took. v3 decisions
record those units (``details.units``). For v1 and v2 decisions they are the lines the refund
named (every line for a cancellation or a lost parcel without lines): for items when no amount
was asked for, for shipping, duties and taxes when their rule applied. v1 and v2 recorded a
capped refund's components uncapped: those amounts count as recorded (a later refund gets less
of such a component, never more; the cap on the order's total holds either way), and units count
at most up to the units ordered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aftersales_core.decisions import JSON, PolicyDecision
from aftersales_core.money import Money
from aftersales_core.policies.reading import Line, Reader
from aftersales_core.policies.refund_calculation import POLICY_ID, SETTINGS_V1, line_quantities

FEES = ("outbound_shipping", "duties", "taxes")
LEDGER = ("items", *FEES)
INPUT = "already_refunded_by_component"
RETURN_UNITS_LEFT = "return_units_left"  # v5: a return's units its refunds did not take


@dataclass(frozen=True)
class Taken:
    """What earlier refunds took of one component: its amount, and units per line."""

    amount: Money
    units: dict[str, int]


def read_ledger(read: Reader, lines: list[Line], currency: str) -> dict[str, Taken]:
    """``already_refunded_by_component``: ``{component: {amount, units: [{line_id, quantity}]}}``
    for each of items, outbound_shipping, duties and taxes."""
    section = read.section(INPUT)
    ledger: dict[str, Taken] = {}
    for name in LEDGER:
        part = section.section(name)
        units = line_quantities(part.items("units"), lines)
        ledger[name] = Taken(part.money("amount", currency), units)
    return ledger


def refunded_by_component(order_lines: list[dict[str, Any]], currency: str,
                          decisions: Iterable[PolicyDecision]) -> JSON:
    """The input, from the ``refund.calculation`` decisions of the order's earlier refunds."""
    ordered = {str(line["line_id"]): int(line["quantity"]) for line in order_lines}
    amounts = {name: Money.zero(currency) for name in LEDGER}
    units: dict[str, dict[str, int]] = {name: {} for name in LEDGER}
    for decision in decisions:
        if decision.policy_id != POLICY_ID:
            continue
        components = decision.details.get("components", {})
        for name in LEDGER:
            amounts[name] = amounts[name] + Money.of(components.get(name, "0"), currency)
        for name, taken in _units(decision).items():
            for line_id, count in taken.items():
                if line_id in ordered:
                    units[name][line_id] = min(ordered[line_id],
                                               units[name].get(line_id, 0) + count)
    return {name: {"amount": str(amounts[name].amount),
                   "units": [{"line_id": line_id, "quantity": units[name][line_id]}
                             for line_id in ordered if units[name].get(line_id)]}
            for name in LEDGER}


def refused_counts(decision: PolicyDecision) -> bool:
    """A refund rejected at request counts in the ledger when its calculation had nothing to
    refund because the shares of its units came to nothing (free lines whose share of a fee
    rounds to zero): no component, and not cut to nothing by the order's cap. Its units took
    their share, zero, so a later refund's share of the fee is worked out after them (else
    every unit of those lines, returned one at a time, took nothing of a fee paid for them).
    One the cap left nothing to does not count: its units' share is still owed."""
    return decision.policy_id == POLICY_ID and decision.outcome == "nothing_to_refund" \
        and not decision.details.get("components") and "refund.cap" not in decision.rules


def _counts(items: Any) -> dict[str, int]:
    return {str(item["line_id"]): int(item["quantity"]) for item in items or []}


def _units(decision: PolicyDecision) -> dict[str, dict[str, int]]:
    recorded = decision.details.get("units")
    if recorded is not None:  # v3
        return {name: _counts(items) for name, items in recorded.items()}
    inputs = decision.inputs
    lines = _counts(inputs.get("refund_lines"))
    asked = inputs.get("amount") is not None
    if not lines and not asked and inputs.get("source") in SETTINGS_V1.whole_order_sources:
        lines = _counts(inputs.get("order_lines"))
    taken: dict[str, dict[str, int]] = {}
    if not asked:
        taken["items"] = lines
    if "refund.outbound_shipping" in decision.rules:
        taken["outbound_shipping"] = lines
    if "refund.duties_and_taxes" in decision.rules:
        taken["duties"] = taken["taxes"] = lines
    return taken


def units_left(returned: list[dict[str, Any]], currency: str,
               decisions: Iterable[PolicyDecision]) -> JSON:
    """``return_units_left`` (``refund.calculation`` v5): of each component, the units of each
    returned line (``returned``: the return's ``[{line_id, quantity}]``) that the return's
    earlier refunds (``decisions``: their recorded calculations) did not take."""
    quantities = {str(line["line_id"]): int(line["quantity"]) for line in returned}
    taken = refunded_by_component(returned, currency, decisions)
    left: JSON = {}
    for name in LEDGER:
        took = {str(x["line_id"]): int(x["quantity"]) for x in taken[name]["units"]}
        left[name] = [{"line_id": line_id, "quantity": count - took.get(line_id, 0)}
                      for line_id, count in quantities.items() if count > took.get(line_id, 0)]
    return left
