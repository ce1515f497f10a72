"""Writes aftersales_core/policies/market_zones.py from tzdata's zone.tab (run once by hand:
``.venv/bin/python scripts/market_zones.py > aftersales_core/policies/market_zones.py``).

For each market (tzdata's iso3166.tab) without a built-in default in
``calendar.MARKET_ZONES``: its zones in zone.tab; the default is the one in which the market's
day ends last (the smallest UTC offset most of the time, 2020-2030, the first zone.tab lists on
a tie); the others whose offset differs from it on some day form its span. Markets zone.tab
names no zone for (uninhabited: BV, HM) get the nautical zone of their longitude."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib.resources import files
from zoneinfo import ZoneInfo

from aftersales_core.policies.calendar import MARKET_ZONES
from aftersales_core.policies.markets import MARKETS

NAUTICAL = {"BV": "Etc/GMT", "HM": "Etc/GMT-5"}  # Bouvet 3°E, Heard and McDonald 73°E


def zones_by_market() -> dict[str, list[str]]:
    table = files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    found: dict[str, list[str]] = {}
    for line in table.splitlines():
        if line and not line.startswith("#"):
            code, _, name = line.split("\t")[:3]
            found.setdefault(code, []).append(name)
    return found


HEADER = '''"""The default time zone of every market ``calendar.MARKET_ZONES`` names none for,
generated once from tzdata's zone.tab by ``scripts/market_zones.py`` (do not edit by hand): the
market's zone, or for a market of several zones the one in which its day ends last, with the
others whose day starts at another moment (``SPANS``), where return.eligibility v6 counts a
period too, as it does ``zone_spans.MARKET_SPANS``. BV and HM, for which zone.tab names no zone
(uninhabited), have the nautical zone of their longitude.

Versioned data: a change here changes what return.eligibility v6, deadlines v6 and
complaint.triage v4 decide, so it comes with new versions."""
'''

SAMPLES = [datetime(2020, 1, 1, 12, tzinfo=UTC) + timedelta(days=d) for d in range(0, 11 * 366)]


def offsets(name: str) -> list[timedelta]:
    where = ZoneInfo(name)
    return [moment.astimezone(where).utcoffset() or timedelta(0) for moment in SAMPLES]


def default_and_span(names: list[str]) -> tuple[str, tuple[str, ...]]:
    table = {name: offsets(name) for name in names}
    lowest = [min(column) for column in zip(*table.values(), strict=True)]
    def misses(name: str) -> int:
        return sum(mine > low for mine, low in zip(table[name], lowest, strict=True))
    default = min(names, key=lambda name: (misses(name), names.index(name)))
    span = tuple(name for name in names if name != default and table[name] != table[default])
    return default, span


def main() -> None:
    by_market = zones_by_market()
    defaults: dict[str, str] = {}
    spans: dict[str, tuple[str, ...]] = {}
    for market in sorted(MARKETS - set(MARKET_ZONES)):
        if market in NAUTICAL:
            defaults[market] = NAUTICAL[market]
            continue
        defaults[market], span = default_and_span(by_market[market])
        if span:
            spans[market] = span
    print(HEADER)
    print("from __future__ import annotations")
    print()
    print("from collections.abc import Mapping")
    print("from types import MappingProxyType")
    print()
    print("DEFAULT_ZONES: Mapping[str, str] = MappingProxyType({")
    items = [f'"{market}": "{name}",' for market, name in defaults.items()]
    line = "   "
    for item in items:
        if len(line) + 1 + len(item) > 99:
            print(line)
            line = "   "
        line += " " + item
    print(line)
    print("})")
    print()
    print("SPANS: Mapping[str, tuple[str, ...]] = MappingProxyType({")
    for market, span in spans.items():
        names = ", ".join(f'"{name}"' for name in span)
        entry = f'    "{market}": ({names}{"," if len(span) == 1 else ""}),'
        if len(entry) <= 99:
            print(entry)
        else:
            print(f'    "{market}": (')
            line = "       "
            for name in span:
                if len(line) + len(name) + 4 > 99:
                    print(line)
                    line = "       "
                line += f' "{name}",'
            print(line)
            print("    ),")
    print("})")


if __name__ == "__main__":
    main()
