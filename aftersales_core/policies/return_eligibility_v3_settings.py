"""The settings of ``return.eligibility`` v3 (``return_eligibility_v3.py``): per market, how
long after delivery returns are taken and how long a refund may take, the ship-back time, the
excluded categories, and the built-in values a policy book starts from (the law's defaults)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from aftersales_core.policies.calendar import MARKET_ZONES
from aftersales_core.policies.markets import for_market
from aftersales_core.policies.periods import Length, days
from aftersales_core.policies.refund_terms import RefundDueFrom
from aftersales_core.policies.refund_terms import RefundTerm as Term
from aftersales_core.policies.vocabulary import MERCHANT_FAULT_REASONS

# China's customs clocks for cross-border retail returns, from customs release: the return is
# applied for within 30 days, and the goods arrive back in the bonded zone within 45 days.
CUSTOMS_APPLICATION = Length(days=30)
CUSTOMS_ARRIVAL = Length(days=45)
LEGAL_EXCLUSIONS = frozenset({"custom_made", "perishable", "digital_download",
                              "audio_video_software", "newspapers_periodicals"})


@dataclass(frozen=True)
class MarketWindows:
    """How long after delivery returns are taken in one market."""

    no_fault: Length
    fault: Length
    reasons: Mapping[str, Length] = field(default_factory=lambda: MappingProxyType({}))
    cross_border: Length = CUSTOMS_APPLICATION  # CN cross-border: from customs release
    bonded_return: Length = CUSTOMS_ARRIVAL  # CN cross-border: back in the bonded zone

    def length(self, reason: str) -> Length:
        if reason in self.reasons:
            return self.reasons[reason]
        return self.fault if reason in MERCHANT_FAULT_REASONS else self.no_fault


@dataclass(frozen=True)
class RefundTerm:
    """How long a refund may take in one market, as a policy book sets it (the law decides
    from which moment: ``counted_from``)."""

    days: int
    working_days: bool = False

    def counted_from(self, anchor: RefundDueFrom) -> Term:
        """The term of the refund-terms table this book's term makes, counted from ``anchor``."""
        length = f"{self.days} {'working ' if self.working_days else ''}days"
        moment = "the withdrawal notice" if anchor == "request" else "receiving the return"
        return Term(self.days, f"refund within {length} of {moment}",
                    working_days=self.working_days, anchor=anchor)


@dataclass(frozen=True)
class EligibilitySettingsV3:
    """Settings of return.eligibility v3, from a policy book."""

    default: MarketWindows
    markets: Mapping[str, MarketWindows]
    refund_default: RefundTerm
    refund_markets: Mapping[str, RefundTerm]
    ship_back: Length
    excluded_categories: frozenset[str]
    unclassified: Literal["returnable", "review"]
    market_zones: Mapping[str, str]

    def windows(self, market: str) -> MarketWindows:
        return for_market(self.markets, market, self.default)

    def refund_term(self, market: str) -> RefundTerm:
        return for_market(self.refund_markets, market, self.refund_default)


# The built-in settings: the law's defaults, as v2 had them (what a policy book starts from).
SETTINGS_V3 = EligibilitySettingsV3(
    default=MarketWindows(no_fault=days(30), fault=days(30)),
    markets=MappingProxyType({
        "EU": MarketWindows(no_fault=days(14), fault=Length(years=2)),
        "GB": MarketWindows(no_fault=days(14), fault=days(30)),
        "CN": MarketWindows(no_fault=days(7), fault=days(30)),
        "US": MarketWindows(no_fault=days(30), fault=days(30)),
    }),
    refund_default=RefundTerm(14),
    refund_markets=MappingProxyType({"CN": RefundTerm(7), "EU": RefundTerm(14),
                                     "GB": RefundTerm(14), "US": RefundTerm(7, True)}),
    ship_back=days(14),
    excluded_categories=LEGAL_EXCLUSIONS,
    unclassified="returnable",
    market_zones=MARKET_ZONES,
)
