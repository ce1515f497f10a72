"""Every market has a default time zone (return.eligibility v6, deadlines v6, complaint.triage
v4): an order that names no zone is counted in its market's zone, never anywhere on Earth
(Etc/GMT+12) as v5, v5 and v3 did for the 191 markets ``MARKET_ZONES`` has no entry for; those
versions stay registered and re-run as recorded."""

from __future__ import annotations

from importlib.resources import files

from aftersales_core.policies import current_version, evaluate, rerun
from aftersales_core.policies.calendar import MARKET_ZONES, every_market, is_zone
from aftersales_core.policies.market_zones import DEFAULT_ZONES, SPANS
from aftersales_core.policies.markets import MARKETS
from aftersales_core.policies.return_eligibility_v6 import SPANS_V6
from tests.unit.policies.builders import eligibility, line, triage

# Delivered at 00:30 on 2 March in Kuwait (21:30 UTC on 1 March); asked at 15:00 on 1 April in
# Kuwait: the 30th day after the day of delivery, within the 30-day window.
KUWAIT = eligibility(market="KW", currency="KWD", delivered_at="2026-03-01T21:30:00+00:00",
                     requested_at="2026-04-01T12:00:00+00:00",
                     lines=[line(category="toys", unit_price="3.000")])


def test_every_market_of_the_published_enum_has_a_default_zone_that_exists() -> None:
    zones = every_market(MARKET_ZONES)
    assert set(MARKETS) <= set(zones), sorted(set(MARKETS) - set(zones))
    assert not set(DEFAULT_ZONES) & set(MARKET_ZONES)  # the built-in ones are kept as they were
    named = {*zones.values(), *(z for span in SPANS_V6.values() for z in span)}
    assert all(is_zone(name) for name in named), sorted(n for n in named if not is_zone(n))


def test_each_default_is_one_of_its_markets_zones_in_tzdata() -> None:
    table = files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    listed: dict[str, set[str]] = {}
    for row in table.splitlines():
        if row and not row.startswith("#"):
            code, _, name = row.split("\t")[:3]
            listed.setdefault(code, set()).add(name)
    for market, name in DEFAULT_ZONES.items():
        if market in listed:
            assert name in listed[market], market
            assert set(SPANS.get(market, ())) <= listed[market], market
    assert DEFAULT_ZONES["KW"] == "Asia/Kuwait" and DEFAULT_ZONES["PK"] == "Asia/Karachi"
    # several zones: the one whose day ends last, the others as its span
    assert DEFAULT_ZONES["EC"] == "Pacific/Galapagos" and SPANS["EC"] == ("America/Guayaquil",)


def test_the_current_versions_count_in_every_markets_zone() -> None:
    assert current_version("return.eligibility") == 6
    assert current_version("deadlines") == 6
    assert current_version("complaint.triage") == 4


def test_a_kuwaiti_buyer_on_day_30_at_15h_local_is_in_time() -> None:
    v5 = evaluate("return.eligibility", KUWAIT, 5)
    assert v5.outcome == "reject" and v5.details["zone"] == "Etc/GMT+12"
    assert rerun(v5).same_result_as(v5)  # recorded v5 decisions re-run as recorded
    v6 = evaluate("return.eligibility", KUWAIT)
    assert v6.policy_version == 6
    assert v6.outcome == "approve", v6.reasons
    assert v6.details["zone"] == "Asia/Kuwait" and v6.details["zone_source"] == "market"
    assert v6.details["window_last_day"] == "2026-04-01"
    assert any("Asia/Kuwait, the default time zone of KW" in reason for reason in v6.reasons)


def test_the_buyers_own_zone_still_comes_first() -> None:
    decision = evaluate("return.eligibility", {**KUWAIT, "buyer_timezone": "Etc/GMT+12"})
    assert decision.outcome == "reject" and decision.details["zone_source"] == "buyer"


def test_a_market_of_several_zones_counts_in_the_one_ending_the_period_last() -> None:
    # 23:30 on 1 March in Quito (UTC-5) is 22:30 in the Galapagos (UTC-6): the same day, and
    # 00:30 on 2 March in Quito is still 1 March there; the period is counted in both
    late = eligibility(market="EC", currency="USD", delivered_at="2026-03-02T05:30:00+00:00",
                       requested_at="2026-04-01T20:00:00+00:00",
                       lines=[line(category="toys")])
    decision = evaluate("return.eligibility", late)
    assert decision.details["zone"] == "Pacific/Galapagos"
    assert decision.details["zone_span"] == ["America/Guayaquil"]
    assert decision.outcome == "approve", decision.reasons  # 15:00 on 1 April in Quito


def test_complaint_triage_v4_counts_in_the_markets_zone() -> None:
    inputs = triage(market="KW", currency="KWD", order_value="3.000")
    v3 = evaluate("complaint.triage", inputs, 3).details
    assert v3["resolution_counted"]["zone"] == "Etc/GMT+12"
    v4 = evaluate("complaint.triage", inputs).details
    assert v4["resolution_counted"]["zone"] == "Asia/Kuwait"
    assert v4["resolution_due"] == "2026-01-12T23:59:59.999999+03:00"


def test_deadlines_v6_end_a_period_of_days_in_the_markets_zone() -> None:
    filed = "2026-03-06T10:00:00+00:00"  # 13:00 in Kuwait
    inputs = {"case_type": "complaint", "wanted": [{"name": "resolution", "since": filed}],
              "channel": "email", "escalations": [], "priority": "P3", "market": "KW",
              "opened_at": filed, "pauses": [], "waiting_since": None, "buyer_timezone": None}
    [v5] = evaluate("deadlines", inputs, 5).details["deadlines"]
    [v6] = evaluate("deadlines", inputs).details["deadlines"]
    assert v5["due_at"] == "2026-03-12T23:59:59.999999-12:00"  # 5 March there
    assert v6["due_at"] == "2026-03-13T23:59:59.999999+03:00"


def test_the_shipments_projection_ends_a_promised_day_in_the_markets_zone() -> None:
    from projections.shipments import buyers_zone

    assert str(buyers_zone({"market": "KW", "buyer_timezone": None})) == "Asia/Kuwait"
    assert str(buyers_zone({"market": "KW", "buyer_timezone": "Mars/Olympus"})) == "Asia/Kuwait"
