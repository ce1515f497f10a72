"""``buyer.abuse_signal``: does a buyer's return rate over their last orders need a human look?"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from aftersales_core.decisions import JSON, PolicyDecision, copy_json
from aftersales_core.outcomes import AbuseSignal
from aftersales_core.policies.reading import Reader, percent
from aftersales_core.policies.registry import policy

POLICY_ID = "buyer.abuse_signal"


@dataclass(frozen=True)
class AbuseSettings:
    """Settings of buyer.abuse_signal v1."""

    window_orders: int = 20  # recent_orders counts at most the buyer's last N orders
    min_orders: int = 4  # fewer orders than this say nothing about a buyer
    max_return_rate: Decimal = Decimal("0.5")  # review when returns / orders is above this


SETTINGS_V1 = AbuseSettings()


def decide(inputs: JSON, settings: AbuseSettings, version: int) -> PolicyDecision:
    read = Reader(POLICY_ID, inputs)
    read.text("customer_id")
    orders = read.count("recent_orders")
    returns = read.count("recent_returns")
    if orders > settings.window_orders:
        raise read.error("recent_orders", f"must count at most the last {settings.window_orders} "
                                          f"orders, got {orders}")
    rate = Decimal(returns) / Decimal(orders) if orders else Decimal(0)
    limit = percent(settings.max_return_rate)
    counted = f"{returns} return{'s' if returns != 1 else ''} in the last {orders} " \
              f"order{'s' if orders != 1 else ''}"
    if orders < settings.min_orders:
        outcome, rule = AbuseSignal.OK, "abuse.min_orders"
        reason = f"{counted}: too few orders (under {settings.min_orders}) to judge a return rate"
    elif Decimal(returns) > settings.max_return_rate * orders:
        outcome, rule = AbuseSignal.REVIEW, "abuse.return_rate"
        reason = f"{counted} is a return rate of {percent(_rounded(rate))}, above the " \
                 f"{limit} limit: review before approving"
    else:
        outcome, rule = AbuseSignal.OK, "abuse.return_rate"
        reason = f"{counted} is a return rate of {percent(_rounded(rate))}, within the " \
                 f"{limit} limit"
    details: JSON = {
        "return_rate": str(_rounded(rate)),
        "max_return_rate": str(settings.max_return_rate),
        "min_orders": settings.min_orders,
        "window_orders": settings.window_orders,
    }
    return PolicyDecision(POLICY_ID, version, copy_json(inputs), outcome, (reason,), (rule,),
                          details)


def _rounded(rate: Decimal) -> Decimal:
    return rate.quantize(Decimal("0.0001"), ROUND_HALF_EVEN)


@policy(POLICY_ID, 1, settings=SETTINGS_V1)
def buyer_abuse_signal_v1(inputs: JSON, settings: AbuseSettings) -> PolicyDecision:
    return decide(inputs, settings, 1)
