"""What the validation boundary says names the real place of each problem: the type field a
document lacks or misnames (``command``, ``event_type``), ``(document)`` for the whole of it,
never a placeholder; markets are assigned ISO 3166-1 codes; one line of JSON lines is one
document, however broken."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from schemas.boundary import read_command, read_inbound
from schemas.errors import InputRefused
from schemas.json_stream import documents
from schemas.markets import MARKETS
from tests.factories import order_placed


def refusal(reader: Any, body: object) -> InputRefused:
    with pytest.raises(InputRefused) as caught:
        reader(json.dumps(body).encode())
    assert caught.value.kind == "invalid", caught.value
    return caught.value


@pytest.mark.parametrize(("reader", "field"), [(read_command, "command"),
                                               (read_inbound, "event_type")])
def test_a_document_without_its_type_names_the_type_field(reader: Any, field: str) -> None:
    problem = refusal(reader, {"order_id": "o-1"})
    assert problem.fields == ((field, "Field required"),)
    assert str(problem) == f"{field}: Field required"


def test_an_unknown_type_names_the_field_and_the_known_ones() -> None:
    problem = refusal(read_command, {"command": "DropTables"})
    (field, said), = problem.fields
    assert field == "command"
    assert said.startswith("unknown command: expected one of 'RequestReturn', ")


@pytest.mark.parametrize("body", [[1, 2], "text", 5, None])
def test_a_document_that_is_no_object_is_said_to_be_the_document(body: object) -> None:
    for reader in (read_command, read_inbound):
        problem = refusal(reader, body)
        assert "(message)" not in str(problem)
        assert problem.fields[0][0] in ("(document)", "command", "event_type"), problem.fields


def test_a_problem_of_the_whole_order_is_the_documents() -> None:
    problem = refusal(read_inbound, {**order_placed("o-1"), "total": "1.00"})
    assert problem.fields[0][0] == "(document)" and "is not the sum" in problem.fields[0][1]


@pytest.mark.parametrize("market", ["XX", "ZZ", "EU", "UK", "de", "D", "DEU", "", "ÄÖ"])
def test_a_market_nobody_assigned_is_refused_naming_what_is_allowed(market: str) -> None:
    problem = refusal(read_inbound, {**order_placed("o-1"), "market": market})
    (field, said), = problem.fields
    assert field == "market"
    if len(market) == 2 and market.isascii() and market.isupper():
        assert said.startswith(f"{market!r} is not a market")
        assert "assigned ISO 3166-1 alpha-2" in said and "CN, GB, US" in said


@pytest.mark.parametrize("market", ["CN", "GB", "US", "DE", "BR", "JP", "JE", "AX"])
def test_assigned_markets_pass(market: str) -> None:
    read_inbound(json.dumps({**order_placed("o-1"), "market": market}).encode())


def test_the_markets_are_tzdatas_iso_3166_table() -> None:
    system = Path("/usr/share/zoneinfo/iso3166.tab")
    if system.exists():  # the system's tzdata, when there is one, agrees
        listed = {row.split("\t")[0] for row in system.read_text().splitlines()
                  if row and not row.startswith("#")}
        assert listed == MARKETS
    assert len(MARKETS) == 249 and {"XX", "ZZ", "EU", "UK"}.isdisjoint(MARKETS)


@pytest.mark.parametrize("data", [b'{"a": 1} xx\n{"b": 2}\n', b'{"a": 1}}\n{"b": 2}\n',
                                  b'5 6\n{"b": 2}\n', b'"s" "t"\n{"b": 2}\n'])
def test_a_broken_json_line_is_one_document(data: bytes) -> None:
    found = list(documents(io.BytesIO(data)))
    assert [d.line for d in found] == [1, 2]
    assert found[1].raw == b'{"b": 2}'


def test_a_json_line_keeps_its_trailing_spaces_and_carriage_return() -> None:
    found = list(documents(io.BytesIO(b'{"a": 1}  \r\n{"b": 2}\r\n')))
    assert [json.loads(d.raw or b"") for d in found] == [{"a": 1}, {"b": 2}]
