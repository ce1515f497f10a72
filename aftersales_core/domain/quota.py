"""A buyer's annual quota for China cross-border retail imports (SPEC §3.2): ¥26,000 a year,
used when a bonded or direct-mail order to a CN buyer is paid, restored by a valid customs
return (goods back in the bonded zone within 45 days of release), and given back whole when the
order is cancelled before its goods cleared customs (they were never imported: ``release``),
booked again when a customs release that came in late shows they did clear (``rebook``).
One aggregate per buyer and calendar year (China time), so that every use and restoration is an
event in the store."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from aftersales_core.domain.ids import quota_aggregate_id
from aftersales_core.errors import InvalidCommandError
from aftersales_core.money import Money


class BuyerQuota(Aggregate):
    """Uses (per order) and restorations (per return case) of one buyer's quota in one year."""

    KIND = "quota"
    TOPIC = "aftersales.quota"
    Created = None  # type: ignore[assignment]  # creation events have their own names

    class Event(Aggregate.Event):
        class_version = 1

    @staticmethod
    def create_id(customer_id: str, year: int, annual_limit: Money,
                  per_order_limit: Money, timestamp: datetime) -> UUID:
        return quota_aggregate_id(customer_id, year)

    @event("Opened", topic="aftersales.quota.Opened")
    def __init__(self, customer_id: str, year: int, annual_limit: Money,
                 per_order_limit: Money, timestamp: datetime) -> None:
        self.customer_id, self.year = customer_id, year
        self.annual_limit, self.per_order_limit = annual_limit, per_order_limit
        self.currency = annual_limit.currency
        self.uses: dict[str, Decimal] = {}  # order id -> amount used
        self.restorations: dict[str, dict[str, Any]] = {}  # return case id -> order, amount
        self.releases: dict[str, Decimal] = {}  # order id -> use given back (cancelled)

    # ---- queries ----------------------------------------------------------------------------
    @property
    def used(self) -> Money:
        return Money(sum(self.uses.values(), Decimal(0)), self.currency)

    @property
    def restored(self) -> Money:
        return Money(sum((Decimal(r["amount"]) for r in self.restorations.values()),
                         Decimal(0)), self.currency)

    @property
    def released(self) -> Money:
        return Money(sum(self.releases.values(), Decimal(0)), self.currency)

    @property
    def remaining(self) -> Money:
        """What is left of the year's limit (negative when the limit was exceeded)."""
        return self.annual_limit - self.used + self.restored + self.released

    def used_by(self, order_id: str) -> Money | None:
        amount = self.uses.get(order_id)
        return None if amount is None else Money(amount, self.currency)

    def restored_for(self, order_id: str) -> Money:
        return Money(sum((Decimal(r["amount"]) for r in self.restorations.values()
                          if r["order_id"] == order_id), Decimal(0)), self.currency)

    def summary(self) -> dict[str, Any]:
        return {
            "quota_id": str(self.id), "customer_id": self.customer_id, "year": self.year,
            "currency": self.currency, "annual_limit": str(self.annual_limit.amount),
            "per_order_limit": str(self.per_order_limit.amount),
            "used": str(self.used.amount), "restored": str(self.restored.amount),
            "released": str(self.released.amount),
            "remaining": str(self.remaining.amount), "orders": len(self.uses),
            "customs_returns": len(self.restorations),
        }

    # ---- commands ----------------------------------------------------------------------------
    def use(self, order_id: str, amount: Money, at: datetime) -> bool:
        """Book an order's use once; False when it was booked already."""
        if order_id in self.uses:
            return False
        self._check(amount)
        over_order = amount > self.per_order_limit
        over_year = amount > self.remaining
        self._used(order_id=order_id, amount=amount.amount, over_order_limit=over_order,
                   over_annual_limit=over_year, timestamp=max(at, self.modified_on))
        return True

    @event("Used", topic="aftersales.quota.Used")
    def _used(self, order_id: str, amount: Decimal, over_order_limit: bool,
              over_annual_limit: bool, timestamp: datetime) -> None:
        self.uses[order_id] = amount

    def restore(self, return_case_id: str, order_id: str, amount: Money, at: datetime) -> bool:
        """Restore what a valid customs return gives back, once per return case."""
        if return_case_id in self.restorations or amount.is_zero():
            return False
        self._check(amount)
        self._restored(return_case_id=return_case_id, order_id=order_id, amount=amount.amount,
                       timestamp=max(at, self.modified_on))
        return True

    @event("Restored", topic="aftersales.quota.Restored")
    def _restored(self, return_case_id: str, order_id: str, amount: Decimal,
                  timestamp: datetime) -> None:
        self.restorations[return_case_id] = {"order_id": order_id, "amount": str(amount)}

    def release(self, order_id: str, reason: str, at: datetime) -> Money | None:
        """Give back what the order used and no customs return restored: the order was
        cancelled before its goods cleared customs. Once per order; None when nothing is
        left to give back."""
        used = self.used_by(order_id)
        if used is None or order_id in self.releases:
            return None
        left = used - self.restored_for(order_id)
        if left.is_zero() or left.is_negative():
            return None
        self._released(order_id=order_id, amount=left.amount, reason=reason,
                       timestamp=max(at, self.modified_on))
        return left

    @event("Released", topic="aftersales.quota.Released")
    def _released(self, order_id: str, amount: Decimal, reason: str,
                  timestamp: datetime) -> None:
        self.releases[order_id] = amount

    def rebook(self, order_id: str, reason: str, at: datetime) -> Money | None:
        """Take back a release: the order's goods cleared customs after all (the carrier's
        release scan came in after the cancellation), so they were imported and the use
        stands. Once per release; None when the order's use was not given back."""
        given = self.releases.get(order_id)
        if given is None:
            return None
        self._rebooked(order_id=order_id, amount=given, reason=reason,
                       timestamp=max(at, self.modified_on))
        return Money(given, self.currency)

    @event("Rebooked", topic="aftersales.quota.Rebooked")
    def _rebooked(self, order_id: str, amount: Decimal, reason: str,
                  timestamp: datetime) -> None:
        del self.releases[order_id]

    def _check(self, amount: Money) -> None:
        if amount.currency != self.currency:
            raise InvalidCommandError(f"quota {self.id} is kept in {self.currency}, not "
                                      f"{amount.currency}")
        if amount.is_negative():
            raise InvalidCommandError(f"quota {self.id}: {amount} is negative")
