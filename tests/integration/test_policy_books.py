"""Policy books through the application on both stores: versions set with who, when and why and
never changed; every decision follows its order's merchant's book and records it; re-runs use
the recorded version even after the book moved on; what-if over the store; the published
policy of the book that applies."""

from __future__ import annotations

import copy
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from aftersales.bootstrap import store_reader
from aftersales_core.application.access import Caller
from aftersales_core.application.history import load_history
from aftersales_core.application.policy_books import ANY_VERSION
from aftersales_core.application.principals import principal_id_of
from aftersales_core.application.services import Services
from aftersales_core.domain.policy_book import PolicyBook, UnchangedBookError, policy_book_id
from aftersales_core.errors import (
    ConcurrentChangeError,
    InvalidCommandError,
    NotAuthorisedError,
    PreconditionFailedError,
    UnknownVersionError,
)
from aftersales_core.policies import evaluate
from aftersales_core.policybook.documents import (
    InvalidBookError,
    UnlawfulBookError,
    canonical_document,
    parse,
    validate,
)
from aftersales_core.policybook.rulebook import SettingsMismatchError
from api.routes_policy_changes import SIMULATIONS
from api.routes_policy_changes import run_simulation as simulate_once
from audit.auditor import Auditor
from projections.apply import OutdatedProjection, ensure_schema
from projections.db import ReadDatabase
from projections.decisions import Decisions
from projections.rebuild import rebuild
from server.problems import Problem
from tests.factories import ADMIN, T0, admin, caller, customer, delivered_order, run
from tests.unit.policybook.books import document

BOOKS = Path(__file__).parents[2] / "demo" / "books"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
DELIVERED = T0 + timedelta(days=3)


def uci() -> dict[str, Any]:
    return parse((BOOKS / "uci-online-retail.toml").read_bytes())


def eu30() -> dict[str, Any]:
    return parse((BOOKS / "uci-online-retail-eu30.toml").read_bytes())


def set_book(app: Services, merchant: str | None, doc: dict[str, Any],
             reason: str = "test") -> int:
    """Set a version as the test administrator, received at NOW."""
    admin(app)
    boss = Caller(principal_id_of(ADMIN), NOW, "test")
    return app.books.set(boss, merchant, doc, reason).version


def late_return(app: Services, order_id: str, day: int = 20, **order: Any) -> Any:
    delivered_order(app, order_id, currency="GBP", **order)
    return app.returns.request(customer(app), uuid4(), order_id,
                               [{"line_id": "1", "quantity": 1}], "changed_mind", "refund",
                               DELIVERED + timedelta(days=day))


def test_a_version_is_stored_with_who_when_and_why_and_the_history_lists_them(
        app: Services) -> None:
    assert app.store.books.version("uci").version == 0  # the built-in defaults before any
    assert set_book(app, "uci", uci(), "first book") == 1
    assert set_book(app, "uci", eu30(), "EU 30 days") == 2
    history = app.store.books.history("uci")
    assert [h["version"] for h in history] == [0, 1, 2]
    assert history[2]["set_by"] == str(principal_id_of(ADMIN))
    assert history[2]["role"] == "admin"
    assert history[2]["reason"] == "EU 30 days" and history[2]["set_at"] == NOW.isoformat()
    assert app.store.books.version("uci", 1).document == canonical_document(validate(uci()))
    assert history[1]["book_hash"] != history[2]["book_hash"]
    changes = app.store.books.diff("uci", None, None)
    assert [c.path for c in changes] == ["returns.markets.EU.no_fault"]


def test_a_refused_book_stores_nothing(app: Services) -> None:
    bad = copy.deepcopy(uci())
    bad["returns"]["markets"]["GB"]["fault"] = "20 days"
    with pytest.raises(UnlawfulBookError, match="UK 30-day short-term right to reject"):
        set_book(app, "uci", bad)
    with pytest.raises(InvalidBookError, match=r"returnless\.share"):
        set_book(app, "uci", {**uci(), "returnless": {"share": 0.6}})
    assert app.store.books.version("uci").version == 0
    set_book(app, "uci", uci())
    with pytest.raises(UnchangedBookError, match="same as its version 1"):
        set_book(app, "uci", uci())
    same_value = copy.deepcopy(uci())  # GBP = "150": the same threshold, written otherwise
    same_value["approval"]["thresholds"]["GBP"] = "150.00"
    with pytest.raises(UnchangedBookError, match="same as its version 1"):
        set_book(app, "uci", same_value)
    assert app.store.books.version("uci").version == 1
    with pytest.raises(UnknownVersionError, match="no policy book version 5"):
        app.store.books.version("uci", 5)


