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

    def to_json(self) -> dict[str, Any]:
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
