"""Book files: TOML or JSON in, every problem named; TOML out that reads back the same."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales_core.policybook.builtin import builtin_book
from aftersales_core.policybook.documents import (
    MAX_BYTES,
    InvalidBookError,
    canonical_document,
    parse,
    read_book,
    to_toml,
)
from tests.unit.policybook.books import book, document


def test_toml_written_from_a_book_reads_back_as_the_same_book() -> None:
    original = book(**{"returns.markets.EU.reasons": {"doesnt_fit": "45 days"},
                       "calendars.markets.CN": {"zone": "Asia/Shanghai", "hours": "09:00-21:00",
                                                "closed": ["2026-02-16"]},
                       "support": {"email": "service@example.com"}})
    text = to_toml(canonical_document(original))
    assert canonical_document(read_book(text.encode())) == canonical_document(original)


def test_json_reads_as_toml_does() -> None:
    data = json.dumps(document()).encode()
    assert read_book(data, "json") == read_book(to_toml(document()).encode(), "toml")
    assert read_book(data) == builtin_book()  # a leading "{" is JSON


def test_json_with_a_key_twice_is_refused() -> None:
    text = json.dumps(document())
    doubled = text.replace('"format":', '"merchant_name": "A", "format":', 1)
    with pytest.raises(InvalidBookError, match="'merchant_name' appears twice"):
        parse(doubled.encode(), "json")


def test_toml_with_a_key_twice_is_refused() -> None:
    with pytest.raises(InvalidBookError, match="not valid TOML"):
        parse(b'merchant_name = "A"\nmerchant_name = "B"\n', "toml")


@pytest.mark.parametrize(("data", "match"), [
    (b"\xff\xfe", "not UTF-8"),
    (b'merchant_name = "A\x00"', "NUL"),
    (b"[1, 2]", "not valid TOML"),
    (b"{", "not valid JSON"),
    (b'{"a": NaN}', "not a JSON number"),
    (b'{"a": 1e999}', "never as floats|format"),
])
def test_unreadable_files_are_refused_saying_why(data: bytes, match: str) -> None:
    with pytest.raises(InvalidBookError, match=match):
        read_book(data)


def test_a_json_array_is_not_a_book() -> None:
    with pytest.raises(InvalidBookError, match="one object"):
        parse(b"[1, 2]", "json")


def test_a_book_over_the_size_limit_is_refused_before_it_is_parsed() -> None:
    with pytest.raises(InvalidBookError, match="over the"):
        parse(b" " * (MAX_BYTES + 1), "toml")


def test_deep_nesting_is_refused_not_a_crash() -> None:
    with pytest.raises(InvalidBookError):
        read_book(b"[" * 100_000 + b"]" * 100_000, "json")


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_any_bytes_give_a_book_or_a_named_refusal(data: bytes) -> None:
    try:
        read_book(data)
    except InvalidBookError as error:
        assert str(error)


@pytest.mark.parametrize(("path", "value", "named"), [
    ("refunds.default", {"days": "14"}, "refunds.default.days"),
    ("refunds.default", {"days": 14.0}, "refunds.default.days"),
    ("refunds.default", {"days": True}, "refunds.default.days"),
    ("refunds.markets.US", {"working_days": "7"}, "refunds.markets.US.working_days"),
    ("abuse.window_orders", "20", "abuse.window_orders"),
    ("abuse.min_orders", 4.0, "abuse.min_orders"),
    ("complaints.first_response_hours", {"P1": "24", "P2": 24, "P3": 24},
     "complaints.first_response_hours.P1"),
    ("complaints.resolution_hours", {"P1": 168, "P2": True, "P3": 168},
     "complaints.resolution_hours.P2"),
    ("escalation.escalated_resolution_hours", "72", "escalation.escalated_resolution_hours"),
    ("complaints.pause_while_waiting_on_customer", "yes",
     "complaints.pause_while_waiting_on_customer"),
    ("complaints.pause_while_waiting_on_customer", 1, "complaints.pause_while_waiting_on_customer"),
    ("calendars.default.public_holidays", "off", "calendars.default.public_holidays"),
])
def test_integers_and_booleans_are_the_documents_own_types(path: str, value: object,
                                                            named: str) -> None:
    """TOML and JSON have integers and booleans: "14", 14.0, true, "yes" or 1 is not one."""
    changed = document(**{path: value})
    files = {"json": json.dumps(changed).encode()}
    if "14.0" not in files["json"].decode() and "4.0" not in files["json"].decode():
        files["toml"] = to_toml(changed).encode()  # (written by us: no floats)
    for kind, data in files.items():
        with pytest.raises(InvalidBookError, match=re.escape(named)):
            read_book(data, kind)  # type: ignore[arg-type]


def test_every_bad_setting_is_listed_by_its_path_and_a_chosen_key_said_back_cut_and_escaped(
        ) -> None:
    """The service API lists ``fields`` in its problem document; a key the author chose (an
    unknown setting) is said back as every caller-chosen name is: 40 characters at most,
    invisible characters escaped, never a 3,000-character key or a bidi override as it came."""
    changed = document(**{"approval.thresholds.EUR": "x"})
    changed["SECRET\u202e\x1b[31m" + "A" * 3000] = 1
    with pytest.raises(InvalidBookError) as refused:
        read_book(json.dumps(changed).encode(), "json")
    fields = dict(refused.value.fields)
    cut = "SECRET\\u202e\\x1b[31m" + "A" * 28 + "…"  # the first 40 characters sent
    assert set(fields) == {"approval.thresholds.EUR", cut}, fields
    assert fields[cut] == "Extra inputs are not permitted"
    assert "\u202e" not in str(refused.value) and "A" * 31 not in str(refused.value)
    assert str(refused.value) == "the book is invalid: " + "; ".join(
        f"{path}: {problem}" for path, problem in refused.value.fields)
    inside = refused.value.within("book")
    assert [f for f, _ in inside.fields] == [f"book.{f}" for f, _ in refused.value.fields]
    assert str(inside) == str(refused.value)
