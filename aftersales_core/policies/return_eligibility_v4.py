"""``return.eligibility`` v4: category names are read as people write them, in any script.

What changed from v3 (``return_eligibility_v3.py``, still registered for re-runs, and otherwise
the same code and settings): v3 classifies a line's category in vocabulary 1, which keeps only
ASCII letters and digits, so ``报纸`` (newspapers), ``定制商品`` (custom-made), ``生鲜`` (fresh
produce) or a ``newspapers`` in full-width letters had the empty key and were unclassified: a
changed-mind return of newspapers within China's 7 days was approved under the merchant default,
although the law lets the seller exclude them. v4 classifies in vocabulary 2
(``categories.py``): names folded with NFKC and case folding, letters of every script kept, and
the Chinese names of every category (Simplified and Traditional) among the aliases. An order
stored with such a name before the boundary mapped it is judged by what the name means.
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


@policy(POLICY_ID, 4, settings=SETTINGS_V3)
def return_eligibility_v4(inputs: JSON, settings: EligibilitySettingsV3) -> PolicyDecision:
    return decide(inputs, settings, 4, VOCABULARY)
