"""``deadlines`` v4: an EU/UK withdrawal's refund is due by the end of its term from the notice,
held only as long as the goods or proof of their dispatch are not back.

What changed from v3 (``deadlines_v3.py``, still registered for re-runs, and otherwise the
same code and settings): v3 made the refund due at the later of the term's end and 3 days
after the hold was released, so proof of dispatch on day 13 moved a 14-day refund to day 16.
The law (Directive 2011/83/EU art. 13(1) and (3); Consumer Contracts Regulations 2013 reg. 34)
gives 14 days from the notice and lets the trader withhold the refund only until the goods or
the proof arrive: a release on or before the term's last day leaves the due time at its end;
only a release after it moves the due time, to 3 days after the release (without undue delay).
"""

from __future__ import annotations

from datetime import datetime

from aftersales_core.decisions import JSON, PolicyDecision
from aftersales_core.policies.deadlines import POLICY_ID
from aftersales_core.policies.deadlines_v3 import decide
from aftersales_core.policies.deadlines_v3_settings import SETTINGS_V3, DeadlineSettingsV3
from aftersales_core.policies.registry import policy


def released_after_the_term(released: datetime, term_ends: datetime,
                            grace_ends: datetime) -> bool:
    """Only goods (or proof of dispatch) back after the term's end move the due time."""
    return released > term_ends


@policy(POLICY_ID, 4, settings=SETTINGS_V3)
def deadlines_v4(inputs: JSON, settings: DeadlineSettingsV3) -> PolicyDecision:
    return decide(inputs, settings, 4, hold=released_after_the_term)
