"""A refund of a return's units (``refund.calculation`` v5 and v6): the units its earlier
refunds left (``return_units_left``), what units were paid, the units found unsealed that
needed the seal (``seal_broken``), and the rule that waives a restocking fee. Moved out of
``refund_calculation_v3.py``, unchanged."""

from __future__ import annotations

from decimal import Decimal

from aftersales_core.money import Money
from aftersales_core.policies.reading import Line, Reader
from aftersales_core.policies.refund_booking import Refund
from aftersales_core.policies.refund_calculation import line_quantities
from aftersales_core.policies.refund_components import cumulative
from aftersales_core.policies.refund_ledger import LEDGER, RETURN_UNITS_LEFT

SEAL_BROKEN = "seal_broken"  # v6: a return's units found unsealed that needed the seal


def units_value(refund: Refund, net: dict[str, Money], units: dict[str, int]) -> Money:
    """What ``units`` of each line were paid, after their share of the order discount: the
    units r+1..r+k of a line, r those whose items earlier refunds of the order took."""
    before = refund.ledger["items"].units
    part = Money.zero(refund.currency)
    for line in refund.lines:
        done, count = before.get(line.line_id, 0), units.get(line.line_id, 0)
        of = Decimal(line.quantity)
        part = part + cumulative(net[line.line_id], Decimal(done + count), of) - \
            cumulative(net[line.line_id], Decimal(done), of)
    return part


def described(units: dict[str, int]) -> str:
    named = [f"{n} of line {line_id}" for line_id, n in units.items() if n]
    return ", ".join(named) if named else "none left"


def waiver(regime: str | None, withdrawal: bool, merchant_fault: bool) -> str:
    """v6: the rule that waives the restocking fee, named for the return at hand (v3 to v5
    named both whichever applied: "a withdrawal or a merchant-fault return")."""
    named = []
    if withdrawal:
        named.append(_NO_REASON.get(regime or "", "a withdrawal"))
    if merchant_fault:
        named.append("a merchant-fault return")
    return " nor on ".join(named)


# v6: statutory no-reason returns that are not called withdrawals, by regime
_NO_REASON = {
    "cn_no_reason_7d": "a China 7-day no-reason return (the law has the price paid refunded, "
                       "as on a withdrawal)",
    "cn_cross_border": "a China 7-day no-reason return (the law has the price paid refunded, "
                       "as on a withdrawal)",
}


def seal_broken(read: Reader, lines: list[Line]) -> dict[str, int]:
    """v6 ``seal_broken`` (null, or absent, when there is none): the units of a return's lines
    whose return depended on an unbroken seal (sealed audio, video or software returned
    without a fault) and that the inspection found with the seal broken."""
    if read.inputs.get(SEAL_BROKEN) is None:
        return {}
    return line_quantities(read.items(SEAL_BROKEN), lines)


def leave_out_unsealed(refund: Refund, broken: dict[str, int]) -> None:
    """v6: units returned with the seal broken are not refunded, of any component: they are
    taken off the return's units left (the first units of a line its earlier refunds did not
    take are the unsealed ones: a refund asked before the inspection took what it took)."""
    assert refund.left is not None
    refund.unsealed = dict(broken)
    for name, units in refund.left.items():
        refund.left[name] = {line_id: max(0, n - broken.get(line_id, 0))
                             for line_id, n in units.items()}
    for line_id, count in broken.items():
        if refund.quantities.get(line_id):
            refund.reasons.append(
                f"{count} of line {line_id} not refunded: returned without a fault, it was "
                "returnable only with its seal unbroken, and the inspection found the seal "
                "broken")
    if any(refund.quantities.get(line_id) for line_id in broken):
        refund.rules.append("refund.seal_broken")


def return_units_left(read: Reader, lines: list[Line]) -> dict[str, dict[str, int]] | None:
    """v5 ``return_units_left``: for a refund of a return, the units of each of its lines that
    the return's earlier refunds not rejected did not take, per component (items, outbound
    shipping, duties, taxes; a line not listed has none left); null (or absent) otherwise."""
    if read.inputs.get(RETURN_UNITS_LEFT) is None:
        return None
    section = read.section(RETURN_UNITS_LEFT)
    return {name: line_quantities(section.items(name), lines) for name in LEDGER}
