"""The deadline scheduler: turns due deadlines into commands (breach, escalation, expiry,
automatic approval, proactive complaints), and erases personal data whose retention ended
(scheduling/retention.py).

Each cycle reads the new deadline events into the index, asks it which cases have a deadline due
before ``now``, and fires each of those cases through the application, which reloads the case and
lets it decide (firing twice, or from two processes, changes nothing the second time). The clock
is read here, at the edge, and handed in as ``now``; the domain never reads one.

Failure policy: a case whose firing is refused by the domain (the scheduler's poison) is logged
with its id and counted, and stays due (it is tried again next cycle, and `aftersales deadlines
list` shows it); anything else (the store is down, a bug) stops the cycle, and the injected error
policy (workers/error_policy.py) backs off and starts the next one, as for every other worker of
`aftersales run`: firing is idempotent, so a cycle cut short loses nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

from aftersales_core.application.access import Caller
from aftersales_core.application.deadlines import FiredDeadline
from aftersales_core.application.services import Services
from aftersales_core.domain.base import require_aware
from aftersales_core.errors import AlreadyExistsError, ConcurrentChangeError, DomainError
from scheduling.deadline_index import DeadlineIndex
from scheduling.retention import RetentionSweep
from workers.counts import WorkCounts
from workers.error_policy import ErrorPolicy, Streak

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class SchedulerStats:
    cycles: int = 0
    fired: int = 0
    failed: int = 0
    healed: int = 0
    # (case type, deadline, what its breach did) -> deadlines this scheduler fired
    fired_by: dict[tuple[str, str, str], int] = field(default_factory=dict)
    work: WorkCounts = field(default_factory=WorkCounts)  # FireDeadlines outcomes, commits

    def count_fired(self, fired: list[FiredDeadline]) -> None:
        for item in fired:
            key = (item.case_type, item.name, item.action)
            self.fired_by[key] = self.fired_by.get(key, 0) + 1


class Scheduler:
    def __init__(
        self,
        app: Services,
        principal_id: UUID,
        *,
        clock: Clock = wall_clock,
        interval: float = 2.0,
        batch_size: int = 200,
        policy: ErrorPolicy | None = None,
    ) -> None:
        self.app, self.clock, self.interval, self.batch_size = app, clock, interval, batch_size
        self.principal_id = principal_id  # the scheduler acts as this (system) principal
        self.index = DeadlineIndex(app.store.recorder, app.store.mapper)
        self.retention = RetentionSweep(app)
        self.stats = SchedulerStats()
        self.policy = policy or ErrorPolicy()
        self.streak = Streak()  # failures in a row, for its health

    def fire_due(self, now: datetime) -> list[FiredDeadline]:
        """One pass: fire everything due before ``now``; returns what fired."""
        require_aware(now, "now")
        try:  # a disabled or missing scheduler principal fires nothing (one denial a cycle)
            self.app.access.principal(self._caller(), "FireDeadlines")
        except DomainError as error:
            self.stats.failed += 1
            log.error("deadline scheduler may not fire: %s", error)
            return []
        self.index.catch_up()
        failed_before = self.retention.stats.failed
        fired: list[FiredDeadline] = []
        done: set[UUID] = set()  # nothing (more) to fire this pass, or refused
        while True:
            candidates = [
                c for c in self.index.due_cases(now, self.batch_size + len(done)) if c not in done
            ]
            if not candidates:
                break
            for case_id in candidates:
                more = self._fire_case(case_id, now)
                if not more:
                    done.add(case_id)
                fired += more  # a case that fired is asked again: its new state may be due
            self.index.catch_up()
        erased = self.retention.run(self._caller(), now)
        self.stats.failed += self.retention.stats.failed - failed_before
        self.stats.count_fired(erased)
        fired += erased
        self.stats.cycles += 1
        self.stats.fired += len(fired)
        return fired

    def _caller(self) -> Caller:
        return Caller(self.principal_id, wall_clock(), via="scheduler")

    def _fire_case(self, case_id: UUID, now: datetime) -> list[FiredDeadline]:
        try:
            try:
                fired = self.app.deadlines.fire(self._caller(), case_id, now)
            except (AlreadyExistsError, ConcurrentChangeError) as lost:
                # another scheduler fired the case (or a case its breach opens) first: asked
                # again on what the store holds now, nothing is due (else it fails as below)
                fired = self.app.deadlines.fire(self._caller(), case_id, now)
                log.info("deadlines of case %s: another scheduler fired them first (%s)",
                         case_id, type(lost).__name__)
        except Exception as error:
            if not self.policy.is_poison(error):
                raise
            self.stats.failed += 1
            self.stats.work.command("FireDeadlines", "refused")
            log.error(
                "deadlines of case %s not fired at %s: %s (%s); tried again next cycle",
                case_id,
                now.isoformat(),
                error,
                type(error).__name__,
            )
            return []
        self.stats.work.command("FireDeadlines", "done" if fired else "nothing_due")
        if fired:
            self.stats.work.batch(1)  # one case's firing: one commit
        self.stats.count_fired(fired)
        for item in fired:
            log.info(
                "case %s: deadline %s due %s fired: %s",
                item.case_id,
                item.name,
                item.due_at.isoformat(),
                item.action,
            )
        if not fired:
            self._heal(case_id)
        return fired

    def _heal(self, case_id: UUID) -> None:
        """Nothing was due after all (met meanwhile, or a stale row): rewrite the case's rows
        from the aggregate, so it is not a candidate again."""
        try:
            kind, version, deadlines = self.app.deadlines.open_deadlines_of(
                self._caller(), case_id
            )
        except DomainError:
            return
        self.index.reconcile(
            case_id, kind, version, [(d.name, d.due_at, d.action) for d in deadlines]
        )
        self.stats.healed += 1

    def run(self, stop: threading.Event) -> None:
        """Fire with the wall clock every ``interval`` seconds until ``stop`` is set."""
        log.info("deadline scheduler starting at index position %d", self.index.position())

        def cycle() -> None:
            self.fire_due(self.clock())
            stop.wait(self.interval)

        self.policy.keep_running("deadline scheduler", stop, cycle, streak=self.streak)
