"""``return.eligibility``: may these lines be returned, under which regime, and by when?"""

from __future__ import annotations

from datetime import datetime, timedelta

from aftersales_core.decisions import JSON, PolicyDecision, copy_json
from aftersales_core.money import Money, total
from aftersales_core.policies.findings import Findings
from aftersales_core.policies.reading import Line, Reader, amount, elapsed, iso
from aftersales_core.policies.registry import policy
from aftersales_core.policies.return_windows import Regime, ReturnWindows
from aftersales_core.policies.vocabulary import (
    FULFILMENTS,
    RETURN_REASONS,
    WANTED_OUTCOMES,
    is_cn_cross_border,
)

POLICY_ID = "return.eligibility"
SETTINGS_V1 = ReturnWindows()
_ANCHOR_WORDS = {"delivery": "delivery", "customs_release": "customs release"}


def _check_windows(regime: Regime, requested_at: datetime, anchors: dict[str, datetime | None],
                   findings: Findings) -> tuple[int | None, datetime | None]:
    """Check every window of the regime; return the length and end of the one ending first."""
    binding: tuple[int, datetime] | None = None
    for window in regime.windows:
        start = anchors[window.anchor]
        words = _ANCHOR_WORDS[window.anchor]
        if start is None:
            findings.refer(window.rule, f"the {words} time is not known, so the {window.label} "
                                        "cannot be checked")
            continue
        end = window.ends(start)
        if binding is None or end < binding[1]:
            binding = ((end - start).days, end)
        if requested_at <= end:
            findings.note(window.rule, f"requested {elapsed(start, requested_at)} after {words}, "
                                       f"within the {window.label} that ends {iso(end)}")
            continue
        late = f"requested {elapsed(start, requested_at)} after {words}; the {window.label} " \
               f"ended {iso(end)}"
        if regime.late == "review":
            findings.refer(window.rule, f"{late}; {regime.late_note}" if regime.late_note
                           else late)
        else:
            findings.reject(window.rule, late)
    return binding if binding is not None else (None, None)


def _check_goods(lines: list[Line], confirmed: set[str], goods_intact: bool | None,
                 merchant_fault: bool, regime: Regime, settings: ReturnWindows,
                 findings: Findings) -> None:
    excluded = [line for line in lines if line.category in settings.non_returnable_categories
                or line.line_id in confirmed]
    if merchant_fault:
        if excluded:
            findings.note("return.fault_overrides_exclusions",
                          "faulty goods are returnable whatever their category")
        return
    for line in excluded:
        if line.category in settings.non_returnable_categories:
            findings.reject("return.non_returnable_category",
                            f"line {line.line_id} ({line.sku}) is {line.category.replace('_', ' ')}"
                            ", which cannot be returned without a fault")
        else:
            findings.reject("return.confirmed_non_returnable",
                            f"line {line.line_id} ({line.sku}) was confirmed as non-returnable "
                            "by the buyer at purchase")
    if goods_intact is False and regime.requires_intact_goods:
        findings.reject("cn.goods_intact", "a no-reason return needs the goods intact, and they "
                                           "are not")
    elif goods_intact is False and regime.is_withdrawal:
        findings.note("withdrawal.diminished_value", "the goods are not intact: the withdrawal "
                      "stands, but the buyer may be charged for their diminished value")


def _taxes_follow_goods(regime: Regime, merchant_fault: bool, fulfilment: str) -> bool:
    """Duties and taxes are refunded with the goods, except on a voluntary cross-border return."""
    return (regime.name == "cn_cross_border" or regime.is_withdrawal or merchant_fault
            or fulfilment == "domestic")


def decide(inputs: JSON, settings: ReturnWindows, version: int) -> PolicyDecision:
    read = Reader(POLICY_ID, inputs)
    market, fulfilment = read.market(), read.text("fulfilment", FULFILMENTS)
    currency = read.currency()
    reason = read.text("reason", RETURN_REASONS)
    wanted = read.text("wanted_outcome", WANTED_OUTCOMES)
    requested_at = read.time("requested_at")
    delivered_at = read.optional_time("delivered_at")
    released_at = read.optional_time("customs_released_at")
    lines = read.lines("lines", currency)
    confirmed = set(read.strings("non_returnable_line_ids"))
    goods_intact = read.optional_flag("goods_intact")

    merchant_fault = reason in settings.merchant_fault_reasons
    cross_border = is_cn_cross_border(market, fulfilment)
    regime = settings.regime_for(market, fulfilment, merchant_fault)
    findings = Findings()
    window_days: int | None = None
    window_ends_at: datetime | None = None
    if delivered_at is None:
        findings.reject("return.not_delivered", "the order has not been delivered yet: cancel "
                        "the order, or open a logistics claim for the parcel, instead of a return")
    else:
        anchors = {"delivery": delivered_at, "customs_release": released_at}
        window_days, window_ends_at = _check_windows(regime, requested_at, anchors, findings)
        _check_goods(lines, confirmed, goods_intact, merchant_fault, regime, settings, findings)
        if wanted == "repair" and not merchant_fault:
            findings.refer("return.repair_needs_fault",
                           f"a repair was asked for, but the reason {reason!r} names no fault")

    valid = not findings.rejected
    ship_back_by: datetime | None = requested_at + timedelta(days=settings.ship_back_days)
    quota: Money | None = None
    if cross_border:
        ship_back_by = None if released_at is None else \
            released_at + timedelta(days=settings.cn_bonded_return_days)
        if valid:
            quota = _restored_quota(lines, currency, settings, findings)
            if ship_back_by is not None:
                findings.note("cn.bonded_zone_45d", "the goods must be back in the bonded zone by "
                              f"{iso(ship_back_by)}, {settings.cn_bonded_return_days} days after "
                              "customs release")
    details: JSON = {
        "regime": regime.name,
        "window_days": window_days,
        "window_ends_at": None if window_ends_at is None else iso(window_ends_at),
        "ship_back_by": None if ship_back_by is None or not valid else iso(ship_back_by),
        **regime.refund.recorded(),
        "merchant_fault": merchant_fault,
        "is_withdrawal": regime.is_withdrawal,
        "tax_refundable": valid and _taxes_follow_goods(regime, merchant_fault, fulfilment),
        "quota_restored": amount(quota),
    }
    return PolicyDecision(POLICY_ID, version, copy_json(inputs), findings.verdict(),
                          findings.reasons, findings.rules, details)


def _restored_quota(lines: list[Line], currency: str, settings: ReturnWindows,
                    findings: Findings) -> Money:
    value = total([line.value for line in lines], currency)
    note = f"a valid cross-border return: the cross-border tax is not charged and {value} " \
           "is restored to the buyer's annual quota"
    if currency == "CNY":
        per_year = Money(settings.cn_quota_per_year, currency)
        if value > per_year:
            value = per_year
            note += f", capped at the annual limit of {per_year}"
        elif value > Money(settings.cn_quota_per_transaction, currency):
            note += f" (above the {settings.cn_quota_per_transaction} CNY single-transaction " \
                    "limit: a single item taxed at general-trade rates still counts in full)"
    findings.note("cn.cross_border_tax_and_quota", note)
    return value


@policy(POLICY_ID, 1, settings=SETTINGS_V1)
def return_eligibility_v1(inputs: JSON, settings: ReturnWindows) -> PolicyDecision:
    return decide(inputs, settings, 1)
