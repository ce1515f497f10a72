"""The book's structure: every field typed and checked, every bad one named by its path."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from aftersales_core.policies.markets import MARKETS
from aftersales_core.policybook.builtin import builtin_book
from aftersales_core.policybook.documents import InvalidBookError, canonical_document, validate
from tests.unit.policybook.books import DELETE, book, document


def refused(match: str, **changes: Any) -> None:
    with pytest.raises(InvalidBookError, match=match):
        validate(document(**changes))


def test_the_built_in_book_is_valid_and_lawful() -> None:
    from aftersales_core.policybook.floors import check_law

    assert check_law(builtin_book()) == []


def test_a_currency_sold_in_without_an_approval_threshold_is_refused_naming_it() -> None:
    refused("no approval threshold for PLN, a currency this merchant sells in",
            currencies=["EUR", "PLN"])
    refused(r"no approval threshold for EUR", **{"approval.thresholds.EUR": DELETE})


def test_a_threshold_for_a_currency_not_sold_in_is_fine() -> None:
    assert book(currencies=["EUR"]).currencies == ["EUR"]


@pytest.mark.parametrize(("path", "value", "match"), [
    ("returnless.share", 0.6, "never as floats"),
    ("returnless.share", "1.01", "share from 0 to 1"),
    ("returnless.share", "-0.1", "not a decimal"),
    ("returnless.share", "6e-1", "not a decimal"),
    ("returnless.share", "NaN", "not a decimal"),
    ("returnless.share", "\u0660.\u0666", "digits 0-9"),  # Arabic-Indic digits
    ("approval.thresholds.JPY", "45000.5", "more decimals than JPY allows"),
    ("approval.thresholds.EUR", "250.001", "more decimals than EUR allows"),
    ("approval.thresholds.EUR", True, "decimal string"),
    ("approval.thresholds.EUR", "9" * 19, "not a decimal"),
    ("approval.thresholds.XXY", "10", "unknown currency"),
    ("currencies", ["EUR", "EUR"], "lists a value twice"),
    ("currencies", [], "at least 1"),
    ("returns.markets.eu", {"no_fault": "14 days", "fault": "2 years"}, "not a market"),
    ("returns.markets.DEU", {"no_fault": "14 days", "fault": "2 years"}, "not a market"),
    ("returns.markets.EU.no_fault", 14, "write a period"),
    ("returns.markets.EU.no_fault", "14 weeks", "not a period"),
    ("returns.markets.EU.reasons", {"bored": "30 days"}, "reasons.bored"),
    ("returns.markets.DE", {"no_fault": "14 days", "fault": "2 years",
                            "cross_border": "30 days"}, "CN only"),
    ("returns.excluded_categories", ["custom_made", "spaceships"], "not a category"),
    ("returns.colour", "blue", "Extra inputs are not permitted"),
    ("merchant_name", "Shop\u0000", "control characters"),
    ("merchant_name", "", "at least 1 character"),
    ("format", "aftersales.policy-book/2", "format"),
    ("refunds.default", {"days": 14, "working_days": 10}, "either days or working_days"),
    ("refunds.default", {}, "either days or working_days"),
    ("refunds.markets.US", {"working_days": 0}, "greater than or equal to 1"),
    ("abuse.min_orders", 30, "more than the window"),
    ("complaints.first_response_hours", {"P1": 4, "P2": 12}, "no target for P3"),
    ("complaints.resolution_hours.P1", 0, "greater than or equal to 1"),
    ("complaints.clock", "sundial", "calendar"),
    ("calendars.default.hours", "18:00-09:00", "open before it closes"),
    ("calendars.default.hours", "9-18", "09:00-18:00"),
    ("calendars.default.hours", "09:00-25:00", "two times of day"),
    ("calendars.default.working_days", [], "at least one day"),
    ("calendars.default.working_days", ["mon", "funday"], "working_days"),
    ("calendars.default.closed", ["0001-01-01"], "2000 to 2100"),
    ("calendars.default.closed", ["9999-12-31"], "2000 to 2100"),
    # closed days leaving the desk shut for more than a year: no open hour to count
    # complaint targets in (every complaint of the merchant used to be refused)
    ("calendars.default.closed", [str(date(2027, 1, 1) + timedelta(days=n)) for n in range(367)],
     "closed: the desk would be shut 367 days in a row, 2027-01-01 to 2028-01-02"),
    ("calendars.markets.GB", {"working_days": ["mon"],  # every Monday of 2027 closed
                              "closed": [str(date(2027, 1, 4) + timedelta(weeks=n))
                                         for n in range(52)]},
     "markets.GB: closed: the desk would be shut 370 days in a row, 2026-12-29 to 2028-01-02"),
    ("calendars.markets.CN", {"zone": "Mars/Olympus"}, "not an IANA time zone"),
    ("calendars.markets.CN", {"zone": "../../etc/passwd"}, "not an IANA time zone"),
    ("buyer_zones.DE", "Europe/Atlantis", "not an IANA time zone"),
    ("escalation.complaint_ladder", ["platform_arbitration", "supervisor"], "must climb"),
    ("escalation.complaint_ladder", [], "at least 1"),
    ("return_shipping.default", "nobody", "buyer"),
    ("restocking.grades", ["C", "C"], "lists a value twice"),
])
def test_a_bad_field_is_refused_naming_its_path(path: str, value: Any, match: str) -> None:
    with pytest.raises(InvalidBookError) as error:
        validate(document(**{path: value}))
    message = str(error.value)
    assert path.split(".")[0] in message
    assert re.search(match, message), message


def test_a_desk_shut_for_a_year_is_accepted_and_a_stored_longer_closure_still_loads() -> None:
    year = [str(date(2027, 1, 1) + timedelta(days=n)) for n in range(366)]
    assert validate(document(**{"calendars.default.closed": year}))
    longer = document(**{"calendars.default.closed": [*year, "2028-01-02"]})
    # a version stored before such calendars were refused loads as it was set
    assert validate(longer, stored=True).calendars.default.closed[-1] == date(2028, 1, 2)


def test_every_bad_field_is_named_at_once() -> None:
    with pytest.raises(InvalidBookError) as error:
        validate(document(**{"returnless.share": 0.6, "abuse.window_orders": 0}))
    assert "returnless.share" in str(error.value) and "abuse.window_orders" in str(error.value)


def test_the_canonical_document_keeps_decimals_and_periods_as_written() -> None:
    canonical = canonical_document(book(**{"returnless.share": "0.65",
                                           "returns.markets.EU.no_fault": "30 days"}))
    assert canonical["returnless"]["share"] == "0.65"
    assert canonical["returns"]["markets"]["EU"]["no_fault"] == "30 days"
    assert validate(canonical) == validate(canonical_document(validate(canonical)))


# every map of the book keyed by market, with an entry for a key
PER_MARKET = {
    "returns.markets": {"no_fault": "30 days", "fault": "30 days"},
    "refunds.markets": {"days": 14},
    "return_shipping.markets": "merchant",
    "calendars.markets": {"hours": "09:00-18:00"},
    "buyer_zones": "Europe/London",
}


@pytest.mark.parametrize("key", ["UK", "XX", "ZZ", "EL"])
@pytest.mark.parametrize("where", sorted(PER_MARKET))
def test_a_market_key_no_order_can_have_is_refused_naming_the_field_and_the_key(
        where: str, key: str) -> None:
    """The boundary refuses these as an order's market, so such an entry never applied; it was
    accepted and published as a row (``UK`` for the United Kingdom, which is ``GB``)."""
    with pytest.raises(InvalidBookError) as error:
        validate(document(**{f"{where}.{key}": PER_MARKET[where]}))
    assert f"{where}.{key}: '{key}' is not a market: the buyer's country as an assigned ISO " \
           "3166-1 alpha-2 code" in str(error.value)


@pytest.mark.parametrize("key", sorted(MARKETS))
def test_every_market_the_boundary_takes_is_a_key_of_the_book(key: str) -> None:
    assert key in book(**{f"refunds.markets.{key}": {"days": 14}}).refunds.markets
    assert key in book(buyer_zones={key: "UTC"}).buyer_zones


def test_the_eu_group_is_a_key_of_every_map_but_the_buyer_zones() -> None:
    for where in sorted(set(PER_MARKET) - {"buyer_zones"}):
        validate(document(**{f"{where}.EU": PER_MARKET[where]}))
    refused(r"buyer_zones\.EU: a buyer zone is set per market", buyer_zones={"EU": "UTC"})


def test_a_version_stored_with_such_a_key_still_loads_as_it_was() -> None:
    """Stored versions are never refused after the fact: the entry stays, so that their
    decisions re-run with the settings (and hash) they recorded."""
    stored = validate(document(**{"returns.markets.UK": PER_MARKET["returns.markets"],
                                  "buyer_zones": {"XX": "UTC"}}), stored=True)
    assert "UK" in stored.returns.markets and "XX" in stored.buyer_zones
    assert canonical_document(stored)["returns"]["markets"]["UK"]["no_fault"] == "30 days"
