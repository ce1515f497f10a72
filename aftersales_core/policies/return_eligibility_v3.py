"""``return.eligibility`` v3: the windows, exclusions and refund terms of the merchant's policy
book.

What changed from v2 (``return_eligibility_v2.py``, still registered for re-runs):

* every window comes from the settings, per market (a member state's own entry, else ``EU``,
  else the default) and per reason (a reason's own window wins); the law still decides which
  regime a return falls under (the EU withdrawal, the UK right to reject...), and a policy book
  cannot go below its minimums (``policybook/floors.py``);
* a window of ``0 days`` means the merchant takes no such returns (merchant-policy markets only);
* the excluded categories are the merchant's: where the law fixes what may be excluded (the EU
  and UK withdrawal, China's no-reason return) only categories the law lets a seller exclude
  are; elsewhere any category the book lists;
* rule ids no longer carry the number of days (``eu.withdrawal``, not ``eu.withdrawal_14d``).

v4 (``return_eligibility_v4.py``) is this code with category vocabulary 2 (Chinese and
full-width names); v3 classifies in vocabulary 1, as it did when its decisions were recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Literal

from aftersales_core.decisions import JSON, PolicyDecision, copy_json
from aftersales_core.money import Money, total
from aftersales_core.policies.calendar import Period, buyer_zone, calendar_period
from aftersales_core.policies.categories import UNCLASSIFIED, VOCABULARY_V1, Vocabulary
from aftersales_core.policies.findings import Findings
from aftersales_core.policies.periods import Length
from aftersales_core.policies.reading import Line, Reader, amount
from aftersales_core.policies.registry import policy
from aftersales_core.policies.return_eligibility import POLICY_ID
from aftersales_core.policies.return_eligibility_v2 import (
    SEAL_NOTE,
    check_goods,
    check_quantities,
    check_windows,
    day_words,
    taxes_follow_goods,
)
from aftersales_core.policies.return_eligibility_v3_settings import (
    SETTINGS_V3,
    EligibilitySettingsV3,
    RefundTerm,
)
from aftersales_core.policies.return_windows import Regime, Window
from aftersales_core.policies.vocabulary import (
    CN_MARKET,
    EU_MARKETS,
    FULFILMENTS,
    MERCHANT_FAULT_REASONS,
    RETURN_REASONS,
    UK_MARKET,
    US_MARKET,
    WANTED_OUTCOMES,
    is_cn_cross_border,
)

# No-fault regimes whose law fixes what a seller may exclude.
REGULATED = frozenset({"cn_cross_border", "cn_no_reason_7d", "eu_withdrawal", "uk_withdrawal"})
LAW_NAMES = {
    "cn_cross_border": "China's 7-day no-reason return", "cn_no_reason_7d": "China's 7-day "
    "no-reason return", "eu_withdrawal": "the EU right of withdrawal", "uk_withdrawal": "the UK "
    "right to cancel",
}
def _label(length: Length, what: str) -> str:
    unit = f"{length.years}-year" if length.years else f"{length.days}-day"
    return f"{unit} {what}"


def _window(rule: str, what: str, length: Length,
            anchor: Literal["delivery", "customs_release"] = "delivery") -> Window:
    return Window(rule, _label(length, what), anchor, length.days, length.years)


def _regime(name: str, windows: tuple[Window, ...], term: RefundTerm, *,
            withdrawal: bool = False, intact: bool = False) -> Regime:
    """A regime of the law with the book's windows and refund term. A withdrawal in the EU or
    the UK is refunded counting from the notice and may be held until the goods are back."""
    from_request = withdrawal and name in ("eu_withdrawal", "uk_withdrawal")
    return Regime(
        name, windows, term.counted_from("request" if from_request else "return_received"),
        is_withdrawal=withdrawal, requires_intact_goods=intact,
        late="review" if name == "uk_right_to_reject" else "reject",
        late_note="repair or replacement may still be owed under the Consumer Rights Act 2015"
        if name == "uk_right_to_reject" else "")


def regime_for(settings: EligibilitySettingsV3, market: str, fulfilment: str,
               reason: str) -> Regime:
    """The law's regime for this return, with the book's windows and refund term."""
    fault = reason in MERCHANT_FAULT_REASONS
    windows = settings.windows(market)
    length = windows.length(reason)
    term = settings.refund_term(market)
    if is_cn_cross_border(market, fulfilment):
        customs = _window("cn.cross_border", "cross-border return window", windows.cross_border,
                          "customs_release")
        if fault:
            return _regime("cn_cross_border", (customs,), term)
        no_reason = _window("cn.no_reason", "no-reason return window", length)
        return _regime("cn_cross_border", (no_reason, customs), term, withdrawal=True,
                       intact=True)
    if market == CN_MARKET and not fault:
        return _regime("cn_no_reason_7d", (_window("cn.no_reason", "no-reason return window",
                                                   length),), term, withdrawal=True, intact=True)
    if market in EU_MARKETS:
        if fault:
            return _regime("eu_legal_guarantee",
                           (_window("eu.legal_guarantee", "legal guarantee", length),), term)
        return _regime("eu_withdrawal", (_window("eu.withdrawal", "withdrawal period", length),),
                       term, withdrawal=True)
    if market == UK_MARKET:
        if fault:
            return _regime("uk_right_to_reject", (_window("uk.right_to_reject",
                                                          "short-term right to reject",
                                                          length),), term)
        return _regime("uk_withdrawal", (_window("uk.withdrawal", "cancellation period",
                                                 length),), term, withdrawal=True)
    if market == US_MARKET:
        return _regime("us_merchant", (_window("us.merchant", "return window", length),), term)
    return _regime("merchant_default", (_window("merchant.default", "return window", length),),
                   term)


def check_categories(lines: list[Line], goods_intact: bool | None, merchant_fault: bool,
                     regime: Regime, settings: EligibilitySettingsV3, findings: Findings,
                     vocabulary: Vocabulary) -> JSON:
    """Classify every line in ``vocabulary`` and apply the merchant's exclusions as far as the
    law lets them."""
    classified: JSON = {}
    regulated = regime.name in REGULATED
    for line in lines:
        found = vocabulary.classify(line.category)
        category = found.category
        named = f"category {line.category!r}" + (f", an alias of {found.name}"
                                                 if found.via_alias else "")
        what = f"line {line.line_id} ({line.sku})"
        rule = "category.unclassified" if category is None else f"category.{category.name}"
        if category is None:
            unknown = f"{what}: the {named} is not in the vocabulary, so it is unclassified"
            if settings.unclassified == "review":
                findings.refer(rule, f"{unknown}: a person decides (the merchant default)")
            else:
                findings.note(rule, f"{unknown}: returnable under the standard rules (the "
                                    "merchant default)")
            classified[line.line_id] = {"given": line.category, "category": UNCLASSIFIED,
                                        "rule": rule}
            continue
        listed = category.name in settings.excluded_categories
        law_allows = category.exclusion != "none"
        excluded = listed and (law_allows or not regulated)
        said = f"{what} is {category.label} ({named})"
        if not listed and not law_allows:
            rule = "category.standard"
            findings.note(rule, f"{said}: the standard rules apply")
        elif merchant_fault:
            findings.note(rule, f"{said}: faulty goods are returnable whatever their category")
        elif listed and not excluded:
            findings.note(rule, f"{said}: the merchant's policy excludes it, but "
                                f"{LAW_NAMES[regime.name]} does not let a seller exclude it, so "
                                "the standard rules apply")
        elif not listed:
            findings.note(rule, f"{said}: the merchant accepts its return, although the law "
                                "would let a seller exclude it")
        elif category.exclusion != "unless_sealed":
            law = category.law if law_allows else f"the merchant's policy: {category.label}"
            findings.reject(rule, f"{said}: {law} cannot be returned without a fault")
        elif goods_intact is False:
            findings.reject(rule, f"{said} and was unsealed: {category.law} cannot be returned "
                                  "without a fault")
        else:
            findings.note(rule, f"{said}: {SEAL_NOTE}")
        classified[line.line_id] = {"given": line.category, "category": found.name,
                                    "rule": rule}
    return classified


def decide(inputs: JSON, settings: EligibilitySettingsV3, version: int,
           vocabulary: Vocabulary,
           spans: Mapping[str, tuple[str, ...]] | None = None) -> PolicyDecision:
    """v3's decision (v4: another vocabulary; v5: a market's default zone with its span; v6:
    the bonded-zone note says how the quota is restored)."""
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
    given_zone = read.optional_text("buyer_timezone")
    try:
        where = buyer_zone(given_zone, market, settings.market_zones, spans)
    except ValueError as error:
        raise read.error("buyer_timezone", str(error)) from None

    merchant_fault = reason in MERCHANT_FAULT_REASONS
    cross_border = is_cn_cross_border(market, fulfilment)
    windows = settings.windows(market)
    regime = regime_for(settings, market, fulfilment, reason)
    findings = Findings()
    findings.note("calendar.days", f"days are counted as whole calendar days in "
                                   f"{where.describe(market)}")
    binding: Period | None = None
    categories: JSON = {}
    if delivered_at is None:
        findings.reject("return.not_delivered", "the order has not been delivered yet: cancel "
                        "the order, or open a logistics claim for the parcel, instead of a return")
    else:
        closed = [w for w in regime.windows if w.anchor == "delivery" and not w.days
                  and not w.years]
        if closed:
            findings.reject(closed[0].rule, f"the merchant's policy takes no returns for the "
                                            f"reason {reason!r} in {market}")
        anchors = {"delivery": delivered_at, "customs_release": released_at}
        open_regime = regime if not closed else replace(
            regime, windows=tuple(w for w in regime.windows if w not in closed))
        binding = check_windows(open_regime, requested_at, anchors, where, findings)
        if reason in windows.reasons:
            findings.note("window.reason", f"the reason {reason!r} has its own "
                                           f"{windows.reasons[reason]} window")
        categories = check_categories(lines, goods_intact, merchant_fault, regime, settings,
                                      findings, vocabulary)
        check_goods(lines, confirmed, goods_intact, merchant_fault, regime, findings)
        if wanted == "repair" and not merchant_fault:
            findings.refer("return.repair_needs_fault",
                           f"a repair was asked for, but the reason {reason!r} names no fault")
    check_quantities(read, lines, findings)

    valid = not findings.rejected
    ship_back: Period | None = calendar_period(requested_at, where, days=settings.ship_back.days,
                                               years=settings.ship_back.years)
    back_in_zone: Period | None = None
    quota: Money | None = None
    if cross_border:
        ship_back = None
        if released_at is not None:
            back_in_zone = calendar_period(released_at, where,
                                           days=windows.bonded_return.days,
                                           years=windows.bonded_return.years)
            ship_back = back_in_zone
        if valid:
            quota = total([line.value for line in lines], currency)
            if back_in_zone is not None and version >= 6:  # how, not a bound that is wrong
                findings.note("cn.bonded_zone", "the goods must arrive back in the bonded "
                              f"zone by {day_words(back_in_zone)}, {windows.bonded_return} after "
                              "customs release: then the cross-border tax is not charged and "
                              "the buyer's annual quota is restored by what the returned units "
                              "were paid, as the quota counted them (their share of the "
                              "discount and of the freight); arriving later, it is no customs "
                              "return")
            elif back_in_zone is not None:
                findings.note("cn.bonded_zone", "the goods must arrive back in the bonded "
                              f"zone by {day_words(back_in_zone)}, {windows.bonded_return} after "
                              "customs release: then the cross-border tax is not charged and up "
                              f"to {quota} is restored to the buyer's annual quota; arriving "
                              "later, it is no customs return")
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
    if where.span:  # which of the market's zones the binding window was counted in
        details["window_zone"] = None if binding is None else binding.zone.name
    return PolicyDecision(POLICY_ID, version, copy_json(inputs), findings.verdict(),
                          findings.reasons, findings.rules, details)


@policy(POLICY_ID, 3, settings=SETTINGS_V3)
def return_eligibility_v3(inputs: JSON, settings: EligibilitySettingsV3) -> PolicyDecision:
    """Categories classified in vocabulary 1 (v4: vocabulary 2, which knows Chinese names)."""
    return decide(inputs, settings, 3, VOCABULARY_V1)
