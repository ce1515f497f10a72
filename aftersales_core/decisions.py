"""PolicyDecision: what a policy decided, from which inputs, under which version, and why."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]
_SCALARS = frozenset({str, int, float, bool, type(None)})


def copy_json(value: Any) -> Any:
    """A deep copy of JSON data (what a decision records of its inputs, so later changes to
    the caller's values cannot reach it): dicts, lists and tuples copied, scalars shared, and
    anything else deep-copied. About three times faster than ``copy.deepcopy`` on inputs."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict:
        return {key: item if type(item) in _SCALARS else copy_json(item)
                for key, item in value.items()}
    if kind is list:
        return [item if type(item) in _SCALARS else copy_json(item) for item in value]
    if kind is tuple:
        return tuple(copy_json(item) for item in value)
    return copy.deepcopy(value)


@dataclass(frozen=True)
class PolicyDecision:
    """The recorded result of one policy evaluation.

    ``inputs`` holds exactly what the policy read, as JSON values (amounts and times as strings),
    so that the same policy version can be evaluated again from the record alone. ``outcome`` is
    a short word (``approve``, ``reject``, ``review``, ``merchant``…); ``details`` holds what the
    outcome carries (amounts, deadlines, priorities) and is compared on re-runs as well.
    """

    policy_id: str
    policy_version: int
    inputs: JSON
    outcome: str
    reasons: tuple[str, ...]
    rules: tuple[str, ...] = ()
    details: JSON = field(default_factory=dict)
    # The policy book whose settings the decision used: ``merchant_id`` (the order's, or None),
    # ``book`` ("merchant" or "platform"), ``book_version`` (0: the built-in defaults) and
    # ``settings_hash``. None on decisions recorded before policy books: they used the built-in
    # settings of their policy version.
    book: JSON | None = None

    def __post_init__(self) -> None:
        # policies decide with the enums of aftersales_core/outcomes.py; a decision records
        # the outcome as the plain text the store and the read models keep
        object.__setattr__(self, "outcome", str(self.outcome))

    def to_json(self) -> JSON:
        data: JSON = {
            "policy_id": self.policy_id,
            "policy_version": self.policy_version,
            "inputs": self.inputs,
            "outcome": self.outcome,
            "reasons": list(self.reasons),
            "rules": list(self.rules),
            "details": self.details,
        }
        if self.book is not None:
            data["book"] = self.book
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PolicyDecision:
        return cls(
            policy_id=data["policy_id"],
            policy_version=int(data["policy_version"]),
            inputs=dict(data["inputs"]),
            outcome=data["outcome"],
            reasons=tuple(data["reasons"]),
            rules=tuple(data.get("rules", ())),
            details=dict(data.get("details", {})),
            book=None if data.get("book") is None else dict(data["book"]),
        )

    def same_result_as(self, other: PolicyDecision) -> bool:
        """True when other reached the same outcome, details and reasons from the same inputs
        under the same policy version and book settings."""
        return (
            self.policy_id == other.policy_id
            and self.policy_version == other.policy_version
            and self.book == other.book
            and self.outcome == other.outcome
            and self.details == other.details
            and tuple(self.reasons) == tuple(other.reasons)
        )
