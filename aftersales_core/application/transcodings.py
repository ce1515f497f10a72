"""How the domain's value types are written into stored events (JSON)."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Transcoding

from aftersales_core.decisions import PolicyDecision
from aftersales_core.money import Money
from aftersales_core.personal import PersonalData


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


class PersonalDataAsDict(Transcoding):
    """Personal data keeps its subject beside it, so a per-customer key can be applied."""

    type = PersonalData
    name = "personal_data"

    def encode(self, obj: PersonalData) -> dict[str, str]:
        return {"subject": obj.subject, "value": obj.value}

    def decode(self, data: dict[str, str]) -> PersonalData:
        return PersonalData(subject=data["subject"], value=data["value"])


TRANSCODINGS: tuple[Transcoding, ...] = (MoneyAsDict(), DecisionAsDict(), PersonalDataAsDict())
