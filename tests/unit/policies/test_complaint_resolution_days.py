"""complaint.triage v3 and deadlines v5: a complaint's resolution in whole days is counted as
SPEC counts days (§3: "complaint resolution 7 days"; "a period of N days from an event ends at
the end of the Nth calendar day after the day of the event, in the buyer's time zone").

The expected instants are written out by hand (the day after the filing's local day, seven
days on, 23:59:59.999999 in the zone), not computed with the engine's calendar."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales_core.decisions import JSON, PolicyDecision
from aftersales_core.domain.complaints import ComplaintCase
from aftersales_core.policies import current_version, evaluate, rerun
from aftersales_core.policybook.bindings import deadlines_v3_settings, triage_v2, triage_v3
from tests.factories import T0, caller, delivered_order
from tests.unit.deadlines.oracle import memory_app
from tests.unit.policies.builders import triage
from tests.unit.policybook.books import book


def triaged(changes: dict[str, Any] | None = None, **overrides: Any) -> PolicyDecision:
    return evaluate("complaint.triage", triage(**overrides), 3, triage_v3(book(**(changes or {}))))


def scheduled(filed: str, changes: dict[str, Any] | None = None, **facts: Any) -> JSON:
    inputs = {"case_type": "complaint", "wanted": [{"name": "resolution", "since": filed}],
              "channel": "email", "escalations": [], "priority": "P3", "market": "DE",
              "opened_at": filed, "pauses": [], "waiting_since": None, "buyer_timezone": None,
              **facts}
    decision = evaluate("deadlines", inputs, 5, deadlines_v3_settings(book(**(changes or {}))))
    [deadline] = decision.details["deadlines"]
    return deadline


def test_both_are_current() -> None:
    assert (current_version("complaint.triage"), current_version("deadlines")) == (4, 6)


def test_a_complaint_filed_at_half_past_five_has_until_the_end_of_the_seventh_day() -> None:
    # the tester's case: 6 March 17:30 in Berlin; v2 said 13 March 17:30
    decision = triaged(filed_at="2026-03-06T17:30:00+01:00", market="DE", currency="EUR",
                       order_value="100.00", buyer_timezone="Europe/Berlin")
    assert decision.details["resolution_due"] == "2026-03-13T23:59:59.999999+01:00"
    assert decision.details["resolution_counted"] == {
        "last_day": "2026-03-13", "ends_at": "2026-03-13T23:59:59.999999+01:00",
        "zone": "Europe/Berlin", "zone_source": "buyer"}
    assert any("to the end of 2026-03-13 in the buyer's time zone Europe/Berlin" in r
               for r in decision.reasons)
    assert rerun(decision).same_result_as(decision)


@pytest.mark.parametrize(("filed", "last_day"), [
    ("2026-03-06T15:59:59+00:00", "2026-03-13"),  # 23:59:59 on 6 March in Shanghai
    ("2026-03-06T16:00:00+00:00", "2026-03-14"),  # 00:00 on 7 March there: a day later
])
def test_the_day_of_the_filing_is_the_buyers_day(filed: str, last_day: str) -> None:
    for due in (triaged(filed_at=filed, buyer_timezone="Asia/Shanghai").details["resolution_due"],
                scheduled(filed, buyer_timezone="Asia/Shanghai")["due_at"]):
        assert due == f"{last_day}T23:59:59.999999+08:00"


def test_days_are_counted_across_a_daylight_saving_change() -> None:
    # 27 March 23:30 in Berlin (CET); summer time starts on 29 March: 168 hours would end at
    # 00:30 on 4 April (CEST), the seventh day ends at midnight of 3 April
    deadline = scheduled("2026-03-27T22:30:00+00:00", buyer_timezone="Europe/Berlin")
    assert (deadline["due_at"], deadline["last_day"]) == ("2026-04-03T23:59:59.999999+02:00",
                                                          "2026-04-03")


def test_without_a_buyer_zone_the_markets_default_counts_and_without_a_market_anywhere() -> None:
    deadline = scheduled("2026-03-06T12:00:00+00:00", market="DE")
    assert (deadline["due_at"], deadline["zone"], deadline["zone_source"]) == (
        "2026-03-13T23:59:59.999999+01:00", "Europe/Berlin", "market")
    alone = triaged(filed_at="2026-03-06T12:00:00+00:00", market=None, currency=None,
                    order_value=None)
    assert alone.details["resolution_due"] == "2026-03-13T23:59:59.999999-12:00"
    assert alone.details["resolution_counted"]["zone_source"] == "fallback"


def test_time_waiting_on_the_customer_moves_the_end_by_as_long() -> None:
    pause = {"from": "2026-03-08T09:00:00+00:00", "to": "2026-03-08T14:30:00+00:00"}
    deadline = scheduled("2026-03-06T12:00:00+00:00", pauses=[pause],
                         buyer_timezone="Europe/Berlin")
    assert deadline["due_at"] == "2026-03-14T05:29:59.999999+01:00"  # 5.5 hours later
    assert "not counting 5.5 hours waiting on the customer" in deadline["basis"]


@pytest.mark.parametrize("changes", [
    {"complaints.resolution_hours": {"P1": 36, "P2": 36, "P3": 36}},  # not whole days
    {"complaints.resolution_hours": {"P1": 24, "P2": 24, "P3": 24}},  # published as 24 hours
    {"complaints.clock": "business"},  # the desk's business hours run as hours
])
def test_targets_that_are_not_days_on_the_calendar_run_as_v2_and_v4_ran(
        changes: dict[str, Any]) -> None:
    filed = "2026-03-06T12:00:00+00:00"
    v3 = triaged(changes, filed_at=filed, market="DE", currency="EUR", order_value="100.00")
    v2 = evaluate("complaint.triage", triage(filed_at=filed, market="DE", currency="EUR",
                                             order_value="100.00"),
                  2, triage_v2(book(**changes)))
    assert v3.details["resolution_due"] == v2.details["resolution_due"]
    assert "resolution_counted" not in v3.details
    assert scheduled(filed, changes)["due_at"] == v3.details["resolution_due"]


@settings(max_examples=150, deadline=None)
@given(filed=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31)),
       zone=st.sampled_from(["Europe/Berlin", "Asia/Shanghai", "America/Los_Angeles",
                             "Pacific/Kiritimati", "Australia/Lord_Howe", "Asia/Kathmandu"]),
       days=st.integers(2, 30))
def test_triage_and_the_deadline_agree_and_end_the_last_day_in_the_zone(
        filed: datetime, zone: str, days: int) -> None:
    where = ZoneInfo(zone)
    at = filed.replace(tzinfo=where)
    changes = {"complaints.resolution_hours": {p: 24 * days for p in ("P1", "P2", "P3")}}
    due = scheduled(at.isoformat(), changes, buyer_timezone=zone)["due_at"]
    said = triaged(changes, filed_at=at.isoformat(), market="DE", currency="EUR",
                   order_value="1.00", buyer_timezone=zone).details["resolution_due"]
    assert due == said
    expected = datetime.combine(at.date() + timedelta(days=days), time.max, tzinfo=where)
    assert datetime.fromisoformat(due) == expected


def test_a_complaint_on_an_order_is_due_by_the_end_of_the_day_in_the_buyers_zone() -> None:
    app = memory_app()
    delivered_order(app, "o-tz", buyer_timezone="America/Los_Angeles")
    cid = uuid4()
    app.complaints.file(caller(app, "customer-c-1"), cid, "email", "service", "late",
                        T0 + timedelta(days=5, hours=7), order_id="o-tz")
    case = app.store.load(ComplaintCase, cid)
    due = case.deadlines["resolution"].due_at
    local_day = (T0 + timedelta(days=5, hours=7)).astimezone(ZoneInfo("America/Los_Angeles"))
    assert due == datetime.combine(local_day.date() + timedelta(days=7), time.max,
                                   tzinfo=ZoneInfo("America/Los_Angeles"))


def _never_open() -> Any:
    """A stored book (set before such calendars were refused) whose desk is closed for
    1,200 days from 2026-11-01, on business hours."""
    from datetime import date

    from aftersales_core.policybook.documents import validate
    from tests.unit.policybook.books import document
    closed = [str(date(2026, 11, 1) + timedelta(days=n)) for n in range(1200)]
    return validate(document(**{"complaints.clock": "business",
                                "calendars.default.closed": closed}), stored=True)


def test_a_desk_calendar_without_open_hours_never_refuses_a_complaint() -> None:
    stored = _never_open()
    inputs = triage(filed_at="2026-11-30T09:00:00+00:00")
    decision = evaluate("complaint.triage", inputs, 3, triage_v3(stored))
    assert decision.details["clock"] == "calendar"  # the targets run around the clock
    assert decision.details["first_response_due"] == "2026-12-01T09:00:00+00:00"
    assert any("no open hours" in reason and "around the clock" in reason
               for reason in decision.reasons)
    assert "triage.clock" in decision.rules
    inputs = {"case_type": "complaint", "channel": "email", "escalations": [],
              "priority": "P3", "market": "GB", "opened_at": "2026-11-30T09:00:00+00:00",
              "wanted": [{"name": n, "since": "2026-11-30T09:00:00+00:00"}
                         for n in ("first_response", "resolution")],
              "pauses": [], "waiting_since": None, "buyer_timezone": None}
    planned = evaluate("deadlines", inputs, 5, deadlines_v3_settings(stored))
    first, _resolution = planned.details["deadlines"]
    assert first["due_at"] == "2026-12-01T09:00:00+00:00"
    assert "deadline.clock" in planned.rules
