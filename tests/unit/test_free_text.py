"""The one rule for what people write (aftersales_core/text.py): the reason of a policy book
version, the wire schemas' free text (notes, messages, reasons) and the book's names refuse
the same characters (NUL, C0 but tab and line breaks, DEL, C1 such as U+009B), naming the
field; and the one rule for merchant ids (aftersales_core/domain/ids.py) is the pattern the
service API's path takes and the published schema states."""

from __future__ import annotations

import re
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from aftersales_core.domain.ids import (
    MAX_MERCHANT_ID,
    MERCHANT_ID_PATTERN,
    check_merchant_id,
    merchant_id_problem,
)
from aftersales_core.domain.policy_book import MAX_REASON, check_reason
from aftersales_core.errors import InvalidCommandError, InvalidFieldError
from aftersales_core.policybook.documents import InvalidBookError, validate
from aftersales_core.text import TEXT_FORBIDDEN_CHARS, check_text, text_problem
from schemas.boundary import command, inbound
from schemas.errors import InputRefused
from schemas.limits import TEXT_PATTERN
from tests.factories import order_placed
from tests.unit.policybook.books import document

CHECKS = settings(max_examples=300, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow])
C1 = [chr(c) for c in range(0x80, 0xA0)]
C0 = [chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"]


def forbidden(char: str) -> bool:
    """The rule in words: C0 but tab, LF, CR; DEL; C1."""
    return (ord(char) < 0x20 and char not in "\t\n\r") or 0x7F <= ord(char) <= 0x9F


@given(st.text(st.characters(codec="utf-8"), max_size=20))
@CHECKS
@example("why\u009b2J")
@example("tab\tand\nlines\r")
def test_the_text_rule_is_the_rule_in_words_and_the_published_pattern(text: str) -> None:
    expected_ok = not any(forbidden(c) for c in text)
    assert (text_problem(text) is None) == expected_ok, text
    published = re.search(TEXT_PATTERN.replace("$", r"\Z"), text) is not None
    assert published == expected_ok, text
    assert TEXT_FORBIDDEN_CHARS in TEXT_PATTERN  # one definition


@pytest.mark.parametrize("char", [*C0, "\x7f", *C1])
def test_every_control_character_is_refused_in_a_reason_naming_the_field(char: str) -> None:
    with pytest.raises(InvalidFieldError) as refused:
        check_reason(f"new window{char}x")
    assert str(refused.value).startswith("reason: must not contain NUL or control characters")
    assert f"U+{ord(char):04X} at position 10" in str(refused.value)
    assert refused.value.fields[0][0] == "reason"


def test_a_reason_is_one_to_a_thousand_characters_with_tabs_and_line_breaks() -> None:
    assert check_reason("x" * MAX_REASON) == "x" * MAX_REASON
    assert check_reason("EU buyers:\n\t30 days\r\n") == "EU buyers:\n\t30 days\r\n"
    assert check_reason("中文原因 ✓ ‏עברית") == "中文原因 ✓ ‏עברית"  # any language
    with pytest.raises(InvalidFieldError, match=f"reason: at most {MAX_REASON} characters, "
                                                f"not {MAX_REASON + 1}"):
        check_reason("x" * (MAX_REASON + 1))
    for blank in ("", "   ", "\n\t"):
        with pytest.raises(InvalidFieldError, match="reason: say why the book changes"):
            check_reason(blank)
    with pytest.raises(InvalidFieldError, match="not UTF-8 text"):  # a bad command-line byte
        check_reason("why\udc9b")


def test_the_text_check_is_an_invalid_command_naming_the_field() -> None:
    with pytest.raises(InvalidCommandError) as refused:
        check_text("note", "a\x00b", 100)
    assert isinstance(refused.value, InvalidFieldError) and refused.value.code == "invalid"
    assert refused.value.fields == (("note", refused.value.fields[0][1]),)


def existing(kind: str, **fields: Any) -> dict[str, Any]:
    return {"command": kind, "case_id": str(uuid4()), **fields}


@pytest.mark.parametrize("char", ["\u009b", "\u0085", "\u0080", "\u009f", "\x1b", "\x00"])
def test_c1_and_other_controls_are_refused_in_every_free_text_of_the_wire(char: str) -> None:
    """Notes, reasons and messages of commands and inbound events: the schemas' Text."""
    for data, field in (
        (existing("AddComplaintMessage", direction="in", text=f"hi{char}[2J"), "text"),
        (existing("RejectReturn", reason=f"no{char}x"), "reason"),
    ):
        with pytest.raises(InputRefused) as refused:
            command(data)
        assert field in str(refused.value) and f"U+{ord(char):04X}" in str(refused.value)
    cancelled = {"event_id": "e", "event_type": "OrderCancelled", "order_id": "o-1",
                 "occurred_at": "2026-03-02T09:00:00+00:00", "reason": f"x{char}"}
    with pytest.raises(InputRefused, match="reason"):
        inbound(cancelled)
    accepted = command(existing("AddComplaintMessage", direction="in", text="a\tb\nc\r\nd"))
    assert accepted.command == "AddComplaintMessage"


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_a_complaint_message_with_nothing_in_it_is_refused(text: str) -> None:
    """An empty answer (the desk's reply box holding only spaces) would otherwise be recorded
    as the answer that meets the first-response deadline."""
    for direction in ("out", "in"):
        with pytest.raises(InputRefused) as refused:
            command(existing("AddComplaintMessage", direction=direction, text=text))
        assert dict(refused.value.fields).keys() == {"text"}


@pytest.mark.parametrize("char", ["\u009b", "\x1b", "\x85", "\n", "\t"])
def test_a_books_names_refuse_control_characters_but_stored_versions_stay_loadable(
        char: str) -> None:
    for path in ("merchant_name", "support.email"):
        changed = document(**{path: f"Shop{char}1"})
        with pytest.raises(InvalidBookError, match=f"{path}: must not contain .*U\\+"
                                                   f"{ord(char):04X}"):
            validate(changed)
        # a version stored before C1 controls were refused is read back as it was
        assert validate(changed, stored=True).merchant_name is not None


@given(st.text(st.characters(codec="utf-8"), max_size=MAX_MERCHANT_ID + 2))
@CHECKS
@example("uci-online-retail")
@example("a b")
@example("shop/eu#1")
@example("m" * MAX_MERCHANT_ID)
@example("m" * (MAX_MERCHANT_ID + 1))
@example("m1\n")
@example("-m1")
@example("\uff4d1")  # a fullwidth letter m
def test_a_merchant_id_is_exactly_the_published_pattern_up_to_200(text: str) -> None:
    published = (re.search(MERCHANT_ID_PATTERN.replace("$", r"\Z"), text, re.ASCII) is not None
                 and len(text) <= MAX_MERCHANT_ID)
    assert (merchant_id_problem(text) is None) == published, text
    if not published:
        with pytest.raises(InvalidFieldError, match=r"--merchant: .* is not a merchant id"):
            check_merchant_id(text, "--merchant")


@pytest.mark.parametrize("merchant", ["a b", "shop/eu#1", "m?x=1", "m%20", "..", "é", "m\u202e",
                                      "m" * (MAX_MERCHANT_ID + 1)])
def test_an_order_with_a_merchant_id_the_api_cannot_reach_is_refused_at_the_boundary(
        merchant: str) -> None:
    with pytest.raises(InputRefused) as refused:
        inbound(order_placed("o-1", merchant_id=merchant))
    assert "merchant_id" in str(refused.value), refused.value
    assert inbound(order_placed("o-1", merchant_id="shop.eu:1_a-b")).merchant_id == \
        "shop.eu:1_a-b"


def test_the_api_path_takes_the_merchant_id_rule() -> None:
    from api.app import openapi_document  # the document the server publishes

    paths = openapi_document()["paths"]
    merchant_routes = [p for p in paths if "{merchant_id}" in p]
    assert len(merchant_routes) >= 5
    for path in merchant_routes:
        for operation in paths[path].values():
            [parameter] = [p for p in operation["parameters"] if p["name"] == "merchant_id"]
            assert parameter["schema"]["pattern"] == MERCHANT_ID_PATTERN
            assert parameter["schema"]["maxLength"] == MAX_MERCHANT_ID

