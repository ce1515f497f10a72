"""The built-in book: the settings every order used before a policy book was set, the law's
defaults (SPEC §3.2). It is version 0 of every book: the platform's default until an
administrator sets one, and what a merchant's first version starts from."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aftersales_core.policies.return_eligibility_v3_settings import LEGAL_EXCLUSIONS
from aftersales_core.policybook.fields import FORMAT
from aftersales_core.policybook.model import Book

CURRENCIES = ["CNY", "HKD", "JPY", "KRW", "SGD", "AUD", "CAD", "EUR", "GBP", "USD", "BRL"]


def builtin_document() -> dict[str, Any]:
    return {
        "format": FORMAT,
        "merchant_name": "Platform default",
        "currencies": CURRENCIES,
        "returns": {
            "default": {"no_fault": "30 days", "fault": "30 days"},
            "markets": {
                "EU": {"no_fault": "14 days", "fault": "2 years"},
                "GB": {"no_fault": "14 days", "fault": "30 days"},
                "CN": {"no_fault": "7 days", "fault": "30 days", "cross_border": "30 days",
                       "bonded_return": "45 days"},
                "US": {"no_fault": "30 days", "fault": "30 days"},
            },
            "ship_back": "14 days",
            "excluded_categories": sorted(LEGAL_EXCLUSIONS),
            "unclassified": "returnable",
        },
        "return_shipping": {"default": "buyer",
                            "markets": {"EU": "buyer_if_informed", "GB": "buyer_if_informed"}},
        "returnless": {
            "share": "0.60",
            "value_floors": {"CNY": "50", "HKD": "60", "JPY": "1200", "KRW": "12000",
                             "SGD": "12", "AUD": "15", "CAD": "12", "EUR": "8", "GBP": "7",
                             "USD": "10", "BRL": "40"},
            "label_rates": {
                currency: {"in_country": near, "international": far}
                for currency, (near, far) in {
                    "CNY": ("15", "180"), "HKD": ("40", "300"), "JPY": ("900", "5500"),
                    "KRW": ("4000", "50000"), "SGD": ("8", "55"), "AUD": ("12", "60"),
                    "CAD": ("15", "55"), "EUR": ("7", "35"), "GBP": ("6", "30"),
                    "USD": ("9", "40"), "BRL": ("30", "200"),
                }.items()
            },
        },
        "restocking": {"rate": "0.10", "grades": ["C", "D"]},
        "refunds": {"default": {"days": 14},
                    "markets": {"CN": {"days": 7}, "EU": {"days": 14}, "GB": {"days": 14},
                                "US": {"working_days": 7}}},
        "approval": {"thresholds": {
            "CNY": "2000", "HKD": "2300", "JPY": "45000", "KRW": "400000", "SGD": "400",
            "AUD": "450", "CAD": "400", "EUR": "250", "GBP": "220", "USD": "300", "BRL": "1500",
        }},
        "abuse": {"window_orders": 20, "min_orders": 4, "max_return_rate": "0.5"},
        "complaints": {
            "clock": "calendar",
            "first_response_hours": {"P1": 24, "P2": 24, "P3": 24},
            "channel_first_response_hours": {"platform": 12, "regulator": 12},
            "resolution_hours": {"P1": 168, "P2": 168, "P3": 168},
            "pause_while_waiting_on_customer": True,
        },
        "calendars": {"default": {"hours": "09:00-18:00", "public_holidays": True}},
        "escalation": {"complaint_ladder": ["supervisor", "platform_arbitration"],
                       "cases": "supervisor", "escalated_resolution_hours": 72},
    }


@lru_cache(maxsize=1)
def builtin_book() -> Book:
    return Book.model_validate(builtin_document())
