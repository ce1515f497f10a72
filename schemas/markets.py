"""Markets: the buyer's country as an ISO 3166-1 alpha-2 code (SPEC §4.1), one of those
assigned today, so that a code nobody assigned (``XX``, ``ZZ``, the ``EU`` group) is refused at
the boundary instead of deciding a buyer's rights by the default market rules. The list and the
check are the domain's (``aftersales_core/policies/markets.py``: tzdata's ``iso3166.tab``),
which a policy book's market keys share."""

from __future__ import annotations

from aftersales_core.policies.markets import COMMON, MARKETS, check_market

__all__ = ["COMMON", "MARKETS", "check_market"]
