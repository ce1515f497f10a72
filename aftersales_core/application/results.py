"""What a command did: the case it acted on, its new state, the decisions it took."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from aftersales_core.decisions import PolicyDecision


@dataclass
class CommandResult:
    case_id: UUID
    case_type: str
    status: str
    version: int
    decisions: list[PolicyDecision] = field(default_factory=list)
    related: dict[str, str] = field(default_factory=dict)
    # False for an exact retry of something already recorded (nothing new was stored);
    # ``note`` then says what was recorded before
    applied: bool = True
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        done: dict[str, Any] = {} if self.applied else {"applied": False, "note": self.note}
        return {
            "case_id": str(self.case_id),
            "case_type": self.case_type,
            "status": self.status,
            "version": self.version,
            "decisions": [
                {
                    "policy_id": d.policy_id,
                    "policy_version": d.policy_version,
                    "outcome": d.outcome,
                    "reasons": list(d.reasons),
                }
                for d in self.decisions
            ],
            "related": self.related,
            **done,
        }


def result(
    case: Any, decisions: list[PolicyDecision] | None = None, **related: str
) -> CommandResult:
    return CommandResult(
        case_id=case.id,
        case_type=case.KIND,
        status=case.status.value,
        version=case.version,
        decisions=decisions or [],
        related=related,
    )


def already_recorded(case: Any, note: str, **related: str) -> CommandResult:
    """The answer to an exact retry of a command already recorded: the case as it is, nothing
    new stored (``applied`` false, as ``aftersales ingest`` answers an event seen before)."""
    return CommandResult(
        case_id=case.id,
        case_type=case.KIND,
        status=case.status.value,
        version=case.version,
        related=related,
        applied=False,
        note=note,
    )
