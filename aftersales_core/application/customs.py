"""China cross-border customs in the application: the buyer's annual quota, used when an order
is paid, and the customs-return decision when returned goods arrive (or a returnless refund is
resolved), which restores the quota when the goods came back in time.

Plain functions over the application's loading, so the services that need them stay small."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, TypeVar

from eventsourcing.domain import Aggregate

from aftersales_core.decisions import PolicyDecision
from aftersales_core.domain.actor import Actor
from aftersales_core.domain.ids import quota_aggregate_id
from aftersales_core.domain.order import Order
from aftersales_core.domain.quota import BuyerQuota
from aftersales_core.domain.returns import ReturnCase
from aftersales_core.money import Money
from aftersales_core.policies.customs_return import SETTINGS_V1 as CUSTOMS
from aftersales_core.policies.vocabulary import is_cn_cross_border
from aftersales_core.policybook.rulebook import Rules

A = TypeVar("A", bound=Aggregate)


class Finds(Protocol):
    def find(self, cls: type[A], aggregate_id: Any) -> A | None: ...

    def rules_for(self, order: Order | None) -> Rules: ...


def quota_ledger(app: Finds, customer_id: str, year: int, at: datetime) -> BuyerQuota:
    found = app.find(BuyerQuota, quota_aggregate_id(customer_id, year))
    if found is not None:
        return found
    annual, per_order = CUSTOMS.quota_limits()
    return BuyerQuota(customer_id=customer_id, year=year, annual_limit=annual,
                      per_order_limit=per_order, timestamp=at)


def uses_quota(order: Order) -> bool:
    """A placed and paid China cross-border order in the quota's currency."""
    return (order.placed and order.first_paid_at is not None
            and is_cn_cross_border(order.market or "", order.fulfilment or "")
            and order.currency == CUSTOMS.quota_currency)


def order_quota(app: Finds, order: Order) -> BuyerQuota | None:
    """The ledger an order's use is (or will be) booked on: the year it was first paid."""
    if not uses_quota(order):
        return None
    assert order.customer_id is not None and order.first_paid_at is not None
    year = CUSTOMS.quota_year(order.first_paid_at)
    return quota_ledger(app, order.customer_id, year, order.first_paid_at)


def book_quota_use(app: Finds, order: Order, effects: list[str]) -> list[Aggregate]:
    """Book a paid cross-border order's transaction value (goods and freight, less discount)
    on the buyer's ledger of the year, once. Returns the ledger when it changed."""
    ledger = order_quota(app, order)
    if ledger is None:
        return []
    assert order.currency is not None
    value = Money(order.total - order.duties - order.taxes, order.currency)
    if not ledger.use(order.order_id, value, order.modified_on):
        return []
    effects.append(quota_words(ledger, value))
    return [ledger]


def release_quota_use(app: Finds, order: Order, effects: list[str]) -> list[Aggregate]:
    """A cancelled order whose goods never cleared customs was never imported: its use of the
    buyer's quota is given back (what no customs return restored already). Returns the ledger
    when it changed. A cancellation after the customs release keeps the use (the goods came
    in; only a valid customs return restores it)."""
    ledger = order_quota(app, order)
    if ledger is None or order.customs_released_at is not None:
        return []
    at = order.cancelled_at or order.modified_on
    given = ledger.release(order.order_id, "cancelled before customs release", at)
    if given is None:
        return []
    effects.append(f"quota {ledger.year}: {given} given back (cancelled before customs "
                   f"release), {ledger.remaining} left")
    return [ledger]


def rebook_quota_use(app: Finds, order: Order, effects: list[str]) -> list[Aggregate]:
    """A customs release that came in after the order's cancellation gave its quota use back:
    the goods cleared customs, so they were imported and the use stands again (upstream
    topics are not ordered with each other). Returns the ledger when it changed."""
    ledger = order_quota(app, order)
    if ledger is None or order.customs_released_at is None:
        return []
    taken = ledger.rebook(order.order_id, "the goods cleared customs (a release scan that "
                          "came in after the cancellation)", order.modified_on)
    if taken is None:
        return []
    effects.append(f"quota {ledger.year}: {taken} used again (the goods cleared customs "
                   f"after all), {ledger.remaining} left")
    return [ledger]


def quota_words(ledger: BuyerQuota, value: Money) -> str:
    """What booking ``value`` did to the year's quota, naming each limit it broke (recorded on
    the ledger's event too: the order happened, and its customs return restores what it
    used)."""
    said = f"quota {ledger.year}: {value} used"
    if value > ledger.per_order_limit:
        said += f", over the per-transaction limit of {ledger.per_order_limit}"
    left = ledger.remaining
    if left.is_negative():
        return f"{said}, {Money.zero(left.currency) - left} over the annual limit of " \
               f"{ledger.annual_limit}"
    return f"{said}, {left} left"


def customs_return(app: Finds, case: ReturnCase, order: Order, items: list[dict[str, Any]],
                   arrived_at: datetime | None, at: datetime) -> tuple[PolicyDecision,
                                                                       BuyerQuota | None] | None:
    """Decide whether a cross-border return is a valid customs return (only for returns whose
    eligibility, v2 on, requires one), and restore the quota when it is. The caller records the
    decision on the case and saves the ledger."""
    eligibility = case.latest("return.eligibility")
    if eligibility is None or not eligibility.details.get("customs_return_required"):
        return None
    if case.latest("return.customs_return") is not None:
        return None
    ledger = order_quota(app, order)
    currency = order.currency or ""
    facts = order.facts()
    used = None if ledger is None else ledger.used_by(order.order_id)
    restored = Money.zero(currency) if ledger is None else ledger.restored_for(order.order_id)
    decision = app.rules_for(order).evaluate("return.customs_return", {
        "currency": currency,
        "back_in_zone_by": eligibility.details.get("back_in_zone_by"),
        "arrived_at": None if arrived_at is None else arrived_at.isoformat(),
        "returnless": case.returnless,
        "zone": eligibility.details.get("zone") or CUSTOMS.quota_zone,
        "lines": items,
        "order_lines": facts["order_lines"],
        "discount": facts["discount"],
        "shipping_fee": facts["shipping_fee"],
        "quota_used_by_order": None if used is None else str(used.amount),
        "quota_restored_for_order": str(restored.amount),
    })
    amount = decision.details.get("quota_restored")
    if amount is None or ledger is None:
        return decision, None
    changed = ledger.restore(str(case.id), order.order_id, Money.of(amount, currency), at)
    return decision, ledger if changed else None


def receive_goods(app: Finds, case: ReturnCase, order: Order, items: list[dict[str, Any]],
                  actor: Actor, shipment_id: str | None, at: datetime) -> list[Aggregate]:
    """Receive a return's goods; a cross-border return also gets its customs-return decision
    and, when valid, restores the quota. Returns the ledger when it changed (the caller saves
    it with the case)."""
    stamp = max(at, case.modified_on)
    decided = None if case.returnless else customs_return(app, case, order, items, stamp, stamp)
    case.receive(actor=actor, shipment_id=shipment_id, at=at,
                 customs=None if decided is None else decided[0])
    return [decided[1]] if decided is not None and decided[1] is not None else []
