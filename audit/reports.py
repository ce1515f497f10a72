"""What sealing and verifying report: checkpoints, findings, decision mismatches."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Checkpoint:
    position: int  # the batch's last position
    previous: int  # the checkpoint before it (0 for the first)
    events: int
    chain_hash: bytes
    sealed_at: str


@dataclass(frozen=True)
class SealResult:
    events: int
    checkpoints: int
    head: int
    chain_hash: str
    sealed_at: str
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "sealed_events": self.events,
            "checkpoints_added": self.checkpoints,
            "head_position": self.head,
            "head_hash": self.chain_hash,
            "sealed_at": self.sealed_at,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class Finding:
    """Where the recomputed chain first leaves a checkpoint's, and what the store holds."""

    position: int
    kind: str  # changed | deleted | inserted | checkpoint | anchor
    detail: str
    checkpoint: int
    found: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "kind": self.kind,
            "detail": self.detail,
            "checkpoint": self.checkpoint,
            "found": self.found,
        }


@dataclass(frozen=True)
class DecisionMismatch:
    position: int
    case_id: str
    event_topic: str
    policy_id: str
    policy_version: int
    recorded: str
    rerun: str

    def to_json(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass
class VerifyReport:
    events: int = 0  # events hashed and compared with a checkpoint (what per_second counts)
    checkpoints: int = 0
    sealed_head: int = 0
    head_hash: str = ""
    last_sealed_at: str | None = None
    store_end: int = 0
    unsealed: int = 0
    first_unsealed: int | None = None
    findings: list[Finding] = field(default_factory=list)
    decisions_checked: int | None = None
    decision_mismatches: list[DecisionMismatch] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def intact(self) -> bool:
        return not self.findings

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "intact": self.intact,
            "events_verified": self.events,
            "checkpoints": self.checkpoints,
            "sealed_head": self.sealed_head,
            "head_hash": self.head_hash,
            "last_sealed_at": self.last_sealed_at,
            "store_end": self.store_end,
            "not_yet_sealed": self.unsealed,
            "first_not_yet_sealed": self.first_unsealed,
            "findings": [f.to_json() for f in self.findings],
            "decisions_checked": self.decisions_checked,
            "decision_mismatches": [m.to_json() for m in self.decision_mismatches],
            "seconds": round(self.seconds, 3),
            "events_per_second": round(self.per_second),
        }
