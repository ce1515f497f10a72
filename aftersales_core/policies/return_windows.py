"""Return windows by market: the versioned data behind ``return.eligibility``.

A regime is the body of rules a return falls under (China's 7-day no-reason return, the EU right
of withdrawal, the UK right to reject...). Each has one or more windows, each counted from an
anchor (delivery or customs release), and the refund terms that follow from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from aftersales_core.policies.refund_terms import (
    CN_REFUND,
    DEFAULT_REFUND,
    EU_UK_REFUND,
    US_REFUND,
    WITHDRAWAL_REFUND,
    RefundTerm,
)
from aftersales_core.policies.vocabulary import (
    CN_MARKET,
    EU_MARKETS,
    MERCHANT_FAULT_REASONS,
    NON_RETURNABLE_CATEGORIES,
    UK_MARKET,
    US_MARKET,
    is_cn_cross_border,
)

Anchor = Literal["delivery", "customs_release"]


def add_years(moment: datetime, years: int) -> datetime:
    """The same calendar day ``years`` later; 29 February becomes 28 February."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


@dataclass(frozen=True)
class Window:
    """A period, counted from an anchor, within which a return may be requested."""

    rule: str
    label: str
    anchor: Anchor = "delivery"
    days: int = 0
    years: int = 0

    def ends(self, start: datetime) -> datetime:
        return add_years(start, self.years) + timedelta(days=self.days)


@dataclass(frozen=True)
class Regime:
    """The rules a return falls under, with the refund term they set."""

    name: str
    windows: tuple[Window, ...]
    refund: RefundTerm
    is_withdrawal: bool = False
    requires_intact_goods: bool = False
    late: Literal["reject", "review"] = "reject"
    late_note: str = ""


_CN_NO_REASON = Window("cn.no_reason_7d", "7-day no-reason window", days=7)
_CN_CUSTOMS = Window("cn.cross_border_30d", "30-day cross-border return window",
                     anchor="customs_release", days=30)


@dataclass(frozen=True)
class ReturnWindows:
    """Settings of return.eligibility v1 (defaults from consumer law and customs notices)."""

    cn_cross_border_no_reason: Regime = Regime(
        "cn_cross_border", (_CN_NO_REASON, _CN_CUSTOMS), CN_REFUND,
        is_withdrawal=True, requires_intact_goods=True)
    cn_cross_border_fault: Regime = Regime("cn_cross_border", (_CN_CUSTOMS,), CN_REFUND)
    cn_no_reason: Regime = Regime(
        "cn_no_reason_7d", (_CN_NO_REASON,), CN_REFUND, is_withdrawal=True,
        requires_intact_goods=True)
    eu_withdrawal: Regime = Regime(
        "eu_withdrawal", (Window("eu.withdrawal_14d", "14-day withdrawal period", days=14),),
        WITHDRAWAL_REFUND, is_withdrawal=True)
    eu_legal_guarantee: Regime = Regime(
        "eu_legal_guarantee", (Window("eu.legal_guarantee_2y", "2-year legal guarantee",
                                      years=2),), EU_UK_REFUND)
    uk_withdrawal: Regime = Regime(
        "uk_withdrawal", (Window("uk.withdrawal_14d", "14-day cancellation period", days=14),),
        WITHDRAWAL_REFUND, is_withdrawal=True)
    uk_right_to_reject: Regime = Regime(
        "uk_right_to_reject",
        (Window("uk.right_to_reject_30d", "30-day short-term right to reject", days=30),),
        EU_UK_REFUND, late="review",
        late_note="repair or replacement may still be owed under the Consumer Rights Act 2015")
    us_merchant: Regime = Regime(
        "us_merchant", (Window("us.merchant_30d", "30-day return window", days=30),), US_REFUND)
    merchant_default: Regime = Regime(
        "merchant_default",
        (Window("merchant.default_30d", "30-day return window", days=30),), DEFAULT_REFUND)
    cn_bonded_return_days: int = 45  # goods back in the bonded zone, from customs release
    ship_back_days: int = 14  # from the request, everywhere else
    cn_quota_per_transaction: Decimal = Decimal("5000")  # CNY
    cn_quota_per_year: Decimal = Decimal("26000")  # CNY
    non_returnable_categories: frozenset[str] = NON_RETURNABLE_CATEGORIES
    merchant_fault_reasons: frozenset[str] = MERCHANT_FAULT_REASONS
    eu_markets: frozenset[str] = EU_MARKETS

    def regime_for(self, market: str, fulfilment: str, merchant_fault: bool) -> Regime:
        if is_cn_cross_border(market, fulfilment):
            return self.cn_cross_border_fault if merchant_fault else self.cn_cross_border_no_reason
        if market == CN_MARKET and not merchant_fault:
            return self.cn_no_reason
        if market in self.eu_markets:
            return self.eu_legal_guarantee if merchant_fault else self.eu_withdrawal
        if market == UK_MARKET:
            return self.uk_right_to_reject if merchant_fault else self.uk_withdrawal
        if market == US_MARKET:
            return self.us_merchant
        return self.merchant_default
