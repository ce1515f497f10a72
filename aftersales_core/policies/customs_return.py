"""``return.customs_return``: is a China cross-border return a valid customs return?

Customs require the returned goods to **arrive** back in the original bonded zone within 45 days
of customs release (the deadline ``return.eligibility`` v2 recorded as ``back_in_zone_by``). Then
the cross-border tax is not charged (the refund includes the taxes) and the buyer's annual quota
is restored by the value returned, up to what the order used. A return that arrives later, or
never (a returnless refund), is no customs return: its refund excludes the cross-border tax and
the quota is not restored. Decided when the goods arrive (the return shipment's ``Delivered``,
or ``ReceiveReturn``), or when a returnless refund is resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from aftersales_core.decisions import JSON, PolicyDecision, copy_json
from aftersales_core.money import Money, total
from aftersales_core.outcomes import CustomsReturn
from aftersales_core.policies.calendar import zone
from aftersales_core.policies.findings import Findings
from aftersales_core.policies.reading import Line, Reader, amount
from aftersales_core.policies.refund_components import cumulative, net_line_values
from aftersales_core.policies.registry import policy

POLICY_ID = "return.customs_return"


@dataclass(frozen=True)
class CustomsReturnSettings:
    """Settings of return.customs_return v1, and the quota's terms (SPEC §3.2)."""

    quota_currency: str = "CNY"
    annual_limit: Decimal = Decimal("26000")
    per_order_limit: Decimal = Decimal("5000")
    quota_zone: str = "Asia/Shanghai"  # the quota year is China's calendar year

    def quota_year(self, paid_at: datetime) -> int:
        return paid_at.astimezone(zone(self.quota_zone)).year

    def quota_limits(self) -> tuple[Money, Money]:
        return (Money(self.annual_limit, self.quota_currency),
                Money(self.per_order_limit, self.quota_currency))


SETTINGS_V1 = CustomsReturnSettings()


def transaction_value(read: Reader, lines: list[Line], currency: str) -> Money:
    """v2: what the returned units were paid, as the quota counted the order (goods less their
    share of the order discount, plus their share of the outbound freight, by list price)."""
    order_lines = {line.line_id: line for line in read.lines("order_lines", currency)}
    discount = read.money("discount", currency)
    freight = read.money("shipping_fee", currency)
    missing = [line.line_id for line in lines if line.line_id not in order_lines]
    if missing:
        raise read.error("lines", f"names lines the order does not have: {missing}")
    net = net_line_values(list(order_lines.values()), discount)
    goods = total([cumulative(net[line.line_id], Decimal(line.quantity),
                              Decimal(order_lines[line.line_id].quantity)) for line in lines],
                  currency)
    weight = sum((line.unit_price.amount * line.quantity for line in order_lines.values()),
                 Decimal(0))
    taken = sum((order_lines[line.line_id].unit_price.amount * line.quantity for line in lines),
                Decimal(0))
    return goods + cumulative(freight, taken, weight)


def decide(inputs: JSON, settings: CustomsReturnSettings, version: int) -> PolicyDecision:
    read = Reader(POLICY_ID, inputs)
    currency = read.currency()
    back_by = read.optional_time("back_in_zone_by")
    arrived_at = read.optional_time("arrived_at")
    returnless = read.flag("returnless")
    where = read.text("zone")
    try:
        place = zone(where)
    except ValueError as error:
        raise read.error("zone", str(error)) from None
    lines = read.lines("lines", currency)
    used = read.optional_money("quota_used_by_order", currency)
    restored_before = read.money("quota_restored_for_order", currency)

    findings = Findings()
    value = total([line.value for line in lines], currency) if version < 2 else \
        transaction_value(read, lines, currency)
    valid = False
    if returnless:
        findings.reject("customs.returnless", "a returnless refund: the goods stay with the buyer "
                        "and never come back to the bonded zone, so this is no customs return: "
                        "the cross-border tax stays charged and the quota is not restored")
    elif arrived_at is None:
        findings.refer("customs.not_arrived", "the goods have not arrived back in the bonded zone")
    elif back_by is None:
        findings.refer("customs.release_unknown", "the customs release time is not known, so "
                       "the 45-day limit cannot be checked: a person confirms it with customs "
                       "(until then no cross-border tax is refunded and no quota restored)")
    else:
        on = arrived_at.astimezone(place).date().isoformat()
        last = back_by.astimezone(place).date().isoformat()
        if arrived_at <= back_by:
            valid = True
            findings.note("customs.arrived_in_time", f"the goods arrived back in the bonded zone "
                          f"on {on}, by the end of {last} ({where}), 45 days after customs "
                          "release: a valid customs return, so the cross-border tax is not "
                          "charged")
        else:
            late = (arrived_at.astimezone(place).date() - back_by.astimezone(place).date()).days
            findings.reject("customs.arrived_late", f"the goods arrived back in the bonded zone on "
                            f"{on}, {late} day{'s' if late != 1 else ''} after the end of {last} "
                            f"({where}), the 45-day limit after customs release: no customs "
                            "return, so the refund excludes the cross-border tax and the quota "
                            "is not restored")
    restored: Money | None = None
    if valid:
        restored = value
        if currency != settings.quota_currency:
            restored = None
            findings.note("customs.quota_currency", f"the annual quota is kept in "
                          f"{settings.quota_currency}, not {currency}: nothing to restore")
        elif used is None:
            findings.note("customs.quota", f"{value} is restored to the buyer's annual quota "
                                           "(the order's use of it is not on the ledger)")
        else:
            left = (used - restored_before).max(Money.zero(currency))
            restored = value.min(left)
            capped = "" if restored == value else f", capped at the {left} of the order's use " \
                                                  "not restored yet"
            findings.note("customs.quota", f"{restored} is restored to the buyer's annual "
                                           f"quota{capped}")
    outcome = CustomsReturn.CUSTOMS_RETURN if valid else CustomsReturn.REVIEW \
        if findings.referred else CustomsReturn.NOT_CUSTOMS_RETURN
    details: JSON = {
        "customs_return": valid,
        "tax_refundable": valid,
        "quota_restored": amount(restored),
        "returned_value": amount(value),
    }
    return PolicyDecision(POLICY_ID, version, copy_json(inputs), outcome, findings.reasons,
                          findings.rules, details)


@policy(POLICY_ID, 1, settings=SETTINGS_V1)
def customs_return_v1(inputs: JSON, settings: CustomsReturnSettings) -> PolicyDecision:
    return decide(inputs, settings, 1)


@policy(POLICY_ID, 2, settings=SETTINGS_V1)
def customs_return_v2(inputs: JSON, settings: CustomsReturnSettings) -> PolicyDecision:
    """v2: the value returned, and so the quota restored, is what the returned units were paid
    as the quota counted it (``order_lines``, ``discount`` and ``shipping_fee``, new inputs): v1
    took their list price, so a return of a 3,000.00 line of an order with a 500.00 discount
    restored 3,000.00 of quota for goods paid 2,700.00 (and a whole return left out the
    freight the quota had counted)."""
    return decide(inputs, settings, 2)
