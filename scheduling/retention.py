"""Retention: the scheduler erases a customer's personal data once it was kept long enough.

Each pass brings the subject index (privacy/subjects.py) up to the store's end and asks it for
customers who still hold a data key and whose cases all last changed before the cut-off (the
configured days before today, UTC). For each, the application loads the cases and records the
``personal_data.retention`` decision: erase (the erasure is recorded as the scheduler's, with
the decision) or keep (a case is still open: the customer is not asked about again until one of
their cases changes). Business time comes in as ``now`` (`deadlines fire --now`), the domain
reads no clock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from uuid import UUID

from aftersales_core.application.access import Caller
from aftersales_core.application.deadlines import FiredDeadline
from aftersales_core.application.privacy import Erasure
from aftersales_core.application.services import Services
from aftersales_core.errors import DomainError
from privacy.subjects import MemorySubjectIndex, SubjectIndex

log = logging.getLogger(__name__)
DEADLINE = "personal_data_retention"
ACTION = "erase_personal_data"


def cutoff(now: datetime, days: int) -> datetime:
    """Cases that last changed before this moment may have been kept long enough: midnight UTC
    ``days`` days before today (a case closed on day D is kept through day D + days)."""
    day = now.astimezone(UTC).date() - timedelta(days=days)
    return datetime.combine(day, time(0), tzinfo=UTC)


@dataclass
class RetentionStats:
    erased: int = 0
    kept: int = 0
    failed: int = 0


class RetentionSweep:
    def __init__(self, app: Services, batch_size: int = 200) -> None:
        self.app, self.batch_size = app, batch_size
        subjects = app.privacy.subjects
        if not isinstance(subjects, (SubjectIndex, MemorySubjectIndex)):
            raise TypeError("retention needs the store's subject index")
        self.index = subjects
        self.stats = RetentionStats()

    def run(self, caller: Caller, now: datetime) -> list[FiredDeadline]:
        """Erase the personal data of every customer whose retention ended before ``now``."""
        days = self.app.privacy.retention_days
        if days is None:
            return []
        self.index.catch_up()
        erased: list[FiredDeadline] = []
        while True:
            candidates = self.index.retention_candidates(cutoff(now, days), self.batch_size)
            if not candidates:
                return erased
            for candidate in candidates:
                done = self._one(caller, candidate.subject, now)
                if done is not None:
                    erased.append(done)
                self.index.reviewed(candidate)

    def _one(self, caller: Caller, customer_id: str, now: datetime) -> FiredDeadline | None:
        aggregates = self.index.aggregates_of(customer_id)
        try:
            outcome = self.app.privacy.apply_retention(caller, customer_id, now, aggregates)
        except DomainError as error:
            self.stats.failed += 1
            log.error("retention of customer %s not applied at %s: %s (%s); tried again when "
                      "one of their cases changes", customer_id, now.isoformat(), error,
                      type(error).__name__)
            return None
        if not isinstance(outcome, Erasure):
            self.stats.kept += 1
            return None
        self.stats.erased += 1
        assert outcome.decision is not None
        log.info("retention: personal data of customer %s erased at %s", customer_id,
                 now.isoformat())
        return FiredDeadline(
            case_id=UUID(outcome.customer_aggregate_id), case_type="customer", name=DEADLINE,
            due_at=datetime.fromisoformat(outcome.decision.details["erase_after"]),
            fired_at=now, action=ACTION, status="erased",
            reasons=list(outcome.decision.reasons), related={"customer_id": customer_id})
