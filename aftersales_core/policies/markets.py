"""Settings kept per market: a market's own entry, else its group's (``EU`` for the member
states), else the default."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from aftersales_core.policies.vocabulary import EU_MARKETS

EU_GROUP = "EU"
T = TypeVar("T")


def entry_key(entries: Mapping[str, object], market: str) -> str | None:
    """The key whose entry applies to ``market``: its own, ``EU`` for a member state, or None
    (the default)."""
    if market in entries:
        return market
    if market in EU_MARKETS and EU_GROUP in entries:
        return EU_GROUP
    return None


def for_market(entries: Mapping[str, T], market: str, default: T) -> T:
    key = entry_key(entries, market)
    return default if key is None else entries[key]