def test_the_orders_merchant_selects_the_book_and_the_decision_records_it(
        app: Services) -> None:
    set_book(app, "uci", eu30())
    accepted = late_return(app, "o-uci", merchant_id="uci")
    refused = late_return(app, "o-other", merchant_id="someone-else")
    none = late_return(app, "o-none")
    eligibility = accepted.decisions[0]
    assert (accepted.status, eligibility.outcome) == ("approved", "approve")
    assert eligibility.book["merchant_id"] == "uci" and eligibility.book["book_version"] == 1
    assert refused.status == "rejected"
    assert refused.decisions[0].book["book"] == "platform"
    assert refused.decisions[0].book["merchant_id"] == "someone-else"
    assert none.decisions[0].book == {**none.decisions[0].book, "merchant_id": None,
                                      "book": "platform", "book_version": 0}


def test_the_decisions_read_model_names_the_book_that_decided(app: Services,
                                                              tmp_path: Path) -> None:
    """An analyst groups decisions by merchant and book version from the read model (``case
    show`` named the book; the ``decisions`` rows did not); an older table asks for a rebuild."""
    set_book(app, "uci", eu30())
    accepted = late_return(app, "o-uci", merchant_id="uci")
    late_return(app, "o-none")
    db = ReadDatabase(f"sqlite:///{tmp_path / 'read.sqlite'}")
    rebuild(db, None, store_reader(app))
    rows = {r["case_id"]: r for r in db.query(
        "SELECT case_id, merchant_id, book, book_version, settings_hash FROM decisions "
        "WHERE policy_id = 'return.eligibility'")}
    recorded = accepted.decisions[0].book
    assert rows[str(accepted.case_id)] == {
        "case_id": str(accepted.case_id), "merchant_id": "uci", "book": "merchant",
        "book_version": 1, "settings_hash": recorded["settings_hash"]}
    [other] = [r for key, r in rows.items() if key != str(accepted.case_id)]
    assert (other["merchant_id"], other["book"], other["book_version"]) == (None, "platform", 0)
    db.close()
    older = ReadDatabase(f"sqlite:///{tmp_path / 'older.sqlite'}")
    ddl = Decisions.tables["decisions"]
    for column in ("merchant_id TEXT", "book TEXT", "book_version INTEGER",
                   "settings_hash TEXT"):
        ddl = ddl.replace(f"\n            {column},", "")
    assert "book" not in ddl
    with older.transaction() as tx:
        tx.execute(ddl.format(decisions="decisions"))
    with pytest.raises(OutdatedProjection, match="projections rebuild decisions"):
        ensure_schema(older, [Decisions()])
    older.close()


def test_the_platform_default_applies_to_merchants_without_a_book(app: Services) -> None:
    platform = document(**{"returns.markets.EU.no_fault": "30 days"})
    set_book(app, None, platform)
    decided = late_return(app, "o-1", merchant_id="no-book")
    assert decided.status == "approved"
    assert decided.decisions[0].book["book"] == "platform"
    assert decided.decisions[0].book["book_version"] == 1
    assert app.store.books.applying("no-book").book_id.owner == "platform"


def test_a_recorded_decision_reruns_with_its_version_after_the_book_changed(
        app: Services) -> None:
    set_book(app, "uci", eu30())
    case = late_return(app, "o-1", merchant_id="uci")
    set_book(app, "uci", uci())  # back to 14 days: the recorded approval must stay
    history = load_history(app.store, case.case_id)
    assert history.decisions
    for decision in history.decisions:
        again = app.store.books.rerun(decision)
        assert again.same_result_as(decision), decision.policy_id
    assert late_return(app, "o-2", merchant_id="uci").status == "rejected"


