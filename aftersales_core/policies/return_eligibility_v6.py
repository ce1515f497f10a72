"""``return.eligibility`` v6: a cross-border return's note says how the buyer's quota is
restored, not an upper bound that the customs return then exceeds.

What changed from v5 (``return_eligibility_v5.py``, still registered for re-runs, and otherwise
the same code and settings): v5 said that, the goods back in the bonded zone in time, "up to
500.00 CNY is restored to the buyer's annual quota", the list value of the returned units,
while ``return.customs_return`` restores what they were paid as the quota counted them, their
share of the discount and of the freight included (510.00 CNY for one unit of 500.00 with 10.00
of freight: found cold, F3). v6 says how the quota is restored instead of a figure; the amount
is worked out and recorded by ``return.customs_return`` when the goods arrive. The
``quota_restorable`` detail is kept as v5 records it (the returned units' list value).
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


@policy(POLICY_ID, 6, settings=SETTINGS_V3)
def return_eligibility_v6(inputs: JSON, settings: EligibilitySettingsV3) -> PolicyDecision:
    return decide(inputs, settings, 6, VOCABULARY, MARKET_SPANS)
