"""``return.eligibility`` v5: without the buyer's zone, a period is counted in whichever of the
market's zones ends it last.

What changed from v4 (``return_eligibility_v4.py``, still registered for re-runs, and otherwise
the same code and settings): an order that names no ``buyer_timezone`` was counted in the
market's default zone alone, the one whose day ends last. A buyer further east who took delivery
in the first hours of a day then had it counted from the day before, and the period ended up to
a day early: a delivery at 00:30 on 2 June in Madrid is 23:30 on 1 June in the Canaries, so a
mainland buyer's 14 days ended with 15 June instead of 16 June (EU Regulation 1182/71 art. 3;
Directive 2011/83/EU art. 9). v5 counts the return window, the ship-back period and China's
bonded-zone period in each of the market's zones (``zone_spans.py``) and keeps the latest end, so
a missing zone never shortens any buyer's period. The decision records the zones
(``zone_span``) and the one the binding window was counted in (``window_zone``).
"""

from __future__ import annotations

from aftersales_core.decisions import JSON, PolicyDecision
from aftersales_core.policies.categories import VOCABULARY
from aftersales_core.policies.registry import policy
from aftersales_core.policies.return_eligibility import POLICY_ID
from aftersales_core.policies.return_eligibility_v3 import decide
from aftersales_core.policies.return_eligibility_v3_settings import (
    SETTINGS_V3,
    EligibilitySettingsV3,
)
from aftersales_core.policies.zone_spans import MARKET_SPANS


@policy(POLICY_ID, 5, settings=SETTINGS_V3)
def return_eligibility_v5(inputs: JSON, settings: EligibilitySettingsV3) -> PolicyDecision:
    return decide(inputs, settings, 5, VOCABULARY, MARKET_SPANS)