def test_a_decision_recorded_before_books_still_reruns_with_its_built_in_settings(
        app: Services) -> None:
    old = evaluate("return.eligibility", load_history(
        app.store, late_return(app, "o-1").case_id).decisions[0].inputs, version=2)
    assert old.book is None and app.store.books.rerun(old).to_json() == old.to_json()


def test_audit_verify_reruns_every_decision_with_its_book(app: Services) -> None:
    set_book(app, "uci", eu30())
    late_return(app, "o-1", merchant_id="uci")
    late_return(app, "o-2")
    report = Auditor(app.store.recorder, app.store.mapper, rerun=app.store.books.rerun).verify(
        decisions=True)
    assert report.decisions_checked and report.decisions_checked >= 6
    assert report.decision_mismatches == []


def test_a_forged_settings_hash_is_found_by_the_rerun(app: Services) -> None:
    set_book(app, "uci", eu30())
    decision = load_history(app.store, late_return(app, "o-1", merchant_id="uci").case_id
                            ).decisions[0]
    forged = replace(decision, book={**decision.book, "settings_hash": "sha256:" + "0" * 64})
    with pytest.raises(SettingsMismatchError):
        app.store.books.rerun(forged)
    other = replace(decision, book={**decision.book, "book_version": 7})
    with pytest.raises(UnknownVersionError):
        app.store.books.rerun(other)


def test_what_if_over_the_store_counts_the_merchants_decisions(app: Services) -> None:
    set_book(app, "uci", uci())
    for day, order_id in ((5, "o-early"), (20, "o-late"), (40, "o-too-late")):
        late_return(app, order_id, day, merchant_id="uci")
    late_return(app, "o-other", merchant_id="other")
    report, timing = app.store.books.simulate("uci", validate(eu30()))
    eligibility = report.policies["return.eligibility"]
    assert (eligibility.re_evaluated, eligibility.changed) == (3, 1)
    assert eligibility.pairs[("reject", "approve")].count == 1
    assert report.returns_accepted["GBP"].count == 1
    assert report.cases == 6 and timing["evaluate_seconds"] >= 0  # 3 returns, 3 orders
    since = app.store.books.simulate("uci", validate(eu30()),
                                     since=DELIVERED + timedelta(days=10))[0]
    assert since.cases == 2  # the two later returns: the orders decided before
    held, _ = app.store.books.history_of_decisions("uci")  # read: only that merchant's kept
    assert held and {r.decision.book["merchant_id"] for r in held if r.decision.book} == {"uci"}
    assert len(held) < len(app.store.books.history_of_decisions()[0])


@pytest.mark.parametrize("merchant", ["no-book-yet", None])
def test_any_version_expected_of_a_book_never_set_is_refused_and_stores_nothing(
        app: Services, merchant: str | None) -> None:
    """``If-Match: *`` (RFC 9110 §13.1.1) holds only when the book has a version; the
    built-in defaults (version 0) are not one of the book's own."""
    admin(app)
    boss = Caller(principal_id_of(ADMIN), NOW, "test")
    with pytest.raises(PreconditionFailedError, match=r"If-Match: \* failed.*no version yet"):
        app.books.set(boss, merchant, uci(), "first", ANY_VERSION)
    assert [h["version"] for h in app.store.books.history(merchant)] == [0]
    assert set_book(app, merchant, uci()) == 1
    assert app.books.set(boss, merchant, eu30(), "second", ANY_VERSION).version == 2

def test_two_admins_setting_at_once_one_wins_the_other_is_told(app: Services) -> None:
    set_book(app, "uci", uci())
    mine = app.store.find(PolicyBook, policy_book_id("merchant", "uci"))
    theirs = app.store.find(PolicyBook, policy_book_id("merchant", "uci"))
    assert mine is not None and theirs is not None
    mine.set_version(canonical_document(validate(eu30())), "sha256:a", "a", "admin", "x", NOW,
                     base_hash="sha256:0")
    theirs.set_version(canonical_document(validate(eu30())), "sha256:b", "b", "admin", "y", NOW,
                       base_hash="sha256:0")
    app.store.save_atomically(mine)
    with pytest.raises(ConcurrentChangeError):
        app.store.save_atomically(theirs)
    assert [h["set_by"] for h in app.store.books.history("uci")] == \
        [None, str(principal_id_of(ADMIN)), "a"]


