"""How the domain's value types are written into stored events (JSON)."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Transcoding

from aftersales_core.decisions import PolicyDecision
from aftersales_core.money import Money


class MoneyAsDict(Transcoding):
    type = Money
    name = "money"

    def encode(self, obj: Money) -> dict[str, str]:
        return obj.to_json()

    def decode(self, data: dict[str, str]) -> Money:
        return Money.from_json(data)


class DecisionAsDict(Transcoding):
    type = PolicyDecision
    name = "policy_decision"

    def encode(self, obj: PolicyDecision) -> dict[str, Any]:
        return obj.to_json()

    def decode(self, data: dict[str, Any]) -> PolicyDecision:
        return PolicyDecision.from_json(data)


# PersonalData has no transcoding here: the store's mapper seals it (privacy/sealing.py), and a
# PersonalData that reaches the transcoder unsealed is refused, never stored in clear.
TRANSCODINGS: tuple[Transcoding, ...] = (MoneyAsDict(), DecisionAsDict())
