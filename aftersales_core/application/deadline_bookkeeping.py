"""The ``deadlines`` step of the unit of work: every save settles and schedules deadlines.

For each aggregate of the batch that has deadlines and changed: deadlines whose state was left
are settled (met, cancelled, or breached late), and the deadlines its new state wants are
computed by the ``deadlines`` policy and scheduled, the decision recorded first, all in the
command's own transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from eventsourcing.domain import Aggregate

from aftersales_core.application.deadline_facts import order_of, schedule_inputs
from aftersales_core.domain.deadlines import DeadlineRules
from aftersales_core.domain.order import Order
from aftersales_core.policybook.rulebook import Rules

Find = Callable[[type[Aggregate], UUID], Aggregate | None]


class DeadlineBookkeeping:
    name = "deadlines"

    def __init__(self, find: Find, rules_for: Callable[[Order | None], Rules]) -> None:
        self.find, self.rules_for = find, rules_for

    def before_save(self, batch: tuple[Aggregate, ...]) -> None:
        for aggregate in batch:
            if isinstance(aggregate, DeadlineRules) and aggregate.pending_events:
                self.sync(aggregate, batch)

    def sync(self, aggregate: DeadlineRules, batch: tuple[Aggregate, ...]) -> None:
        """Settle what the aggregate's state left, schedule what its new state wants."""
        at = aggregate.modified_on
        aggregate.settle_deadlines(at)
        wanted = aggregate.deadlines_to_schedule()
        if not wanted:
            return
        rules = self.rules_for(order_of(aggregate, batch, self.find))  # its merchant's book
        decision = rules.evaluate(
            "deadlines", schedule_inputs(aggregate, wanted, batch, self.find)
        )
        aggregate.schedule_deadlines(decision, at)
