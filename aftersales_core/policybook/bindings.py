"""What each policy version takes from a policy book: its settings, derived from the book alone.

A binding is kept for every version that ever took settings from a book, so that a decision
re-runs with exactly the settings it used (checked by their hash). A version without a binding
is not governed by books: it uses its built-in settings whatever the book says.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any, TypeVar

from aftersales_core.policies import (
    buyer_abuse,
    complaint_triage,
    deadline_breach,
    refund_approval,
    refund_calculation,
    return_shipping,
)
from aftersales_core.policies.calendar import MARKET_ZONES
from aftersales_core.policies.deadlines_settings import DeadlineSettings
from aftersales_core.policies.deadlines_v3_settings import SETTINGS_V3 as DEADLINE_SETTINGS_V3
from aftersales_core.policies.deadlines_v3_settings import DeadlineSettingsV3
from aftersales_core.policies.registry import NO_SETTINGS, version_of
from aftersales_core.policies.return_eligibility_v3_settings import (
    CUSTOMS_APPLICATION,
    CUSTOMS_ARRIVAL,
    EligibilitySettingsV3,
    MarketWindows,
    RefundTerm,
)
from aftersales_core.policies.service_levels import MarketCalendar, ServiceLevels
from aftersales_core.policybook import model
from aftersales_core.policybook.fields import WEEKDAYS
from aftersales_core.policybook.model import Book

T = TypeVar("T")
U = TypeVar("U")


def _frozen(entries: Mapping[Any, T], convert: Callable[[T], U]) -> Mapping[str, U]:
    return MappingProxyType({key: convert(value) for key, value in sorted(entries.items())})


def _windows(entry: model.Windows) -> MarketWindows:
    return MarketWindows(
        no_fault=entry.no_fault, fault=entry.fault,
        reasons=_frozen(entry.reasons, lambda length: length),
        cross_border=entry.cross_border or CUSTOMS_APPLICATION,
        bonded_return=entry.bonded_return or CUSTOMS_ARRIVAL)


def _term(entry: model.RefundTerm) -> RefundTerm:
    if entry.working_days is not None:
        return RefundTerm(entry.working_days, working_days=True)
    assert entry.days is not None
    return RefundTerm(entry.days)


def _zones(book: Book) -> Mapping[str, str]:
    return MappingProxyType({**MARKET_ZONES, **dict(sorted(book.buyer_zones.items()))})


def eligibility_v3(book: Book) -> EligibilitySettingsV3:
    returns = book.returns
    return EligibilitySettingsV3(
        default=_windows(returns.default),
        markets=_frozen(returns.markets, _windows),
        refund_default=_term(book.refunds.default),
        refund_markets=_frozen(book.refunds.markets, _term),
        ship_back=returns.ship_back,
        excluded_categories=frozenset(returns.excluded_categories),
        unclassified=returns.unclassified,
        market_zones=_zones(book),
    )


def shipping_v3(book: Book) -> return_shipping.ShippingSettings:
    rules = {"default": book.return_shipping.default, **book.return_shipping.markets}
    returnless = book.returnless
    return replace(
        return_shipping.SETTINGS_V3,
        returnless_share=returnless.share,
        value_floors=_frozen(returnless.value_floors, lambda amount: amount),
        rate_table=_frozen(returnless.label_rates, lambda rate: MappingProxyType(
            {"in_country": rate.in_country, "international": rate.international})),
        no_fault_payers=_frozen(rules, lambda payer: payer),
    )


def refund_calculation_v2(book: Book) -> refund_calculation.RefundSettings:
    return replace(refund_calculation.SETTINGS_V2, restocking_fee_rate=book.restocking.rate,
                   restocking_grades=frozenset(book.restocking.grades))


def refund_approval_v2(book: Book) -> refund_approval.RefundApprovalSettings:
    return replace(refund_approval.SETTINGS_V2,
                   thresholds=_frozen(book.approval.thresholds, lambda amount: amount))


def abuse_v1(book: Book) -> buyer_abuse.AbuseSettings:
    abuse = book.abuse
    return buyer_abuse.AbuseSettings(window_orders=abuse.window_orders,
                                     min_orders=abuse.min_orders,
                                     max_return_rate=abuse.max_return_rate)


def _calendar(entry: model.Calendar) -> MarketCalendar:
    opens, closes = entry.opening
    return MarketCalendar(
        zone=entry.zone, opens=opens, closes=closes,
        working_days=None if entry.working_days is None else tuple(
            day for day in WEEKDAYS if day in entry.working_days),
        public_holidays=entry.public_holidays, closed=frozenset(entry.closed),
        open=frozenset(entry.open))


def service_levels(book: Book) -> ServiceLevels:
    sla = book.complaints
    return ServiceLevels(
        clock=sla.clock,
        first_response_hours=_frozen(sla.first_response_hours, int),
        channel_first_response_hours=_frozen(sla.channel_first_response_hours, int),
        resolution_hours=_frozen(sla.resolution_hours, int),
        pause_while_waiting_on_customer=sla.pause_while_waiting_on_customer,
        calendar=_calendar(book.calendars.default),
        calendars=_frozen(book.calendars.markets, _calendar),
    )


def triage_v2(book: Book) -> complaint_triage.TriageSettings:
    return replace(complaint_triage.SETTINGS_V2, service_levels=service_levels(book))


def triage_v3(book: Book) -> complaint_triage.TriageSettingsV3:
    return replace(complaint_triage.SETTINGS_V3, service_levels=service_levels(book),
                   market_zones=_zones(book))


def deadlines_v3_settings(book: Book) -> DeadlineSettingsV3:
    return replace(
        DEADLINE_SETTINGS_V3,
        refund_default=_term(book.refunds.default),
        refund_markets=_frozen(book.refunds.markets, _term),
        service_levels=service_levels(book),
        escalated_resolution_hours=book.escalation.escalated_resolution_hours,
        complaint_ladder=tuple(book.escalation.complaint_ladder),
        market_zones=_zones(book),
    )


def breach_v1(book: Book) -> DeadlineSettings:
    return replace(deadline_breach.SETTINGS_V1,
                   complaint_ladder=tuple(book.escalation.complaint_ladder),
                   case_escalation_level=book.escalation.cases)


BINDINGS: Mapping[tuple[str, int], Callable[[Book], Any]] = MappingProxyType({
    ("return.eligibility", 3): eligibility_v3,
    ("return.eligibility", 4): eligibility_v3,  # the same settings: the vocabulary changed
    ("return.eligibility", 5): eligibility_v3,  # the same settings: zone spans changed
    ("return.eligibility", 6): eligibility_v3,  # the same settings: zones, a note's words
    ("return.shipping", 3): shipping_v3,
    ("refund.calculation", 2): refund_calculation_v2,
    ("refund.calculation", 3): refund_calculation_v2,  # the same settings: the sums changed
    ("refund.calculation", 4): refund_calculation_v2,  # the same settings: a reason's words
    ("refund.calculation", 5): refund_calculation_v2,  # the same settings: a return's cap
    ("refund.calculation", 6): refund_calculation_v2,  # the same settings: an amount's cap
    ("refund.approval", 2): refund_approval_v2,
    ("refund.approval", 3): refund_approval_v2,  # the same settings: the sum is the change
    ("refund.approval", 4): refund_approval_v2,  # the same settings: a review is the change
    ("buyer.abuse_signal", 1): abuse_v1,
    ("complaint.triage", 2): triage_v2,
    ("complaint.triage", 3): triage_v3,  # v2's and the market zones: days counted as days
    ("complaint.triage", 4): triage_v3,  # the same settings: every market's zone
    ("deadlines", 3): deadlines_v3_settings,
    ("deadlines", 4): deadlines_v3_settings,  # the same settings: the refund's hold changed
    ("deadlines", 5): deadlines_v3_settings,  # the same settings: resolution days counted
    ("deadlines", 6): deadlines_v3_settings,  # the same settings: every market's zone
    ("deadlines.breach", 1): breach_v1,
    ("deadlines.breach", 2): breach_v1,  # the same settings: the ladder only climbs
})


def settings_for(book: Book, policy_id: str, version: int) -> Any:
    """The settings ``policy_id`` v``version`` takes from the book (its built-in ones when the
    book does not govern that version; NO_SETTINGS when it takes none)."""
    binding = BINDINGS.get((policy_id, version))
    if binding is not None:
        return binding(book)
    return version_of(policy_id, version).defaults


def governed(policy_id: str, version: int) -> bool:
    return (policy_id, version) in BINDINGS and \
        version_of(policy_id, version).defaults is not NO_SETTINGS
