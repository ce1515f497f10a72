"""How long a refund may take, and from which moment: the one table of refund terms.

``return.eligibility`` names a return's term in its decision (``refund_due_*``: how the law
the return falls under counts it) and ``deadlines`` schedules the refund deadline with the
same term, so the two can never disagree. Labels are part of recorded reasons: a term whose
law changes gets a new constant and a new policy version, never an edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from aftersales_core.decisions import JSON
from aftersales_core.policies.calendar import BuyerZone, calendar_period, working_period

RefundDueFrom = Literal["request", "return_received"]


def add_working_days(start: datetime, days: int) -> datetime:
    """``days`` weekdays after start, at the same time of day; Saturdays and Sundays skipped."""
    moment, left = start, days
    while left > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            left -= 1
    return moment


@dataclass(frozen=True)
class RefundTerm:
    """How long a refund may take, counted from which moment."""

    days: int
    label: str
    working_days: bool = False
    anchor: RefundDueFrom = "return_received"  # or "request": the withdrawal notice

    @property
    def may_be_held(self) -> bool:
        """A refund counted from the withdrawal notice may be held until the goods, or proof
        of their dispatch, arrive."""
        return self.anchor == "request"

    def recorded(self) -> JSON:
        """The term as ``return.eligibility`` records it in its details."""
        return {
            "refund_due_days": None if self.working_days else self.days,
            "refund_due_working_days": self.days if self.working_days else None,
            "refund_due_from": self.anchor,
            "refund_may_be_held": self.may_be_held,
        }

    def due(self, start: datetime) -> datetime:
        if self.working_days:
            return add_working_days(start, self.days)
        return start + timedelta(days=self.days)

    def length(self) -> str:
        return f"{self.days} {'working ' if self.working_days else ''}days"

    def counted(self, start: datetime, market: str, where: BuyerZone) -> tuple[datetime, JSON,
                                                                               str]:
        """v2: whole days in the buyer's calendar, working days without the market's public
        holidays: the due time (the end of the last day), what to record, and why."""
        days_off: list[JSON] = []
        if self.working_days:
            counted = working_period(start, self.days, market, where)
            period, days_off = counted.period, counted.skipped_json()
            named = counted.holidays_named()
            skipped = f"; skipping the public holidays {', '.join(named)}" if named else ""
        else:
            period, skipped = calendar_period(start, where, days=self.days), ""
        record: JSON = {**period.to_json(), "days_off": days_off}
        words = f"ends at the end of {period.last_day.isoformat()} ({where.name}){skipped}"
        return period.ends_at, record, words


CN_REFUND = RefundTerm(7, "CN: refund within 7 days of receiving the return")
WITHDRAWAL_REFUND = RefundTerm(14, "EU/UK: refund within 14 days of the withdrawal notice",
                               anchor="request")
EU_UK_REFUND = RefundTerm(14, "EU/UK: refund within 14 days of the return")
US_REFUND = RefundTerm(7, "US: refund within 7 working days of receiving the return",
                       working_days=True)
DEFAULT_REFUND = RefundTerm(14, "refund within 14 days of receiving the return")
