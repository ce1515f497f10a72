"""What-if over recorded decisions: outcomes that change, refund totals, approvals and
deadlines before and after, from the recorded inputs alone."""

from __future__ import annotations

from datetime import datetime, timedelta

from aftersales_core.decisions import PolicyDecision
from aftersales_core.policies import evaluate
from aftersales_core.policybook.bindings import eligibility_v3
from aftersales_core.policybook.rulebook import Rulebook, builtin_rules, merchant_book
from aftersales_core.policybook.simulate import DeadlineEnd, Recorded, simulate
from tests.unit.policies import builders
from tests.unit.policybook.books import book

AT = datetime.fromisoformat("2026-01-25T10:00:00+00:00")


def builders_delivered() -> datetime:
    return datetime.fromisoformat(builders.DELIVERED)
LUMEN = "lumen"
RULES = builtin_rules(LUMEN)


def record(case_id: str, decision: PolicyDecision, position: int = 1,
           at: datetime = AT) -> Recorded:
    return Recorded(position, case_id, at, decision)


def proposal(**changes: object) -> Rulebook:
    return Rulebook(book(**changes), merchant_book(LUMEN), -1)


def late_eu_return(day: int) -> PolicyDecision:
    """A return in Germany asked for on day ``day`` after delivery (5 January, 10:00 UTC)."""
    requested = (builders_delivered() + timedelta(days=day)).isoformat()
    return RULES.evaluate("return.eligibility", builders.eligibility(
        market="DE", currency="EUR", requested_at=requested,
        lines=[builders.line(unit_price="40.00", quantity=2)]))


def test_a_30_day_eu_window_accepts_the_returns_refused_on_days_15_to_30() -> None:
    records = [record(f"case-{day}", late_eu_return(day), day) for day in (10, 15, 20, 31)]
    report = simulate(records, [], proposal(**{"returns.markets.EU.no_fault": "30 days"}),
                      LUMEN)
    outcomes = report.policies["return.eligibility"]
    assert (outcomes.re_evaluated, outcomes.changed) == (4, 2)
    pair = outcomes.pairs[("reject", "approve")]
    assert pair.count == 2 and pair.examples == ["case-15", "case-20"]
    assert report.returns_accepted["EUR"].count == 2
    assert report.returns_accepted["EUR"].after == 160
    assert report.to_json()["outcomes"][0]["pairs"][0]["examples"] == ["case-15", "case-20"]


def test_the_same_book_changes_nothing() -> None:
    records = [record(f"case-{day}", late_eu_return(day), day) for day in (10, 15, 31)]
    report = simulate(records, [], Rulebook(book(), merchant_book(LUMEN), -1), LUMEN)
    assert report.policies["return.eligibility"].changed == 0
    assert report.re_evaluated == 3


def test_only_the_merchants_decisions_in_the_period_count() -> None:
    other = builtin_rules("someone-else").evaluate("return.eligibility",
                                                   builders.eligibility())
    before_books = evaluate("return.eligibility", builders.eligibility(), 2)
    early = record("early", late_eu_return(20), at=datetime.fromisoformat(
        "2025-12-01T00:00:00+00:00"))
    records = [record("other", other), record("old", before_books), early,
               record("in", late_eu_return(20))]
    report = simulate(records, [], proposal(), LUMEN,
                      since=datetime.fromisoformat("2026-01-01T00:00:00+00:00"))
    assert report.cases == 1 and report.decisions_seen == 1


def test_a_new_calculation_feeds_the_approval_of_the_same_refund() -> None:
    calculation = RULES.evaluate("refund.calculation", builders.refund(
        market="GB", currency="GBP", regime="merchant_default", inspection_grade="C",
        order_lines=[builders.line("L1", unit_price="250.00")],
        refund_lines=[{"line_id": "L1", "quantity": 1}], shipping_fee="0.00",
        discount="0.00", paid="250.00"))
    assert calculation.details["total"] == "225.00"  # 10% restocking fee
    approval = RULES.evaluate("refund.approval", builders.approval(
        currency="GBP", amount=calculation.details["total"]))
    assert approval.outcome == "needs_supervisor"  # above GBP 220
    report = simulate([record("refund-1", calculation, 1), record("refund-1", approval, 2)],
                      [], proposal(**{"restocking.rate": "0.15"}), LUMEN)
    totals = report.refunds["GBP"]
    assert (totals.before, totals.after) == (225, 212.5)
    assert (report.approvals_before, report.approvals_after) == (1, 0)
    assert report.policies["refund.approval"].pairs[("needs_supervisor", "auto_approve")].count \
        == 1


def test_deadlines_are_judged_against_when_the_work_was_done() -> None:
    inputs = {"case_type": "complaint", "channel": "email", "escalations": [], "priority": "P3",
              "market": None, "opened_at": "2026-01-05T10:00:00+00:00", "pauses": [],
              "waiting_since": None,
              "wanted": [{"name": "first_response", "since": "2026-01-05T10:00:00+00:00"}]}
    decision = RULES.evaluate("deadlines", inputs)  # due 2026-01-06T10:00
    since = "2026-01-05T10:00:00+00:00"
    met = [DeadlineEnd("c-met", "first_response", since, "met",
                       datetime.fromisoformat("2026-01-06T08:00:00+00:00")),
           DeadlineEnd("c-fired", "first_response", since, "fired",
                       datetime.fromisoformat("2026-01-06T10:00:01+00:00")),
           DeadlineEnd("c-fired-late", "first_response", since, "fired",
                       datetime.fromisoformat("2026-01-07T10:00:00+00:00"))]
    records = [record(end.case_id, decision) for end in met]
    stricter = simulate(records, met, proposal(**{
        "complaints.first_response_hours": {"P1": 4, "P2": 8, "P3": 8}}), LUMEN)
    counts = stricter.deadlines["first_response"]
    assert (counts["judged"], counts["breached_before"], counts["breached_after"]) == (3, 2, 3)
    looser = simulate(records, met, proposal(**{
        "complaints.first_response_hours": {"P1": 4, "P2": 8, "P3": 36}}), LUMEN)
    counts = looser.deadlines["first_response"]
    assert (counts["breached_after"], counts["undetermined_after"]) == (1, 1)


def test_a_failure_is_reported_never_counted_as_unchanged() -> None:
    broken = RULES.evaluate("return.eligibility", builders.eligibility())
    broken.inputs["market"] = "china"  # a record that no longer reads
    report = simulate([record("bad", broken)], [], proposal(), LUMEN)
    assert report.re_evaluated == 0 and len(report.failed) == 1
    assert "market" in report.failed[0]["error"]


def test_policies_no_book_governs_are_counted_not_re_evaluated() -> None:
    disposition = RULES.evaluate("return.disposition", builders.disposition())
    report = simulate([record("r", disposition)], [], proposal(), LUMEN)
    assert (report.not_governed, report.re_evaluated) == (1, 0)


def test_the_settings_a_simulation_uses_are_the_proposed_books() -> None:
    proposed = proposal(**{"returns.markets.EU.no_fault": "30 days"})
    assert proposed.settings("return.eligibility", 3)[0] == eligibility_v3(proposed.book)
