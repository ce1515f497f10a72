"""``return.eligibility`` v2: windows in whole calendar days of the buyer's time zone, one
category vocabulary, the returned-quantity ledger, and the bonded zone counted on arrival.

What changed from v1 (``return_eligibility.py``, still registered for re-runs):

* a window of N days ends at the end of the Nth calendar day after the day of delivery (or
  customs release), in the buyer's time zone; the decision records the zone and the last day;
* each line's category is classified by the published vocabulary (aliases included); the rule
  applied is named per line, and an unknown category is unclassified and gets the merchant
  default;
* units already in other returns of the same line count: no more than were ordered come back;
* China cross-border: the goods must *arrive* back in the bonded zone by the end of day 45
  after release; whether they did is decided on arrival (``return.customs_return``), so this
  decision only says what a valid customs return would restore.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from aftersales_core.decisions import JSON, PolicyDecision, copy_json
from aftersales_core.money import Money, total
from aftersales_core.policies.calendar import (
    MARKET_ZONES,
    BuyerZone,
    Period,
    buyer_zone,
    calendar_period,
)
from aftersales_core.policies.categories import UNCLASSIFIED, VOCABULARY_V1
from aftersales_core.policies.findings import Findings
from aftersales_core.policies.reading import Line, Reader, amount
from aftersales_core.policies.registry import policy
from aftersales_core.policies.return_eligibility import POLICY_ID
from aftersales_core.policies.return_windows import Regime, ReturnWindows
from aftersales_core.policies.vocabulary import (
    FULFILMENTS,
    RETURN_REASONS,
    WANTED_OUTCOMES,
    is_cn_cross_border,
)

_ANCHOR_WORDS = {"delivery": "delivery", "customs_release": "customs release"}
# what the decision says of a line returnable only while sealed (v2 on, every version alike):
# ``InspectReturn`` then records whether the seal is intact (``seal_checked_lines``)
SEAL_NOTE = "returnable only with its seal unbroken, which the inspection checks"


def seal_checked_lines(decision: PolicyDecision | None, line_ids: list[str]) -> list[str]:
    """The lines of ``line_ids`` whose return the eligibility ``decision`` let depend on an
    unbroken seal (its reason for the line says so): a return without a fault of sealed goods
    the merchant's book excludes once unsealed. Never a faulty good's line."""
    if decision is None:
        return []
    return [line_id for line_id in line_ids
            if any(reason.startswith(f"line {line_id} (") and reason.endswith(SEAL_NOTE)
                   for reason in decision.reasons)]


@dataclass(frozen=True)
class EligibilitySettings:
    """Settings of return.eligibility v2."""

    windows: ReturnWindows = field(default_factory=ReturnWindows)
    market_zones: Mapping[str, str] = field(default_factory=lambda: MARKET_ZONES)
    # what an unclassified category gets: the standard rules, or a person's review
    unclassified: Literal["returnable", "review"] = "returnable"


SETTINGS_V2 = EligibilitySettings()


def day_words(period: Period) -> str:
    return f"the end of {period.last_day.isoformat()} ({period.zone.name})"


def check_windows(regime: Regime, requested_at: datetime, anchors: dict[str, datetime | None],
                   where: BuyerZone, findings: Findings) -> Period | None:
    """Check every window of the regime; return the one ending first."""
    binding: Period | None = None
    for window in regime.windows:
        start = anchors[window.anchor]
        words = _ANCHOR_WORDS[window.anchor]
        if start is None:
            findings.refer(window.rule, f"the {words} time is not known, so the {window.label} "
                                        "cannot be checked")
            continue
        period = calendar_period(start, where, days=window.days, years=window.years)
        if binding is None or period.ends_at < binding.ends_at:
            binding = period
        counted_in = period.zone.info  # ``where``'s, or the zone of its span it ended last in
        asked = requested_at.astimezone(counted_in).date().isoformat()
        counted = f"{words} on {period.start.astimezone(counted_in).date().isoformat()}"
        if period.contains(requested_at):
            findings.note(window.rule, f"requested on {asked}, within the {window.label} "
                                       f"counted from {counted}, which ends at "
                                       f"{day_words(period)}")
            continue
        late = f"requested on {asked}; the {window.label} counted from {counted} ended at " \
               f"{day_words(period)}"
        if regime.late == "review":
            findings.refer(window.rule, f"{late}; {regime.late_note}" if regime.late_note
                           else late)
        else:
            findings.reject(window.rule, late)
    return binding


def _check_categories(lines: list[Line], goods_intact: bool | None, merchant_fault: bool,
                      settings: EligibilitySettings, findings: Findings) -> JSON:
    """Classify every line and apply its category's rule; returns the classification."""
    classified: JSON = {}
    for line in lines:
        found = VOCABULARY_V1.classify(line.category)
        category = found.category
        named = f"category {line.category!r}" + (f", an alias of {found.name}"
                                                 if found.via_alias else "")
        what = f"line {line.line_id} ({line.sku})"
        rule = "category.unclassified" if category is None else category.rule
        if category is None:
            unknown = f"{what}: the {named} is not in the vocabulary, so it is unclassified"
            if settings.unclassified == "review":
                findings.refer(rule, f"{unknown}: a person decides (the merchant default)")
            else:
                findings.note(rule, f"{unknown}: returnable under the standard rules (the "
                                    "merchant default)")
        elif category.exclusion == "none":
            findings.note(rule, f"{what} is {category.label} ({named}): the standard rules apply")
        elif merchant_fault:
            findings.note(rule, f"{what} is {category.label} ({named}): faulty goods are "
                                "returnable whatever their category")
        elif category.exclusion == "always":
            findings.reject(rule, f"{what} is {category.label} ({named}): {category.law} "
                                  "cannot be returned without a fault")
        elif goods_intact is False:
            findings.reject(rule, f"{what} is {category.label} ({named}) and was unsealed: "
                                  f"{category.law} cannot be returned without a fault")
        else:
            findings.note(rule, f"{what} is {category.label} ({named}): {SEAL_NOTE}")
        classified[line.line_id] = {"given": line.category, "category": found.name,
                                    "rule": rule}
    return classified


