"""Shared vocabulary of the policies: markets, fulfilment modes, reasons, channels, categories.

Each closed set is a ``Literal`` type for annotations and a ``frozenset`` of its values for checks.
"""

from __future__ import annotations

from typing import Literal, get_args

# The 27 EU member states (ISO 3166-1 alpha-2; Greece is GR, not the EU's own "EL").
EU_MARKETS: frozenset[str] = frozenset({
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
    "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
})
UK_MARKET = "GB"
CN_MARKET = "CN"
US_MARKET = "US"

Fulfilment = Literal["bonded", "direct_mail", "domestic"]
FULFILMENTS: frozenset[str] = frozenset(get_args(Fulfilment))
# China cross-border retail import: bonded ("1210") and direct mail ("9610").
CROSS_BORDER_FULFILMENTS: frozenset[str] = frozenset({"bonded", "direct_mail"})

MerchantFaultReason = Literal[
    "damaged", "defective", "wrong_item", "not_as_described", "counterfeit_suspected"
]
OtherReturnReason = Literal[
    "changed_mind", "no_longer_needed", "doesnt_fit", "better_price_found", "arrived_late", "other"
]
MERCHANT_FAULT_REASONS: frozenset[str] = frozenset(get_args(MerchantFaultReason))
OTHER_RETURN_REASONS: frozenset[str] = frozenset(get_args(OtherReturnReason))
RETURN_REASONS: frozenset[str] = MERCHANT_FAULT_REASONS | OTHER_RETURN_REASONS

NonReturnableCategory = Literal[
    "custom_made", "perishable", "digital_download", "unsealed_media", "newspapers_periodicals"
]
NON_RETURNABLE_CATEGORIES: frozenset[str] = frozenset(get_args(NonReturnableCategory))

WantedOutcome = Literal["refund", "exchange", "repair"]
WANTED_OUTCOMES: frozenset[str] = frozenset(get_args(WantedOutcome))

ComplaintChannel = Literal["chat", "phone", "email", "platform", "social", "regulator"]
COMPLAINT_CHANNELS: frozenset[str] = frozenset(get_args(ComplaintChannel))

ComplaintCategory = Literal[
    "logistics_delay", "damaged", "not_as_described", "counterfeit_suspected", "customs",
    "refund_delay", "service", "other",
]
COMPLAINT_CATEGORIES: frozenset[str] = frozenset(get_args(ComplaintCategory))

RefundSource = Literal[
    "return", "complaint", "logistics_exception", "cancellation", "goodwill", "exchange"
]
REFUND_SOURCES: frozenset[str] = frozenset(get_args(RefundSource))

InspectionGrade = Literal["A", "B", "C", "D"]
INSPECTION_GRADES: frozenset[str] = frozenset(get_args(InspectionGrade))

ShippingPayer = Literal["merchant", "buyer"]
SHIPPING_PAYERS: frozenset[str] = frozenset(get_args(ShippingPayer))

ApproverRole = Literal["agent", "supervisor"]
APPROVER_ROLES: frozenset[str] = frozenset(get_args(ApproverRole))

LogisticsEventType = Literal["Lost", "Damaged", "DeliveryFailed", "CustomsHeld", "NoScan"]
LOGISTICS_EVENT_TYPES: frozenset[str] = frozenset(get_args(LogisticsEventType))

ShipmentDirection = Literal["outbound", "return"]
SHIPMENT_DIRECTIONS: frozenset[str] = frozenset(get_args(ShipmentDirection))

# Regimes named by return.eligibility and read back by return.shipping and refund.calculation.
Regime = Literal[
    "cn_cross_border", "cn_no_reason_7d", "eu_withdrawal", "uk_withdrawal", "uk_right_to_reject",
    "eu_legal_guarantee", "us_merchant", "merchant_default",
]
REGIMES: frozenset[str] = frozenset(get_args(Regime))


def is_cn_cross_border(market: str, fulfilment: str) -> bool:
    """China cross-border retail import: a CN buyer served from a bonded zone or by direct mail."""
    return market == CN_MARKET and fulfilment in CROSS_BORDER_FULFILMENTS


def is_eu_or_uk(market: str) -> bool:
    return market in EU_MARKETS or market == UK_MARKET
