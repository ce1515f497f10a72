"""The settings of ``deadlines`` v1 and v2 and of ``deadlines.breach`` v1: how long each kind of
case may wait at each step, which refund term a market's law sets, how a complaint escalates
(defaults from SPEC §3.2)."""

from __future__ import annotations

from dataclasses import dataclass

from aftersales_core.outcomes import above
from aftersales_core.policies.refund_terms import (
    CN_REFUND,
    DEFAULT_REFUND,
    EU_UK_REFUND,
    US_REFUND,
    WITHDRAWAL_REFUND,
    RefundTerm,
)
from aftersales_core.policies.vocabulary import CN_MARKET, US_MARKET, is_eu_or_uk


@dataclass(frozen=True)
class DeadlineSettings:
    """Settings of deadlines v1 and deadlines.breach v1 (defaults from SPEC §3.2)."""

    return_decision_hours: int = 48
    # the terms return.eligibility names (refund_terms.py), by market
    cn_refund: RefundTerm = CN_REFUND
    withdrawal_refund: RefundTerm = WITHDRAWAL_REFUND
    eu_uk_refund: RefundTerm = EU_UK_REFUND
    us_refund: RefundTerm = US_REFUND
    default_refund: RefundTerm = DEFAULT_REFUND
    # A withdrawal's refund may be held until the goods, or proof of their dispatch, arrive;
    # when that is later than the 14 days, it is due this long after (without undue delay).
    held_refund_days: int = 3
    first_response_hours: int = 24
    fast_channels: frozenset[str] = frozenset({"platform", "regulator"})
    fast_first_response_hours: int = 12
    resolution_days: int = 7
    escalated_resolution_days: int = 3  # after a missed resolution: one more chance, then up
    watchdog_no_scan_hours: int = 120  # as logistics.exception v1
    watchdog_customs_hold_hours: int = 72  # as logistics.exception v1
    auto_approve_in_policy_returns: bool = True  # deadlines.breach
    complaint_ladder: tuple[str, ...] = ("supervisor", "platform_arbitration")
    case_escalation_level: str = "supervisor"
    # v2: refund terms in whole calendar (or working) days of the buyer's time zone
    calendar_days: bool = False
    # v2: a repair is done within these days of sending the goods to the repairer (China's
    # three-guarantees rules: 15 days; EU/UK: a reasonable time, 30 days by default), and the
    # repaired goods go back to the buyer within repair_ship_days
    cn_repair_days: int = 15
    repair_days: int = 30
    repair_ship_days: int = 3

    def refund_term(self, market: str, is_withdrawal: bool) -> RefundTerm:
        if market == CN_MARKET:
            return self.cn_refund
        if is_eu_or_uk(market):
            return self.withdrawal_refund if is_withdrawal else self.eu_uk_refund
        return self.us_refund if market == US_MARKET else self.default_refund

    def at_the_top(self, escalations: list[str]) -> bool:
        """Escalated as far as deadlines take a complaint (or further, by hand): the ladder's
        last step or the regulator among the levels (deadlines v1-v4, deadlines.breach v1)."""
        return any(level in escalations for level in (self.complaint_ladder[-1], "regulator"))

    def beyond_the_ladder(self, escalations: list[str]) -> bool:
        """No step of the ladder above the highest level reached (deadlines v5,
        deadlines.breach v2: an escalation only climbs, by hand too)."""
        return not above(self.complaint_ladder[-1], escalations)


SETTINGS_V1 = DeadlineSettings()
SETTINGS_V2 = DeadlineSettings(calendar_days=True)