def check_quantities(read: Reader, lines: list[Line], findings: Findings) -> None:
    """Units already in other open or completed returns of the same line count."""
    earlier = {item.text("line_id"): (item.count("ordered", 1), item.count("returned"))
               for item in read.items("already_returned")}
    for line in lines:
        ordered, returned = earlier.get(line.line_id, (line.quantity, 0))
        if returned + line.quantity > ordered:
            left = max(ordered - returned, 0)
            findings.reject("return.quantity_left",
                            f"line {line.line_id} ({line.sku}): {returned} of the {ordered} units "
                            f"ordered are in other returns already, so {left} more can be "
                            f"returned, not {line.quantity}")
        elif returned:
            findings.note("return.quantity_left",
                          f"line {line.line_id} ({line.sku}): {returned} of the {ordered} units "
                          f"are in other returns; {line.quantity} more is within what was ordered")


def check_goods(lines: list[Line], confirmed: set[str], goods_intact: bool | None,
                 merchant_fault: bool, regime: Regime, findings: Findings) -> None:
    if not merchant_fault:
        for line in lines:
            if line.line_id in confirmed:
                findings.reject("return.confirmed_non_returnable",
                                f"line {line.line_id} ({line.sku}) was confirmed as "
                                "non-returnable by the buyer at purchase")
    if merchant_fault:
        return
    if goods_intact is False and regime.requires_intact_goods:
        findings.reject("cn.goods_intact", "a no-reason return needs the goods intact, and they "
                                           "are not")
    elif goods_intact is False and regime.is_withdrawal:
        findings.note("withdrawal.diminished_value", "the goods are not intact: the withdrawal "
                      "stands, but the buyer may be charged for their diminished value")