def test_the_published_policy_is_the_applying_books(app: Services) -> None:
    set_book(app, "uci", eu30())
    text = app.store.books.publish("uci", "en", "md")
    assert "| EU member states | 30 days from delivery |" in text
    assert "version 1" in text and "UCI Online Retail" in text
    assert "售后服务政策" in app.store.books.publish("uci", "zh-CN", "html")
    assert "Platform default" in app.store.books.publish("nobody", "en", "md")


def test_only_administrators_set_books_and_administrators_and_auditors_read_them(
        app: Services) -> None:
    set_book(app, "uci", uci())
    for name in ("auditor-1", "agent-1", "sup-1", "customer-c-1"):
        with pytest.raises(NotAuthorisedError):
            app.books.set(caller(app, name), "uci", eu30(), "not mine to set")
    assert app.store.books.version("uci").version == 1
    assert app.books.show(caller(app, "auditor-1"), "uci").version == 1
    assert len(app.books.history(caller(app, "auditor-1"), "uci")) == 2
    report, _ = app.books.simulate(caller(app, "auditor-1"), "uci", validate(eu30()))
    assert report.merchant_id == "uci"
    for name in ("agent-1", "customer-c-1", "analyst-1"):
        with pytest.raises(NotAuthorisedError):
            app.books.show(caller(app, name), "uci")
        with pytest.raises(NotAuthorisedError):
            app.books.simulate(caller(app, name), "uci", validate(eu30()))
    for name in ("customer-c-1", "agent-1", "warehouse-1", "analyst-1"):
        assert "UCI Online Retail" in app.books.publish(caller(app, name), "uci", "en", "md")


def test_a_diff_names_the_versions_compared_and_each_unknown_one(app: Services) -> None:
    set_book(app, "uci", uci())
    set_book(app, "uci", eu30())
    auditor = caller(app, "auditor-1")
    found = app.books.compare(auditor, "uci", None, None)
    assert (found.before.version, found.after and found.after.version) == (1, 2)
    assert found.to_json()["changes"] == [c.to_json() for c in found.changes]
    assert app.books.compare(auditor, "uci", 2, 1).changes[0].before == "30 days"
    assert app.books.compare(auditor, "uci", 1, 1).changes == []
    proposed = app.books.compare(auditor, "uci", None, None, validate(uci()))
    assert proposed.after is None and proposed.before.version == 2
    assert [c.after for c in proposed.changes] == ["14 days"]
    for before, after, words in ((3, None, "version 3 to compare from (versions 0 to 2)"),
                                 (None, 3, "version 3 to compare to (versions"),  # not 2
                                 (5, 4, "version 5 to compare from nor version 4 to")):
        with pytest.raises(UnknownVersionError, match=re.escape(words)):
            app.books.compare(auditor, "uci", before, after)
    with pytest.raises(UnknownVersionError, match="version 3 to compare from"):
        app.books.compare(auditor, "uci", 3, None, validate(uci()))
    # a proposed book is compared with a stored version: `after` is not one
    assert app.books.compare(auditor, "uci", None, 9, validate(uci())).before.version == 2
    with pytest.raises(NotAuthorisedError):
        app.books.compare(caller(app, "agent-1"), "uci", 9, 9)  # asked before anything read


