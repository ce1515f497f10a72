"""What a language needs to write the published policy: its sentences (templates with named
fields) and the names of markets, categories, reasons, channels, days and escalation levels."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aftersales_core.policies.periods import Length


@dataclass(frozen=True)
class Phrases:
    lang: str
    text: Mapping[str, str]
    markets: Mapping[str, str]
    categories: Mapping[str, str]
    reasons: Mapping[str, str]
    complaint_categories: Mapping[str, str]
    channels: Mapping[str, str]
    weekdays: Mapping[str, str]
    levels: Mapping[str, str]
    payers: Mapping[str, str]
    length: Callable[[Length], str]
    hours: Callable[[int], str]
    join: Callable[[list[str]], str]
    join_or: Callable[[list[str]], str]
    steps: Callable[[list[str]], str]
    ordinal: Callable[[int], str]

    def t(self, key: str, **fields: object) -> str:
        return self.text[key].format(**fields)

    def market(self, key: str) -> str:
        return self.markets.get(key, key)