def taxes_follow_goods(regime: Regime, merchant_fault: bool, fulfilment: str) -> bool:
    """Duties and taxes are refunded with the goods, except on a voluntary cross-border return."""
    return (regime.name == "cn_cross_border" or regime.is_withdrawal or merchant_fault
            or fulfilment == "domestic")


def decide(inputs: JSON, settings: EligibilitySettings, version: int) -> PolicyDecision:
    read = Reader(POLICY_ID, inputs)
    windows = settings.windows
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
    given_zone = read.optional_text("buyer_timezone")
    try:
        where = buyer_zone(given_zone, market, settings.market_zones)
    except ValueError as error:
        raise read.error("buyer_timezone", str(error)) from None

    merchant_fault = reason in windows.merchant_fault_reasons
    cross_border = is_cn_cross_border(market, fulfilment)
    regime = windows.regime_for(market, fulfilment, merchant_fault)
    findings = Findings()
    findings.note("calendar.days", f"days are counted as whole calendar days in "
                                   f"{where.describe(market)}")
    binding: Period | None = None
    categories: JSON = {}
    if delivered_at is None:
        findings.reject("return.not_delivered", "the order has not been delivered yet: cancel "
                        "the order, or open a logistics claim for the parcel, instead of a return")
    else:
        anchors = {"delivery": delivered_at, "customs_release": released_at}
        binding = check_windows(regime, requested_at, anchors, where, findings)
        categories = _check_categories(lines, goods_intact, merchant_fault, settings, findings)
        check_goods(lines, confirmed, goods_intact, merchant_fault, regime, findings)
        if wanted == "repair" and not merchant_fault:
            findings.refer("return.repair_needs_fault",
                           f"a repair was asked for, but the reason {reason!r} names no fault")
    check_quantities(read, lines, findings)

    valid = not findings.rejected
    ship_back: Period | None = calendar_period(requested_at, where, days=windows.ship_back_days)
    back_in_zone: Period | None = None
    quota: Money | None = None
    if cross_border:
        ship_back = None
        if released_at is not None:
            back_in_zone = calendar_period(released_at, where, days=windows.cn_bonded_return_days)
            ship_back = back_in_zone
        if valid:
            quota = total([line.value for line in lines], currency)
            if back_in_zone is not None:
                findings.note("cn.bonded_zone_45d", "the goods must arrive back in the bonded "
                              f"zone by {day_words(back_in_zone)}, "
                              f"{windows.cn_bonded_return_days} days after customs release: then "
                              "the cross-border tax is not charged and up to "
                              f"{quota} is restored to the buyer's annual quota; arriving later, "
                              "it is no customs return")
    details: JSON = {
        "regime": regime.name,
        "window_days": None if binding is None else binding.days,
        "window_ends_at": None if binding is None else binding.ends_at.isoformat(),
        "window_last_day": None if binding is None else binding.last_day.isoformat(),
        **where.to_json(),
        "categories": categories,
        "unclassified_lines": sorted(k for k, v in categories.items()
                                     if v["category"] == UNCLASSIFIED),
        "ship_back_by": None if ship_back is None or not valid else ship_back.ends_at.isoformat(),
        "back_in_zone_by": None if back_in_zone is None or not valid else
        back_in_zone.ends_at.isoformat(),
        **regime.refund.recorded(),
        "merchant_fault": merchant_fault,
        "is_withdrawal": regime.is_withdrawal,
        "tax_refundable": valid and taxes_follow_goods(regime, merchant_fault, fulfilment),
        "customs_return_required": cross_border,
        "quota_restorable": amount(quota),
    }
    return PolicyDecision(POLICY_ID, version, copy_json(inputs), findings.verdict(),
                          findings.reasons, findings.rules, details)


@policy(POLICY_ID, 2, settings=SETTINGS_V2)
def return_eligibility_v2(inputs: JSON, settings: EligibilitySettings) -> PolicyDecision:
    return decide(inputs, settings, 2)
