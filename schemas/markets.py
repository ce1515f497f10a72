"""Markets: the buyer's country as an ISO 3166-1 alpha-2 code (SPEC §4.1), one of those
assigned today. The list is tzdata's ``iso3166.tab`` (a dependency kept current with the
ISO 3166 maintenance agency's changes), so that a code nobody assigned (``XX``, ``ZZ``, the
``EU`` group) is refused at the boundary instead of deciding a buyer's rights by the default
market rules."""

from __future__ import annotations

from importlib.resources import files

COMMON = ("CN", "GB", "US", "DE", "FR")  # named in errors, as examples


def _assigned() -> frozenset[str]:
    table = files("tzdata").joinpath("zoneinfo", "iso3166.tab").read_text(encoding="utf-8")
    codes = frozenset(line.split("\t", 1)[0] for line in table.splitlines()
                      if line and not line.startswith("#"))
    if len(codes) < 240 or not set(COMMON) <= codes:  # a broken tzdata must not pass
        raise RuntimeError("tzdata's iso3166.tab does not list the ISO 3166-1 codes")
    return codes


MARKETS: frozenset[str] = _assigned()


def check_market(value: str) -> str:
    """The code when it is an assigned ISO 3166-1 alpha-2 code; else an error naming them."""
    if value not in MARKETS:
        shown = repr(value[:8]) + ("…" if len(value) > 8 else "")
        raise ValueError(
            f"{shown} is not a market: the buyer's country as an assigned ISO 3166-1 alpha-2 "
            f"code ({', '.join(COMMON)}, any EU member state, or another of the "
            f"{len(MARKETS)} codes the JSON Schema lists)")
    return value
