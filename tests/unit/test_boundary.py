"""The validation boundary (schemas/boundary.py): every input issue 9 found is refused with a
clear error naming what is wrong, the published JSON Schemas are the grammar (what they allow
passes), and nothing but InputRefused ever comes out of it."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from schemas.boundary import command, encoded_size, inbound, read_command, read_inbound
from schemas.commands import COMMAND
from schemas.common import _decimal_string
from schemas.errors import InputRefused
from schemas.inbound import ANY_INBOUND
from schemas.limits import (
    AMOUNT_PATTERN,
    IDENT_PATTERN,
    MAX_DEPTH,
    MAX_ENCODED_BYTES,
    MAX_MESSAGE_BYTES,
    TEXT_PATTERN,
)
from tests.factories import T0, order_placed, shipment
from tests.schema_strategies import BAD_AMOUNTS, instances, mutated, schema, upstream

CHECKS = settings(max_examples=150, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def refused(raw: bytes | dict[str, Any], kind: str, *words: str) -> InputRefused:
    data = raw if isinstance(raw, bytes) else json.dumps(raw).encode()
    with pytest.raises(InputRefused) as caught:
        read_inbound(data)
    assert caught.value.kind == kind, caught.value
    for word in words:
        assert word in str(caught.value), caught.value
    return caught.value


def with_line(**changes: Any) -> dict[str, Any]:
    line = {"line_id": "1", "sku": "MUG-1", "category": "home", "quantity": 1,
            "unit_price": "10.00"} | changes
    return order_placed("o-1", lines=[line]) if "unit_price" not in changes else {
        **order_placed("o-1"), "lines": [line]}


def test_an_overflowing_unit_price_is_refused_not_a_crash() -> None:
    refused(with_line(unit_price="9e999999"), "invalid", "lines.0.unit_price",
            "not an amount")


def test_amounts_whose_sum_leaves_the_supported_magnitude_are_refused_by_the_total() -> None:
    message = with_line(unit_price="999999999999.99", quantity=100_000)
    refused(message, "invalid", "total")


@pytest.mark.parametrize("moment", ["9999-12-31T23:00:00-14:00", "0001-01-01T00:00:00+14:00",
                                    "1969-12-31T23:59:59+00:00", "2200-01-01T00:00:00+00:00",
                                    "2199-12-31T23:59:59-00:01"])
def test_times_outside_the_supported_range_are_refused(moment: str) -> None:
    refused(order_placed("o-1") | {"occurred_at": moment}, "invalid", "occurred_at",
            "outside the supported range")


@pytest.mark.parametrize("moment", ["1970-01-01T00:00:00+00:00", "2199-12-31T23:59:59+00:00",
                                    "2199-12-31T23:59:59.999999+00:00",
                                    "1970-01-01T13:59:59-14:00"])
def test_times_at_the_edges_of_the_range_are_accepted(moment: str) -> None:
    assert read_inbound(orjson.dumps(order_placed("o-1") | {"occurred_at": moment}))


def test_times_are_strings_not_numbers_of_seconds() -> None:
    refused(order_placed("o-1") | {"occurred_at": 1772442000}, "invalid", "RFC 3339")


@pytest.mark.parametrize("moment", ["1764590000", "1764590000000", "0", "1764590000.5",
                                    "2026-12-01 10:00:00+00:00", "2026-12-01T10:00+00:00",
                                    "2026-12-01T10:00:00+0000", "2026-12-01T10:00:00Z\n"])
def test_times_are_rfc_3339_text_not_numeric_strings_guessed_as_seconds(moment: str) -> None:
    refused(order_placed("o-1") | {"occurred_at": moment}, "invalid", "occurred_at",
            "RFC 3339")
    close = {"command": "CloseReturn", "case_id": "11111111-2222-3333-4444-555555555555",
             "at": moment}
    with pytest.raises(InputRefused) as caught:
        command(close)
    assert caught.value.kind == "invalid" and "at: " in str(caught.value), caught.value


@pytest.mark.parametrize("moment", ["2026-12-01T10:00:00Z", "2026-12-01t10:00:00z",
                                    "2026-12-01T10:00:00+05:30", "2026-12-01T10:00:00-00:00",
                                    "2026-12-01T10:00:00.5Z", "2026-12-01T10:00:00.123456+01:00",
                                    "2026-12-01T10:00:00.1234567891Z"])
def test_rfc_3339_times_pass_with_z_offsets_and_fractions(moment: str) -> None:
    assert read_inbound(orjson.dumps(order_placed("o-1") | {"occurred_at": moment}))
    assert command({"command": "CloseReturn", "at": moment,
                    "case_id": "11111111-2222-3333-4444-555555555555"})


@pytest.mark.parametrize("moment", ["2016-12-31T23:59:60Z", "2026-06-30T23:59:60+00:00"])
def test_a_leap_second_is_refused_as_one(moment: str) -> None:
    """RFC 3339 writes a leap second as :60; the reason said "unexpected extra characters"."""
    refused(order_placed("o-1") | {"occurred_at": moment}, "invalid", "occurred_at",
            "leap second")


CASE = "11111111-2222-3333-4444-555555555555"


@pytest.mark.parametrize("body", [
    {"command": "CloseComplaint", "case_id": CASE, "satisfaction": True},
    {"command": "CloseComplaint", "case_id": CASE, "satisfaction": "4"},
    {"command": "CloseComplaint", "case_id": CASE, "satisfaction": 4.0},
    {"command": "RequestReturn", "order_id": "o-1", "reason": "defective",
     "lines": [{"line_id": "1", "quantity": True}]},
    {"command": "RequestReturn", "order_id": "o-1", "reason": "defective",
     "lines": [{"line_id": "1", "quantity": 1}], "goods_intact": "yes"},
    {"command": "AddComplaintMessage", "case_id": CASE, "direction": "in", "text": "t",
     "awaiting_customer": "off"},
    {"command": "RespondToProposal", "case_id": CASE, "accepted": 1},
], ids=["satisfaction-true", "satisfaction-str", "satisfaction-float", "quantity-true",
        "goods_intact-yes", "awaiting_customer-off", "accepted-1"])
def test_integers_and_booleans_are_taken_as_json_types_not_coerced(
        body: dict[str, Any]) -> None:
    with pytest.raises(InputRefused) as caught:
        command(body)
    assert caught.value.kind == "invalid", caught.value
    assert "valid integer" in str(caught.value) or "valid boolean" in str(caught.value)


@pytest.mark.parametrize("quantity", [True, "1", 1.0])
def test_an_order_lines_quantity_is_a_json_integer(quantity: object) -> None:
    message = order_placed("o-1")
    message["lines"][0]["quantity"] = quantity
    refused(message, "invalid", "lines.0.quantity", "valid integer")
    refused(order_placed("o-1") | {"buyer_informed_of_return_cost": "yes"}, "invalid",
            "buyer_informed_of_return_cost", "valid boolean")


def _lax_scalars(node: object, path: str = "") -> list[str]:
    """Paths of integer and boolean validators in a pydantic core schema that coerce."""
    found = []
    if isinstance(node, dict):
        if node.get("type") in ("int", "bool") and not node.get("strict"):
            found.append(path)
        for key, value in node.items():
            found += _lax_scalars(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _lax_scalars(value, f"{path}/{i}")
    return found


@pytest.mark.parametrize("adapter", [COMMAND, ANY_INBOUND], ids=["commands", "inbound"])
def test_every_integer_and_boolean_of_the_wire_models_is_strict(adapter: TypeAdapter[Any]
                                                                ) -> None:
    assert _lax_scalars(adapter.core_schema) == []


@pytest.mark.parametrize("field", ["sku", "line_id", "category"])
@pytest.mark.parametrize("character", ["\x00", "\x1b", "\u202e", "\u2028", "\x7f", "\x9b"])
def test_identifiers_refuse_nul_and_other_control_characters(field: str, character: str) -> None:
    refused(with_line(**{field: f"MUG{character}"}), "invalid", f"lines.0.{field}",
            f"U+{ord(character):04X}")


def test_a_customer_id_with_nul_is_refused() -> None:
    refused(order_placed("o-1", customer_id="c\x00-1"), "invalid", "customer_id")


def test_free_text_keeps_line_breaks_but_refuses_nul() -> None:
    ok = shipment("o-1", "Damaged", T0) | {"detail": "box\ncrushed\t!"}
    assert read_inbound(orjson.dumps(ok), "shipments")
    refused(ok | {"detail": "box\x00"}, "invalid", "detail", "U+0000")


def test_an_unknown_fields_long_name_is_said_back_cut_short() -> None:
    long = "k" * 4200
    with pytest.raises(InputRefused) as caught:
        command({"command": "CloseReturn", "case_id": CASE, long: 1})
    assert caught.value.fields == (("k" * 40 + "…", "Extra inputs are not permitted"),)
    assert len(str(caught.value)) < 200, str(caught.value)
    with pytest.raises(InputRefused) as caught:
        command({"command": "CloseReturn", "case_id": CASE, "a\x1b[31m": 1})
    assert caught.value.fields[0][0] == "a\\x1b[31m"


def test_duplicate_keys_are_refused_at_any_depth() -> None:
    refused(b'{"event_type":"OrderPaid","currency":"EUR","currency":"USD"}', "duplicate_key",
            "'currency'")
    refused(b'{"lines":[{"sku":"a","sku":"b"}]}', "duplicate_key", "'sku'")
    with pytest.raises(InputRefused) as caught:
        read_command(b'{"command":"CloseReturn","command":"ApproveRefund"}')
    assert caught.value.kind == "duplicate_key"


@pytest.mark.parametrize("amount", ["2_0.00", "1e3", " 1.00", "١٢", "+1", ".5", "5.",
                                    "1000000000000", "0.0000001", "NaN", "Infinity"])
def test_one_grammar_for_amounts_the_published_schemas(amount: str) -> None:
    refused(with_line(unit_price=amount), "invalid", "lines.0.unit_price")


def test_negative_amounts_say_so() -> None:
    refused(with_line(unit_price="-1.00"), "invalid", "must not be negative")


@given(st.one_of(st.text(alphabet="0123456789._-+e \u0661", max_size=22),
                 st.from_regex(AMOUNT_PATTERN, fullmatch=True), st.sampled_from(
                     [a for a in BAD_AMOUNTS if isinstance(a, str)])))
@CHECKS
@example("0")
@example("999999999999.999999")
@example("1\n")
def test_the_amount_check_is_exactly_the_published_pattern(text: str) -> None:
    published = re.search(AMOUNT_PATTERN.replace("$", r"\Z"), text, re.ASCII) is not None
    try:
        value = _decimal_string(text)
    except ValueError:
        assert not published, text
        return
    assert published, text
    assert value == Decimal(text)


@given(st.text(max_size=12))
@CHECKS
def test_identifier_and_text_checks_are_the_published_patterns(text: str) -> None:
    for pattern, field in ((IDENT_PATTERN, "customer_id"), (TEXT_PATTERN, "reason")):
        published = bool(text) and re.search(pattern.replace("$", r"\Z"), text) is not None
        message = (order_placed("o-1", customer_id=text) if field == "customer_id" else
                   {"event_id": "e", "event_type": "OrderCancelled", "order_id": "o-1",
                    "occurred_at": "2026-03-02T09:00:00+00:00", "reason": text})
        try:
            inbound(message)
            accepted = True
        except InputRefused:
            accepted = False
        assert accepted == (published or (field == "reason" and text == "")), (field, text)


def test_deep_nesting_is_refused_not_a_crash() -> None:
    nested: Any = 1
    for _ in range(MAX_DEPTH):
        nested = [nested]
    assert read_inbound(orjson.dumps(order_placed("o-1", meta=nested[0])))
    refused(orjson.dumps(order_placed("o-1", meta=nested)), "too_deep")
    refused(b"[" * 300 + b"]" * 300, "too_deep")
    refused(b"[" * 100_000, "too_deep")


def test_size_is_measured_as_received_and_once_encoded_for_storage() -> None:
    message = order_placed("o-1")
    base = len(orjson.dumps(message | {"note": ""}))
    at_limit = orjson.dumps(message | {"note": "x" * (MAX_MESSAGE_BYTES - base)})
    assert len(at_limit) == MAX_MESSAGE_BYTES and read_inbound(at_limit)
    refused(orjson.dumps(message | {"note": "x" * (MAX_MESSAGE_BYTES - base + 1)}),
            "oversized", f"over the limit of {MAX_MESSAGE_BYTES}")
    quotes = orjson.dumps(message | {"note": '"' * ((MAX_MESSAGE_BYTES - base) // 2)})
    assert len(quotes) <= MAX_MESSAGE_BYTES  # fits as sent, not once escaped again
    refused(quotes, "oversized", "once encoded")
    half = orjson.dumps(message | {"note": '"' * ((MAX_MESSAGE_BYTES - base) // 4)})
    assert encoded_size(read_inbound(half)) <= MAX_ENCODED_BYTES


def test_numbers_no_other_tool_reads_back_the_same_are_refused() -> None:
    refused(b'{"x": 1e999}', "out_of_range")
    refused(b'{"x": 123456789012345678901234567890}', "out_of_range")
    refused(b'{"x": NaN}', "not_json")
    refused(b'{"x": -Infinity}', "not_json")
    placed = order_placed("o-1")
    placed["lines"][0]["quantity"] = 10**30
    refused(placed, "out_of_range")


def test_text_that_is_not_unicode_is_refused() -> None:
    refused(b'{"x": "\\ud800"}', "not_json", "surrogate")
    refused(b"\xef\xbb\xbf{}", "not_json", "byte order mark")
    refused(b'{"x": "\xff"}', "not_json", "UTF-8")
    assert read_inbound(orjson.dumps(order_placed("o-1", emoji="\U0001f600 \u00e9")))
    refused(b'{"event_type":"OrderPaid","x":"\\ud83d\\ude00"}', "invalid")  # a pair is fine


def test_line_ids_are_unique_within_an_order() -> None:
    placed = order_placed("o-1")
    placed["lines"][1]["line_id"] = placed["lines"][0]["line_id"]
    refused(placed, "invalid", "appears on two lines")


@given(st.data())
@CHECKS
def test_what_the_published_inbound_schemas_allow_passes_the_boundary(data: st.DataObject
                                                                       ) -> None:
    message = data.draw(upstream(["o-1", "o-2"]))
    if message.get("event_type") == "OrderPlaced" and Decimal(message["total"]) >= 10**12:
        return  # the lines add up to more than the supported magnitude: refused, correctly
    read_inbound(orjson.dumps(message))


@given(st.data())
@CHECKS
def test_what_the_published_command_schema_allows_passes_the_boundary(data: st.DataObject
                                                                       ) -> None:
    message = data.draw(instances(schema("commands/command")))
    try:
        command(message)
    except InputRefused as error:
        # the one difference: commands strip surrounding spaces before checking lengths
        assert "at least 1 character" in str(error), error
        assert any(isinstance(v, str) and v and not v.strip() for v in _strings(message))


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


@given(st.data())
@CHECKS
def test_mutated_messages_are_either_accepted_or_refused_with_a_reason(data: st.DataObject
                                                                      ) -> None:
    raw = data.draw(mutated(data.draw(upstream(["o-1"]))))
    try:
        message = read_inbound(raw)
    except InputRefused as error:
        assert error.kind in {"oversized", "not_json", "too_deep", "duplicate_key",
                              "out_of_range", "invalid", "wrong_topic"}
        assert str(error)
        return
    assert len(raw) <= MAX_MESSAGE_BYTES and encoded_size(message) <= MAX_ENCODED_BYTES
    json.loads(raw)  # it was JSON