def test_a_simulation_under_a_stored_version_or_over_an_empty_period(app: Services) -> None:
    set_book(app, "uci", uci())
    late_return(app, "o-late", 20, merchant_id="uci")
    set_book(app, "uci", eu30())
    auditor = caller(app, "auditor-1")
    under_two, _ = app.books.simulate(auditor, "uci", 2)
    assert under_two.policies["return.eligibility"].changed == 1
    assert under_two.to_json() == app.books.simulate(auditor, "uci", validate(eu30()))[
        0].to_json()
    assert app.books.simulate(auditor, "uci", 1)[0].policies["return.eligibility"].changed == 0
    with pytest.raises(UnknownVersionError, match="no policy book version 3"):
        app.books.simulate(auditor, "uci", 3)
    for since, until in ((NOW, NOW), (NOW, NOW - timedelta(microseconds=1))):
        with pytest.raises(InvalidCommandError, match="the period is empty"):
            app.books.simulate(auditor, "uci", 1, since, until)
    assert app.books.simulate(auditor, "uci", 1, NOW, NOW + timedelta(microseconds=1)
                              )[0].decisions_seen == 0
    with pytest.raises(NotAuthorisedError):  # who asks is checked first
        app.books.simulate(caller(app, "agent-1"), "uci", 3, NOW, NOW)


def test_one_simulation_at_a_time_per_server_process(app: Services) -> None:
    set_book(app, "uci", uci())
    auditor, agent = caller(app, "auditor-1"), caller(app, "agent-1")
    with SIMULATIONS:  # another request's simulation is running
        with pytest.raises(Problem) as busy:
            simulate_once(app, auditor, "uci", 1, None, None)
        assert busy.value.status == 429 and busy.value.headers["Retry-After"]
        with pytest.raises(NotAuthorisedError):  # who may not is told so, not to wait
            simulate_once(app, agent, "uci", 1, None, None)
    report, _ = simulate_once(app, auditor, "uci", 1, None, None)
    assert report.merchant_id == "uci" and SIMULATIONS.acquire(blocking=False)
    SIMULATIONS.release()
    with pytest.raises(UnknownVersionError):  # a failed simulation frees the process for the next
        simulate_once(app, auditor, "uci", 8, None, None)
    assert simulate_once(app, auditor, "uci", 0, None, None)[0].merchant_id == "uci"


def test_what_if_judges_a_returns_refund_against_the_proposed_refund_term(
        app: Services) -> None:
    """A refund that settles a return inherits the return's refund deadline: under a shorter
    proposed term it is due sooner, and a refund issued 6 days after the goods came back is late
    under 5 days (it was counted on time, against the recorded due, until a cold test found
    that a goodwill refund issued as late was caught and this one was not)."""
    set_book(app, "us-shop", uci())  # refunds within 14 days by default (the US has no floor)
    delivered_order(app, "o-us", market="US", currency="USD", merchant_id="us-shop")
    asked = DELIVERED + timedelta(days=2)

    def at(days: float) -> str:
        return (asked + timedelta(days=days)).isoformat()

    case = run(app, "customer-c-1", {"command": "RequestReturn", "order_id": "o-us",
                                     "reason": "changed_mind", "outcome": "refund",
                                     "lines": [{"line_id": "1", "quantity": 1}], "at": at(0)})
    case_id = str(case.case_id)
    run(app, "agent-1", {"command": "IssueReturnLabel", "case_id": case_id, "carrier": "UPS",
                         "tracking_number": "T-1", "at": at(0.1)})
    run(app, "warehouse-1", {"command": "ReceiveReturn", "case_id": case_id, "at": at(3)})
    run(app, "warehouse-1", {"command": "InspectReturn", "case_id": case_id, "grade": "A",
                             "at": at(3.1)})
    resolved = run(app, "agent-1", {"command": "ResolveReturn", "case_id": case_id,
                                    "resolution": "refund", "at": at(3.2)})
    refund_id = str(resolved.related["refund_case_id"])
    if app.store.load_any(UUID(refund_id)).status == "awaiting_approval":
        run(app, "sup-1", {"command": "ApproveRefund", "case_id": refund_id, "at": at(4)})
    run(app, "payments-1", {"command": "IssueRefund", "case_id": refund_id, "at": at(9)})

    def refund_deadlines(days: int) -> Any:
        report, _ = app.store.books.simulate(
            "us-shop", validate({**uci(), "refunds": {**uci()["refunds"],
                                                      "default": {"days": days}}}))
        return report.deadlines["refund"]

    assert refund_deadlines(14)["breached_after"] == 0
    under_five = refund_deadlines(5)
    assert under_five["judged"] >= 1 and under_five["breached_before"] == 0
    assert under_five["breached_after"] == 1
