"""What a policy book refuses in the application, on SQLite and PostgreSQL: a reason with
control characters or too long, a merchant id the service API cannot reach (for a new book
or a new order; books and orders stored before the rule stay readable and keep deciding), a
version that moved on since the caller read it, a book the same as version 0, a proposed
book below the law in a diff; each refusal names what is wrong and stores nothing."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from aftersales_core.application.access import Caller
from aftersales_core.application.principals import principal_id_of
from aftersales_core.application.services import Services
from aftersales_core.domain.ids import order_aggregate_id
from aftersales_core.domain.order import Order
from aftersales_core.domain.policy_book import PolicyBook, UnchangedBookError
from aftersales_core.errors import InvalidFieldError, PreconditionFailedError
from aftersales_core.policybook.builtin import builtin_document
from aftersales_core.policybook.canonical import digest
from aftersales_core.policybook.documents import (
    UnlawfulBookError,
    canonical_document,
    parse,
    validate,
)
from tests.factories import ADMIN, T0, admin, caller, order_placed

BOOKS = Path(__file__).parents[2] / "demo" / "books"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def uci() -> dict[str, Any]:
    return parse((BOOKS / "uci-online-retail.toml").read_bytes())


def eu30() -> dict[str, Any]:
    return parse((BOOKS / "uci-online-retail-eu30.toml").read_bytes())


def boss(app: Services) -> Caller:
    admin(app)
    return Caller(principal_id_of(ADMIN), NOW, "test")


def versions(app: Services, merchant: str | None) -> list[int]:
    return [h["version"] for h in app.store.books.history(merchant)]


@pytest.mark.parametrize(("reason", "words"), [
    ("EU \u009b2J window", "reason: must not contain NUL or control characters other than tab "
                           "and line breaks (U+009B at position 3)"),
    ("a\x00b", "(U+0000 at position 1)"),
    ("\x1b[31mred", "(U+001B at position 0)"),
    ("x" * 1001, "reason: at most 1000 characters, not 1001"),
    ("  ", "reason: say why the book changes"),
])
def test_a_bad_reason_is_refused_naming_it_and_nothing_is_stored(
        app: Services, reason: str, words: str) -> None:
    with pytest.raises(InvalidFieldError) as refused:
        app.books.set(boss(app), "uci", uci(), reason)
    assert words in str(refused.value) and refused.value.fields[0][0] == "reason"
    assert versions(app, "uci") == [0]
    assert app.books.set(boss(app), "uci", uci(), "x" * 1000).version == 1  # the edge


@pytest.mark.parametrize("merchant", ["a b", "shop/eu#1", "-m", "m" * 201, "é"])
def test_a_merchant_id_the_api_cannot_reach_gets_no_book_and_no_order(
        app: Services, merchant: str) -> None:
    with pytest.raises(InvalidFieldError, match=r"merchant: .* is not a merchant id"):
        app.books.set(boss(app), merchant, uci(), "first")
    placed = order_placed("o-bad", merchant_id=merchant)
    with pytest.raises(InvalidFieldError, match=r"merchant_id: .* is not a merchant id"):
        app.upstream.order_placed(  # past the schemas: the application checks it too
            caller(app, "system.upstream"), placed["event_id"], T0, "o-bad", "c-1", "DE",
            "EUR", "direct_mail", placed["lines"], Decimal("5.00"), Decimal("0.00"),
            Decimal("19.00"), Decimal(placed["total"]), merchant_id=merchant)
    assert app.store.find(Order, order_aggregate_id("o-bad")) is None
    assert app.books.set(boss(app), "m" * 200, uci(), "the longest id").version == 1


def legacy(app: Services, merchant: str) -> None:
    """A book stored for ``merchant`` before merchant ids had their rule."""
    book = PolicyBook(owner="merchant", merchant_id=merchant, timestamp=NOW)
    canonical = canonical_document(validate(eu30()))
    book.set_version(canonical, digest(canonical), str(principal_id_of(ADMIN)), "admin",
                     "set before the rule", NOW, base_hash="sha256:none")
    app.store.save_atomically(book)


def test_a_book_stored_for_an_older_merchant_id_stays_readable_and_keeps_deciding(
        app: Services) -> None:
    legacy(app, "shop eu")
    auditor = caller(app, "auditor-1")
    assert app.books.show(auditor, "shop eu").version == 1
    assert versions(app, "shop eu") == [0, 1]
    assert [c.path for c in app.books.diff(auditor, "shop eu", 0, 1)] != []
    assert app.store.books.rules_for("shop eu").rulebook.version == 1  # its orders' book
    report, _ = app.books.simulate(auditor, "shop eu", 1)
    assert report.merchant_id == "shop eu"
    assert "30 days" in app.books.publish(auditor, "shop eu", "en", "md")
    with pytest.raises(InvalidFieldError, match="merchant"):  # but no new version
        app.books.set(boss(app), "shop eu", uci(), "second")


def test_if_match_a_stale_version_is_refused_and_a_current_one_stored(app: Services) -> None:
    assert app.books.set(boss(app), "uci", uci(), "first", expected=0).version == 1
    with pytest.raises(PreconditionFailedError, match="is at version 1, not 0"):
        app.books.set(boss(app), "uci", eu30(), "second", expected=0)
    with pytest.raises(PreconditionFailedError, match="is at version 1, not 2"):
        app.books.set(boss(app), "uci", eu30(), "second", expected=2)
    assert versions(app, "uci") == [0, 1]
    assert app.books.set(boss(app), "uci", eu30(), "second", expected=1).version == 2
    assert app.books.set(boss(app), None, uci(), "platform", expected=0).version == 1


def test_a_writer_who_lost_a_race_is_told_the_book_moved_on(app: Services) -> None:
    """Another writer stores a version between this one's read and its save: with If-Match
    the loser is refused (412), without it the set runs again on the new latest."""
    app.books.set(boss(app), "uci", uci(), "first")
    books = app.store.books
    real_save = books.save
    races = iter(["someone else's", "and another"])

    def race_then_save(aggregate: Any) -> None:
        name = next(races, None)
        if name is not None:  # another writer, with its own copy read a moment ago
            other = app.store.find(PolicyBook, aggregate.id)
            assert other is not None and other is not aggregate
            changed = copy.deepcopy(eu30())
            changed["merchant_name"] = name
            canonical = canonical_document(validate(changed))
            other.set_version(canonical, digest(canonical), "other", "admin", "race", NOW,
                              base_hash="sha256:none")
            real_save(other)
        real_save(aggregate)

    books.save = race_then_save
    with pytest.raises(PreconditionFailedError, match="is at version 2, not 1"):
        app.books.set(boss(app), "uci", eu30(), "mine", expected=1)
    assert app.books.set(boss(app), "uci", eu30(), "mine again").version == 4
    assert [h["reason"] for h in app.store.books.history("uci")][1:] == \
        ["first", "race", "race", "mine again"]


def test_a_first_version_equal_to_the_built_in_defaults_is_unchanged(app: Services) -> None:
    for merchant in (None, "uci"):
        with pytest.raises(UnchangedBookError, match="same as its version 0, the built-in "
                                                     "defaults"):
            app.books.set(boss(app), merchant, builtin_document(), "no change")
        assert versions(app, merchant) == [0]


def test_a_proposed_book_below_the_law_is_refused_by_the_diff_as_by_set(app: Services) -> None:
    app.books.set(boss(app), "uci", uci(), "first")
    short = copy.deepcopy(uci())
    short["returns"]["markets"]["GB"]["fault"] = "20 days"
    auditor = caller(app, "auditor-1")
    with pytest.raises(UnlawfulBookError) as by_diff:
        app.books.compare(auditor, "uci", None, None, validate(short))
    with pytest.raises(UnlawfulBookError) as by_set:
        app.books.set(boss(app), "uci", short, "shorter")
    assert str(by_diff.value) == str(by_set.value)
    assert "UK 30-day short-term right to reject" in str(by_diff.value)


def test_an_empty_period_names_both_ends(app: Services) -> None:
    auditor = caller(app, "auditor-1")
    for until in (NOW, NOW - timedelta(microseconds=1)):
        with pytest.raises(InvalidFieldError) as refused:
            app.books.simulate(auditor, "uci", 0, NOW, until)
        assert [f for f, _ in refused.value.fields] == ["since", "until"]
        assert refused.value.code == "invalid" and "the period is empty" in str(refused.value)
