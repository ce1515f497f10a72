"""``return.shipping``: who pays to send a return back; is it cheaper to let the buyer keep it?"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from types import MappingProxyType

from aftersales_core.decisions import JSON, PolicyDecision, copy_json
from aftersales_core.money import Money
from aftersales_core.policies.findings import Findings
from aftersales_core.policies.markets import for_market
from aftersales_core.policies.reading import Reader, amount, percent
from aftersales_core.policies.registry import policy
from aftersales_core.policies.vocabulary import (
    FULFILMENTS,
    MERCHANT_FAULT_REASONS,
    RETURN_REASONS,
    WANTED_OUTCOMES,
    is_eu_or_uk,
)

POLICY_ID = "return.shipping"


def _table(rows: dict[str, tuple[str, str]]) -> Mapping[str, Mapping[str, Decimal]]:
    return MappingProxyType({
        currency: MappingProxyType({"in_country": Decimal(near), "international": Decimal(far)})
        for currency, (near, far) in rows.items()
    })


@dataclass(frozen=True)
class ShippingSettings:
    """Settings of return.shipping v1.

    The rate table estimates a return label when the carrier gave no quote: ``in_country`` for
    domestic stock and bonded-zone returns (the zone is in the buyer's country), ``international``
    for direct mail. A currency missing from the table gets no estimate and no returnless offer.
    """

    returnless_share: Decimal = Decimal("0.60")
    value_floors: Mapping[str, Decimal] = field(default_factory=lambda: MappingProxyType({
        "CNY": Decimal("50"), "EUR": Decimal("8"), "GBP": Decimal("7"), "USD": Decimal("10"),
        "BRL": Decimal("40"),
    }))
    rate_table: Mapping[str, Mapping[str, Decimal]] = field(default_factory=lambda: _table({
        "CNY": ("15", "180"), "EUR": ("7", "35"), "GBP": ("6", "30"), "USD": ("9", "40"),
        "BRL": ("30", "200"),
    }))
    merchant_fault_reasons: frozenset[str] = MERCHANT_FAULT_REASONS
    fault_regimes: frozenset[str] = frozenset({"eu_legal_guarantee", "uk_right_to_reject"})
    # v2: returnless is the merchant's choice, to save a cost the merchant would bear; when the
    # buyer pays the return shipping, the buyer ships the goods back or keeps them unrefunded.
    returnless_only_when_merchant_pays: bool = False
    # v2: a repair needs the goods back, so it is never returnless
    outcomes_needing_the_goods: frozenset[str] = frozenset()
    # v3: who pays for a return that is not the merchant's fault, per market ("buyer",
    # "merchant", "buyer_if_informed"; a member state's own entry, else "EU", else "default").
    # None (v1, v2): the buyer, in the EU and the UK only if told beforehand.
    no_fault_payers: Mapping[str, str] | None = None

    def rate(self, currency: str, fulfilment: str) -> Money | None:
        group = "international" if fulfilment == "direct_mail" else "in_country"
        rates = self.rate_table.get(currency)
        return None if rates is None else Money(rates[group], currency)


SETTINGS_V1 = ShippingSettings()
SETTINGS_V2 = ShippingSettings(
    value_floors=MappingProxyType({
        "CNY": Decimal("50"), "HKD": Decimal("60"), "JPY": Decimal("1200"),
        "KRW": Decimal("12000"), "SGD": Decimal("12"), "AUD": Decimal("15"),
        "CAD": Decimal("12"), "EUR": Decimal("8"), "GBP": Decimal("7"), "USD": Decimal("10"),
        "BRL": Decimal("40"),
    }),
    rate_table=_table({
        "CNY": ("15", "180"), "HKD": ("40", "300"), "JPY": ("900", "5500"),
        "KRW": ("4000", "50000"), "SGD": ("8", "55"), "AUD": ("12", "60"), "CAD": ("15", "55"),
        "EUR": ("7", "35"), "GBP": ("6", "30"), "USD": ("9", "40"), "BRL": ("30", "200"),
    }),
    returnless_only_when_merchant_pays=True,
    outcomes_needing_the_goods=frozenset({"repair"}),
)
# v3: who pays for a no-fault return is the merchant's policy, per market (the law's limits are
# the policy book's: in the EU and the UK the buyer pays only if told beforehand).
SETTINGS_V3 = replace(SETTINGS_V2, no_fault_payers=MappingProxyType({
    "default": "buyer", "EU": "buyer_if_informed", "GB": "buyer_if_informed"}))


def _payer(market: str, reason: str, regime: str | None, informed: bool,
           settings: ShippingSettings, findings: Findings) -> str:
    if reason in settings.merchant_fault_reasons or regime in settings.fault_regimes:
        findings.note("shipping.merchant_fault", f"the reason {reason!r} is the merchant's fault, "
                                                 "so the merchant pays the return shipping")
        return "merchant"
    rule = "buyer_if_informed" if is_eu_or_uk(market) else "buyer"
    if settings.no_fault_payers is not None:
        rule = for_market(settings.no_fault_payers, market, settings.no_fault_payers["default"])
    if rule == "merchant":
        findings.note("shipping.merchant_pays_policy", f"the reason {reason!r} is not the "
                      f"merchant's fault, but its policy in {market} is to pay the return "
                      "shipping")
        return "merchant"
    if rule == "buyer_if_informed":
        if informed:
            findings.note("shipping.informed_buyer_pays", "the buyer was told beforehand that "
                          "they bear the cost of returning the goods, so the buyer pays")
            return "buyer"
        findings.note("shipping.uninformed_merchant_pays", "the buyer was not told beforehand "
                      "that they bear the return cost, so the merchant pays it")
        return "merchant"
    findings.note("shipping.buyer_pays", f"the reason {reason!r} is not the merchant's fault, so "
                                         f"the buyer pays the return shipping in {market}")
    return "buyer"


def decide(inputs: JSON, settings: ShippingSettings, version: int) -> PolicyDecision:
    read = Reader(POLICY_ID, inputs)
    market, fulfilment = read.market(), read.text("fulfilment", FULFILMENTS)
    currency = read.currency()
    reason = read.text("reason", RETURN_REASONS)
    regime = read.optional_text("regime")
    item_value = read.money("item_value", currency)
    estimate = read.optional_money("return_shipping_estimate", currency)
    informed = read.flag("buyer_informed_of_return_cost")
    wanted = read.text("wanted_outcome", WANTED_OUTCOMES) if version > 1 else None

    findings = Findings()
    payer = _payer(market, reason, regime, informed, settings, findings)
    source: str | None = "given" if estimate is not None else None
    if estimate is None:
        estimate = settings.rate(currency, fulfilment)
        source = None if estimate is None else "rate_table"
    if estimate is None:
        findings.note("shipping.no_estimate", f"no return shipping estimate and no {currency} rate "
                                              "table: a returnless refund is not offered")
    elif source == "rate_table":
        findings.note("shipping.rate_table", f"no carrier quote: the {currency} rate table "
                                             f"estimates {estimate} for {fulfilment} returns")

    share = settings.returnless_share
    floor_amount = settings.value_floors.get(currency)
    floor = None if floor_amount is None else Money(floor_amount, currency)
    returnless_reason: str | None = None
    if wanted in settings.outcomes_needing_the_goods:
        findings.note("shipping.goods_needed", f"a {wanted} needs the goods back: no returnless "
                                               "refund")
    elif settings.returnless_only_when_merchant_pays and payer == "buyer":
        findings.note("shipping.returnless_merchant_choice",
                      "the buyer pays the return shipping, so no returnless refund: the buyer "
                      "ships the goods back, or keeps them without a refund")
    elif estimate is not None and estimate.amount > item_value.amount * share:
        returnless_reason = "shipping_over_share"
        findings.note("shipping.returnless_share",
                      f"returning costs {estimate}, more than {percent(share)} of the item value "
                      f"{item_value}: refund without a return")
    elif floor is not None and item_value < floor:
        returnless_reason = "under_value_floor"
        findings.note("shipping.returnless_floor", f"the item value {item_value} is under the "
                                                   f"{floor} floor: refund without a return")
    elif estimate is not None:
        findings.note("shipping.returnless_share",
                      f"returning costs {estimate}, not more than {percent(share)} of the item "
                      f"value {item_value}: the goods come back")
    details: JSON = {
        "payer": payer,
        "returnless": returnless_reason is not None,
        "returnless_reason": returnless_reason,
        "return_shipping_estimate": amount(estimate),
        "estimate_source": source,
    }
    return PolicyDecision(POLICY_ID, version, copy_json(inputs), payer, findings.reasons,
                          findings.rules, details)


@policy(POLICY_ID, 1, settings=SETTINGS_V1)
def return_shipping_v1(inputs: JSON, settings: ShippingSettings) -> PolicyDecision:
    return decide(inputs, settings, 1)


@policy(POLICY_ID, 2, settings=SETTINGS_V2)
def return_shipping_v2(inputs: JSON, settings: ShippingSettings) -> PolicyDecision:
    return decide(inputs, settings, 2)


@policy(POLICY_ID, 3, settings=SETTINGS_V3)
def return_shipping_v3(inputs: JSON, settings: ShippingSettings) -> PolicyDecision:
    return decide(inputs, settings, 3)
