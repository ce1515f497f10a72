"""What every case aggregate shares: status checks, monotonic business time, decisions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

from aftersales_core.errors import IllegalTransitionError, InvalidCommandError


def require_aware(at: datetime, field: str = "at") -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidCommandError(f"{field} must carry a UTC offset (RFC 3339), got {at}")
    return at


class CaseRules:
    """Mixin of the plain-method checks that run before an event exists (never on replay)."""

    KIND = "case"
    status: StrEnum
    modified_on: datetime
    id: Any

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
