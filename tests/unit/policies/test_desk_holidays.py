"""A desk's business hours keep the public holidays of the part of the market its zone lies in
(complaint.triage v4, deadlines v6): a GB desk in Europe/London is closed on England's Easter
Monday and August bank holiday, which the ``holidays`` package's GB without a part leaves out;
and the reasons name the days off an hour clock skipped. Earlier versions re-run as recorded."""

from __future__ import annotations

from datetime import date
from typing import Any

import holidays

from aftersales_core.policies import evaluate
from aftersales_core.policies.calendar import DESK_SUBDIVISIONS, is_zone
from aftersales_core.policies.service_levels import DeskCalendar, MarketCalendar
from aftersales_core.policybook.bindings import deadlines_v3_settings, triage_v3
from tests.unit.policies.builders import triage
from tests.unit.policybook.books import book

LONDON_DESK = book(**{
    "complaints.clock": "business",
    "complaints.first_response_hours": {"P1": 8, "P2": 8, "P3": 8},
    "calendars.default": {"zone": "Europe/London", "hours": "09:00-17:30",
                          "working_days": ["mon", "tue", "wed", "thu", "fri"],
                          "public_holidays": True, "closed": [], "open": []},
})
GOOD_FRIDAY = "2026-04-03T16:00:00+01:00"


def filed(version: int) -> Any:
    inputs = triage(market="GB", currency="GBP", order_value="100.00", filed_at=GOOD_FRIDAY,
                    buyer_timezone="Europe/London")
    return evaluate("complaint.triage", inputs, version, triage_v3(LONDON_DESK))


def test_every_subdivision_is_one_the_holidays_package_knows_in_a_zone_that_exists() -> None:
    for (market, name), part in DESK_SUBDIVISIONS.items():
        assert is_zone(name), name
        assert part in holidays.country_holidays(market).subdivisions, (market, part)


def test_a_london_desk_is_closed_on_englands_bank_holidays() -> None:
    desk = DeskCalendar(zone="Europe/London")
    for day in (date(2026, 4, 6), date(2026, 8, 31)):  # Easter Monday, late summer
        assert MarketCalendar(zone="Europe/London").is_working_day(day, "GB")  # GB-wide only
        assert not desk.is_working_day(day, "GB")
    assert desk.why_off(date(2026, 4, 6), "GB") == "Easter Monday"
    assert desk.is_working_day(date(2026, 4, 7), "GB")


def test_triage_v4_skips_easter_monday_and_names_the_days_off() -> None:
    v3, v4 = filed(3), filed(4)
    assert v3.details["first_response_due"] == "2026-04-06T17:00:00+01:00"  # Easter Monday
    assert v4.policy_version == 4
    assert v4.details["first_response_due"] == "2026-04-07T17:00:00+01:00"
    said = " ".join(v4.reasons)
    assert "skipping the days off 2026-04-03 Good Friday, 2026-04-06 Easter Monday" in said
    assert "skipping" not in " ".join(v3.reasons)


def test_deadlines_v6_skip_easter_monday_and_name_the_days_off() -> None:
    inputs = {"case_type": "complaint", "wanted": [{"name": "first_response",
                                                    "since": GOOD_FRIDAY}],
              "channel": "email", "escalations": [], "priority": "P2", "market": "GB",
              "opened_at": GOOD_FRIDAY, "pauses": [], "waiting_since": None,
              "buyer_timezone": None}
    settings = deadlines_v3_settings(LONDON_DESK)
    [v5] = evaluate("deadlines", inputs, 5, settings).details["deadlines"]
    decision = evaluate("deadlines", inputs, 6, settings)
    [v6] = decision.details["deadlines"]
    assert v5["due_at"] == "2026-04-06T17:00:00+01:00"
    assert v6["due_at"] == "2026-04-07T17:00:00+01:00"
    assert any("skipping the days off 2026-04-03 Good Friday, 2026-04-06 Easter Monday" in r
               for r in decision.reasons)
