"""``deadlines`` v6: every market has a default time zone.

What changed from v5 (``deadlines_v5.py``, still registered for re-runs, and otherwise the same
code and settings): an order that names no ``buyer_timezone`` in a market without a built-in
default (191 of the 249, e.g. KW, PK, EG) had its periods of days end at the end of the day
"anywhere on Earth" (Etc/GMT+12); v6 ends them in the market's own zone
(``market_zones.DEFAULT_ZONES``, as return.eligibility v6 counts its windows). A policy book's
``buyer_zones`` still takes precedence.
"""

from __future__ import annotations

from dataclasses import replace

from aftersales_core.decisions import JSON, PolicyDecision
from aftersales_core.policies.calendar import every_market
from aftersales_core.policies.deadlines import POLICY_ID
from aftersales_core.policies.deadlines_v3 import decide
from aftersales_core.policies.deadlines_v3_settings import SETTINGS_V3, DeadlineSettingsV3
from aftersales_core.policies.deadlines_v4 import released_after_the_term
from aftersales_core.policies.registry import policy


@policy(POLICY_ID, 6, settings=SETTINGS_V3)
def deadlines_v6(inputs: JSON, settings: DeadlineSettingsV3) -> PolicyDecision:
    zoned = replace(settings, market_zones=every_market(settings.market_zones))
    return decide(inputs, zoned, 6, hold=released_after_the_term, v5=True)
