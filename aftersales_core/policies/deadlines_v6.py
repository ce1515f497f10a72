"""``deadlines`` v6: every market has a default time zone.

What changed from v5 (``deadlines_v5.py``, still registered for re-runs, and otherwise the same
code and settings): an order that names no ``buyer_timezone`` in a market without a built-in
default (191 of the 249, e.g. KW, PK, EG) had its periods of days end at the end of the day
"anywhere on Earth" (Etc/GMT+12); v6 ends them in the market's own zone
(``market_zones.DEFAULT_ZONES``, as return.eligibility v6 counts its windows). A policy book's
``buyer_zones`` still takes precedence. And a desk's business hours and working days skip the
public holidays of the part of the market its zone lies in (``service_levels.DeskCalendar``: a GB
desk in Europe/London keeps England's bank holidays, Easter Monday and the August bank holiday
among them, which the ``holidays`` package's GB without a part leaves out); the reasons name the
days off an hour clock skipped, as those of a period of working days do.
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
from aftersales_core.policies.service_levels import by_desk_region


@policy(POLICY_ID, 6, settings=SETTINGS_V3)
def deadlines_v6(inputs: JSON, settings: DeadlineSettingsV3) -> PolicyDecision:
    zoned = replace(settings, market_zones=every_market(settings.market_zones),
                    service_levels=by_desk_region(settings.service_levels))
    return decide(inputs, zoned, 6, hold=released_after_the_term, v5=True, v6=True)
