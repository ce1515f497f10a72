"""``deadlines`` v5: a complaint's resolution target of whole days is counted as days.

What changed from v4 (``deadlines_v4.py``, still registered for re-runs, and otherwise the
same code and settings): on the calendar clock a resolution target of whole days (the book's
168 hours: SPEC's "complaint resolution 7 days") ends at the end of its last day in the buyer's
time zone (the order's ``buyer_timezone``, else the market's default), as SPEC counts every
period of days, later by the time the clock stopped while the desk waited on the customer; the
deadline records the zone and the last day. v4 ran 168 hours from the filing. Targets in hours
that are not whole days, and the desk's business hours, run as before. Also: no escalated
resolution target once no step of the ladder is above the highest level reached (escalations
only climb: deadlines.breach v2); v4 stopped once the last step or the regulator was reached.
And a refund whose payment failed is owed again by its own due time (v4: the deadline was met
at the first issue, and a failed refund had none).
"""

from __future__ import annotations

from aftersales_core.decisions import JSON, PolicyDecision
from aftersales_core.policies.deadlines import POLICY_ID
from aftersales_core.policies.deadlines_v3 import decide
from aftersales_core.policies.deadlines_v3_settings import SETTINGS_V3, DeadlineSettingsV3
from aftersales_core.policies.deadlines_v4 import released_after_the_term
from aftersales_core.policies.registry import policy


@policy(POLICY_ID, 5, settings=SETTINGS_V3)
def deadlines_v5(inputs: JSON, settings: DeadlineSettingsV3) -> PolicyDecision:
    return decide(inputs, settings, 5, hold=released_after_the_term, v5=True)
