"""What every case aggregate shares: status checks, monotonic business time, decisions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

from aftersales_core.domain.lifecycle import Standing
from aftersales_core.errors import IllegalTransitionError, InvalidCommandError


def require_aware(at: datetime, field: str = "at") -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidCommandError(f"{field} must carry a UTC offset (RFC 3339), got {at}")
    return at


class CaseRules:
    """Mixin of the plain-method checks that run before an event exists (never on replay)."""

    KIND = "case"
    status: StrEnum
    escalations: list[str]
    modified_on: datetime
    id: Any

    @property
    def standing(self) -> Standing:
        """Status, latest escalation and first response, as the lifecycle folds them."""
        return Standing(self.status, self.escalations[-1] if self.escalations else None,
                        self.answered)

    @property
    def answered(self) -> bool:
        """Whether the customer has had a first response (complaints answer it)."""
        return False

    def entered(self, status: StrEnum) -> None:
        """Called when an event moved the case to ``status`` (after its mutator)."""

    def _require(self, action: str, allowed: Iterable[StrEnum]) -> None:
        if self.status not in set(allowed):
            raise IllegalTransitionError(self.KIND, self.id, action, self.status.value)

    def _check_time(self, at: datetime) -> datetime:
        require_aware(at)
        if at < self.modified_on:
            raise InvalidCommandError(
                f"{self.KIND} {self.id}: at {at.isoformat()} is before the case's last change "
                f"at {self.modified_on.isoformat()}"
            )
        return at
