"""Markets: the buyer's country as an ISO 3166-1 alpha-2 code assigned today (SPEC §4.1), and
settings kept per market: a market's own entry, else its group's (``EU`` for the member states),
else the default.

The assigned codes are tzdata's ``iso3166.tab`` (a dependency kept current with the ISO 3166
maintenance agency's changes), so that a code nobody assigned (``XX``, ``ZZ``, ``UK``, the ``EU``
group) is refused instead of deciding a buyer's rights by the default market rules: at the
validation boundary (``schemas/markets.py``) and as a policy book's market key, where ``EU`` is
the member states' group entry."""

from __future__ import annotations

from collections.abc import Mapping
from importlib.resources import files
from typing import TypeVar

from aftersales_core.policies.vocabulary import EU_MARKETS

EU_GROUP = "EU"
COMMON = ("CN", "GB", "US", "DE", "FR")  # named in errors, as examples
T = TypeVar("T")


def _assigned() -> frozenset[str]:
    table = files("tzdata").joinpath("zoneinfo", "iso3166.tab").read_text(encoding="utf-8")
    codes = frozenset(line.split("\t", 1)[0] for line in table.splitlines()
                      if line and not line.startswith("#"))
    if len(codes) < 240 or not set(COMMON) <= codes:  # a broken tzdata must not pass
        raise RuntimeError("tzdata's iso3166.tab does not list the ISO 3166-1 codes")
    return codes


MARKETS: frozenset[str] = _assigned()


def check_market(value: str, *, group: bool = False) -> str:
    """The code when it is an assigned ISO 3166-1 alpha-2 code (or, with ``group``, ``EU``);
    else an error naming what is allowed."""
    if value in MARKETS or (group and value == EU_GROUP):
        return value
    shown = repr(value[:8]) + ("…" if len(value) > 8 else "")
    also = f", or {EU_GROUP} for every member state" if group else ""
    raise ValueError(
        f"{shown} is not a market: the buyer's country as an assigned ISO 3166-1 alpha-2 "
        f"code ({', '.join(COMMON)}, any EU member state, or another of the "
        f"{len(MARKETS)} codes the JSON Schema lists){also}")


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
