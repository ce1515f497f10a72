"""The settings of ``deadlines`` v3 and v4 (the same: v4 changed only how a withdrawal
refund's hold moves its due time), from a policy book (policybook/bindings.py) or built in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from aftersales_core.outcomes import above
from aftersales_core.policies.calendar import MARKET_ZONES
from aftersales_core.policies.markets import for_market
from aftersales_core.policies.return_eligibility_v3_settings import SETTINGS_V3 as TERMS
from aftersales_core.policies.return_eligibility_v3_settings import RefundTerm
from aftersales_core.policies.service_levels import ServiceLevels


@dataclass(frozen=True)
class DeadlineSettingsV3:
    """Settings of deadlines v3, from a policy book."""

    return_decision_hours: int = 48
    refund_default: RefundTerm = TERMS.refund_default
    refund_markets: Mapping[str, RefundTerm] = field(default_factory=lambda: TERMS.refund_markets)
    held_refund_days: int = 3
    service_levels: ServiceLevels = field(default_factory=ServiceLevels)
    escalated_resolution_hours: int = 72
    complaint_ladder: tuple[str, ...] = ("supervisor", "platform_arbitration")
    watchdog_no_scan_hours: int = 120
    watchdog_customs_hold_hours: int = 72
    cn_repair_days: int = 15
    repair_days: int = 30
    repair_ship_days: int = 3
    market_zones: Mapping[str, str] = field(default_factory=lambda: MARKET_ZONES)

    def refund_term(self, market: str) -> RefundTerm:
        return for_market(self.refund_markets, market, self.refund_default)

    def at_the_top(self, escalations: list[str]) -> bool:
        return any(level in escalations for level in (self.complaint_ladder[-1], "regulator"))

    def beyond_the_ladder(self, escalations: list[str]) -> bool:
        """No step of the ladder above the highest level reached (v5: escalations climb)."""
        return not above(self.complaint_ladder[-1], escalations)


SETTINGS_V3 = DeadlineSettingsV3()
