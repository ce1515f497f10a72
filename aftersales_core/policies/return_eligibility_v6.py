"""``return.eligibility`` v6: every market has a default time zone, and a cross-border
return's note says how the buyer's quota is restored.

What changed from v5 (``return_eligibility_v5.py``, still registered for re-runs, and otherwise
the same code and settings): an order that names no ``buyer_timezone`` in a market without a
built-in default (191 of the 249, e.g. KW, QA, PK, EG, UA, CO) was counted "anywhere on Earth"
(Etc/GMT+12), so an event before 15:00 in Kuwait fell on the day before and the period ended
at 15:00 local time on its last day. v6 counts it in the market's own zone
(``market_zones.DEFAULT_ZONES``, generated from tzdata's zone.tab: for a market of several zones
the one whose day ends last, with the others as its span, as v5 does for ES or the US). A
policy book's ``buyer_zones`` still takes precedence; a market code outside the published enum
still falls back to anywhere on Earth.

Also changed from v5: v5 said that, the goods back in the bonded zone in time, "up to
500.00 CNY is restored to the buyer's annual quota", the list value of the returned units,
while ``return.customs_return`` restores what they were paid as the quota counted them, their
share of the discount and of the freight included (510.00 CNY for one unit of 500.00 with 10.00
of freight: found cold, F3). v6 says how the quota is restored instead of a figure; the amount
is worked out and recorded by ``return.customs_return`` when the goods arrive. The
``quota_restorable`` detail is kept as v5 records it (the returned units' list value).
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from aftersales_core.decisions import JSON, PolicyDecision
from aftersales_core.policies.calendar import every_market
from aftersales_core.policies.categories import VOCABULARY
from aftersales_core.policies.market_zones import SPANS
from aftersales_core.policies.registry import policy
from aftersales_core.policies.return_eligibility import POLICY_ID
from aftersales_core.policies.return_eligibility_v3 import decide
from aftersales_core.policies.return_eligibility_v3_settings import (
    SETTINGS_V3,
    EligibilitySettingsV3,
)
from aftersales_core.policies.zone_spans import MARKET_SPANS

SPANS_V6 = MappingProxyType({**SPANS, **MARKET_SPANS})


@policy(POLICY_ID, 6, settings=SETTINGS_V3)
def return_eligibility_v6(inputs: JSON, settings: EligibilitySettingsV3) -> PolicyDecision:
    zoned = replace(settings, market_zones=every_market(settings.market_zones))
    return decide(inputs, zoned, 6, VOCABULARY, SPANS_V6)
