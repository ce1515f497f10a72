"""Identifiers (schemas/limits.py, schemas/common.py): nothing invisible or blank, no space at
either end, no combining mark first; the same on every path (an upstream event, a command), and
the published JSON Schema pattern refuses exactly what the models refuse."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import pytest

from schemas.boundary import command, read_inbound
from schemas.common import identifier_problem
from schemas.errors import InputRefused
from schemas.limits import IDENT_INVISIBLE, IDENT_MARK, IDENT_PATTERN
from tests.factories import T0, order_placed

JSON = Path(__file__).parents[2] / "schemas" / "json"

REFUSED = {  # what testers found applied, and the escape the message names it by
    "c-\U000e0041": "U+E0041", "c-\ufe0f": "U+FE0F", "c-\u3164": "U+3164", "\u0301": "U+0301",
    "\u00a0": "U+00A0", " ": "a space", "c-1 ": "a space", " c-1": "a space",
    "c-\u200b1": "U+200B", "c\u30001": "U+3000", "c-\U000e0100": "U+E0100", "\u115f": "U+115F",
    "c\u20601": "U+2060", "c-1\x00": "U+0000", "\uffa0": "U+FFA0", "\u20dd": "U+20DD",
}
ACCEPTED = ["c-1", "BANK CHARGES", "Royal Mail", "a\u0301", "顾客-1", "\U0001f600", "x"]


def test_the_invisible_and_blank_characters_are_unicodes_categories_and_the_fillers() -> None:
    blank = {"Cc", "Cf", "Zl", "Zp", "Zs"}
    extra = {0x115F, 0x1160, 0x3164, 0xFFA0, *range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0),
             *range(0xE0000, 0xE0080)}
    for code in range(0x110000):
        char = chr(code)
        category = unicodedata.category(char)
        expected = (category in blank and char != " ") or code in extra
        if category == "Cn" and code in range(0x2060, 0x2070):
            expected = True  # unassigned inside the invisible operators' block: refused too
        if category == "Cs":
            continue  # lone surrogates never reach here (refused as not Unicode text)
        assert bool(IDENT_INVISIBLE.fullmatch(char)) == expected, f"U+{code:04X}"
        assert bool(IDENT_MARK.fullmatch(char)) == (category in {"Mn", "Me"}), f"U+{code:04X}"


@pytest.mark.parametrize(("value", "named"), REFUSED.items())
def test_an_identifier_with_an_invisible_or_blank_character_is_refused_on_every_path(
        value: str, named: str) -> None:
    with pytest.raises(InputRefused) as upstream:
        read_inbound(json.dumps(order_placed("o-1", customer_id=value)).encode())
    with pytest.raises(InputRefused) as commanded:
        command({"command": "RequestReturn", "order_id": value, "reason": "defective",
                 "lines": [{"line_id": "1", "quantity": 1}], "at": T0.isoformat()})
    for refusal, field in ((upstream.value, "customer_id"), (commanded.value, "order_id")):
        said = str(refusal)
        assert field in said and named in said, said
        assert not any(IDENT_INVISIBLE.search(c) or IDENT_MARK.match(c) for c in said
                       if c not in "\n\t"), f"shown raw: {said!r}"


@pytest.mark.parametrize("value", ACCEPTED)
def test_ordinary_identifiers_pass_and_a_command_keeps_them_as_given(value: str) -> None:
    assert identifier_problem(value) is None
    read_inbound(json.dumps(order_placed(value, customer_id=value)).encode())
    body = command({"command": "RequestReturn", "order_id": value, "reason": "defective",
                    "lines": [{"line_id": "1", "quantity": 1}], "at": T0.isoformat()})
    assert body.order_id == value  # type: ignore[union-attr]


def _published(name: str, field: str) -> dict[str, Any]:
    schema = json.loads((JSON / name).read_text(encoding="utf-8"))
    found: dict[str, Any] = schema["properties"][field]
    return found


@pytest.mark.parametrize("value", [*REFUSED, *ACCEPTED])
def test_the_published_pattern_refuses_what_the_models_refuse(value: str) -> None:
    field = _published("inbound/OrderPlaced.schema.json", "customer_id")
    assert field["pattern"] == IDENT_PATTERN
    valid = identifier_problem(value) is None
    assert jsonschema.Draft202012Validator(field).is_valid(value) == valid  # Python's re
    assert jsonschema_rs.validator_for(field).is_valid(value) == valid  # an ECMA 262 engine


def test_the_published_pattern_agrees_with_the_check_for_every_character() -> None:
    published = re.compile(IDENT_PATTERN)
    for code in range(0x110000):
        char = chr(code)
        if unicodedata.category(char) == "Cs" or char == "\n":
            continue  # surrogates are not text; before "\n", Python's $ matches too (not ECMA)
        for value in (char, f"a{char}b", f"{char}b", f"a{char}"):
            assert bool(published.search(value)) == (identifier_problem(value) is None), \
                (f"U+{code:04X}", value)


@pytest.mark.parametrize("value", ["[erased]", "[ERASED]", "[x]", "[]"])
def test_the_erased_marker_or_any_bracketed_word_is_not_a_customer_id(value: str) -> None:
    """Erased rows' customer column reads ``[erased]``: a customer with that id would see them
    all (SPEC §7). Refused on every path, naming the field; the published schema agrees."""
    with pytest.raises(InputRefused, match="customer_id") as upstream:
        read_inbound(json.dumps(order_placed("o-1", customer_id=value)).encode())
    assert "is not a customer id" in str(upstream.value)
    with pytest.raises(InputRefused, match="customer_id"):
        command({"command": "FileComplaint", "customer_id": value, "channel": "email",
                 "category": "damaged", "description": "broken", "at": T0.isoformat()})
    field = _published("inbound/OrderPlaced.schema.json", "customer_id")
    assert not jsonschema.Draft202012Validator(field).is_valid(value)
    assert not jsonschema_rs.validator_for(field).is_valid(value)
    for fine in ("c-[1]", "[c-1", "c-1]"):
        assert jsonschema.Draft202012Validator(field).is_valid(fine)
        read_inbound(json.dumps(order_placed("o-1", customer_id=fine)).encode())


@pytest.mark.parametrize("kind", ["OrderPlaced", "OrderPaid"])
@pytest.mark.parametrize("code", ["EUR", "JPY", "CNY", "XYZ", "AAA", "eur"])
def test_the_published_currency_is_a_code_the_engine_knows(kind: str, code: str) -> None:
    """An upstream validating against the published schema is never told a currency is fine
    that the engine then refuses (and dead-letters): the schema lists the codes it knows."""
    from aftersales_core.money import MINOR_UNITS

    field = _published(f"inbound/{kind}.schema.json", "currency")
    known = code in MINOR_UNITS
    assert jsonschema.Draft202012Validator(field).is_valid(code) == known
    assert jsonschema_rs.validator_for(field).is_valid(code) == known
    message = {**order_placed("o-1"), "currency": code}
    if known:
        read_inbound(json.dumps(message).encode(), "orders")
    else:
        with pytest.raises(InputRefused, match="currency"):
            read_inbound(json.dumps(message).encode(), "orders")
