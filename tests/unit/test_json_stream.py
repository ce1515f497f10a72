"""The streamed document splitter (schemas/json_stream.py) and the strict JSON reader: the same
documents whatever the shape of the input and wherever the read chunks end; oversized documents
are measured and reported, never held."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.errors import InputRefused
from schemas.json_stream import documents
from schemas.strict_json import loads

values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6)
    | st.text(alphabet=st.characters(codec="utf-8"), max_size=8),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
objects = st.dictionaries(st.text(max_size=6), values, min_size=1, max_size=4)


def split(data: bytes, chunk: int, limit: int = 10_000) -> list[tuple[int, Any]]:
    out = []
    for document in documents(io.BytesIO(data), max_bytes=limit, chunk=chunk):
        assert document.raw is not None, document
        out.append((document.line, json.loads(document.raw)))
    return out


@given(st.lists(objects, min_size=1, max_size=5), st.integers(1, 40))
@settings(max_examples=200, deadline=None)
def test_json_lines_give_each_line_with_its_number(docs: list[Any], chunk: int) -> None:
    data = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs).encode()
    assert split(data, chunk) == list(enumerate(docs, start=1))


@given(st.lists(objects, min_size=1, max_size=4), st.integers(1, 40))
@settings(max_examples=200, deadline=None)
def test_pretty_printed_documents_one_after_another(docs: list[Any], chunk: int) -> None:
    texts = [json.dumps(d, indent=2, ensure_ascii=False) for d in docs]
    data = ("\n".join(texts) + "\n").encode()
    lines, expected = 1, []
    for doc, text in zip(docs, texts, strict=True):
        expected.append((lines, doc))
        lines += text.count("\n") + 1
    assert split(data, chunk) == expected


@given(st.lists(values, max_size=5), st.integers(1, 40), st.booleans())
@settings(max_examples=200, deadline=None)
def test_an_array_gives_its_elements(docs: list[Any], chunk: int, pretty: bool) -> None:
    data = json.dumps(docs, indent=2 if pretty else None, ensure_ascii=False).encode()
    assert [value for _, value in split(data, chunk)] == docs


def test_a_broken_line_is_one_bad_document_and_the_rest_still_count() -> None:
    data = b'{not json\n{"b": 2}\n{"c": 3}\n'
    found = [(d.line, d.raw) for d in documents(io.BytesIO(data), chunk=4)]
    assert found == [(1, b"{not json"), (2, b'{"b": 2}'), (3, b'{"c": 3}')]


@pytest.mark.parametrize("chunk", [1, 7, 64 * 1024])
def test_an_oversized_document_is_measured_and_skipped(chunk: int) -> None:
    big = b'{"pad": "' + b"x" * 5000 + b'"}'
    data = b'{"a": 1}\n' + big + b'\n{"b": 2}\n'
    found = list(documents(io.BytesIO(data), max_bytes=1000, chunk=chunk))
    assert [(d.line, d.raw) for d in found] == [(1, b'{"a": 1}'), (2, None), (3, b'{"b": 2}')]
    assert found[1].kind == "oversized" and f"{len(big)} bytes" in (found[1].error or "")


def test_a_pretty_printed_document_over_the_limit_is_refused() -> None:
    data = json.dumps({"pad": ["x" * 100] * 200}, indent=2).encode()
    [document] = documents(io.BytesIO(data), max_bytes=1000, chunk=333)
    assert document.kind == "oversized"


def test_a_malformed_array_reports_and_goes_on() -> None:
    found = list(documents(io.BytesIO(b'[{"a": 1} {"b": 2}, {"c": 3}]')))
    assert found[0].raw == b'{"a": 1}' and found[1].kind == "not_json"
    assert found[-1].raw == b'{"c": 3}'
    assert list(documents(io.BytesIO(b'[{"a": 1},')))[-1].kind == "not_json"


@pytest.mark.parametrize("cut", [b'{"b": "tru', b'{"b": [1, 2', b'"tru', b"12", b"tru"])
@pytest.mark.parametrize("chunk", [1, 7, 64 * 1024])
def test_an_array_cut_off_inside_its_last_element_is_reported_once(cut: bytes, chunk: int
                                                                   ) -> None:
    found = list(documents(io.BytesIO(b'[{"a": 1},\n' + cut), chunk=chunk))
    assert [(d.line, d.raw) for d in found[:1]] == [(1, b'{"a": 1}')]
    assert [(d.line, d.kind, d.error) for d in found[1:]] == [
        (2, "not_json", "not JSON: the array is not closed (the input ends inside this "
                        "element)")]


def test_an_array_not_closed_after_a_whole_element_keeps_the_element() -> None:
    found = list(documents(io.BytesIO(b'[{"a": 1}, {"b": 2}\n')))
    assert [d.raw for d in found[:2]] == [b'{"a": 1}', b'{"b": 2}']
    assert [(d.line, d.error) for d in found[2:]] == [(2, "not JSON: the array is not closed")]


@pytest.mark.parametrize(("raw", "said"), [
    (b'{"a": "x', "not JSON: Unterminated string starting at line 1 column 7"),
    (b'{"a": "x\x01"}', "not JSON: Invalid control character at line 1 column 9"),
    (b'{"a" 1}', "not JSON: Expecting ':' delimiter at line 1 column 6"),
])
def test_json_errors_say_where_once(raw: bytes, said: str) -> None:
    with pytest.raises(InputRefused) as caught:
        loads(raw)
    assert str(caught.value) == said


def test_an_empty_input_has_no_documents() -> None:
    assert list(documents(io.BytesIO(b" \n\t\n"))) == []


@given(values)
def test_the_strict_reader_reads_what_json_writes(value: Any) -> None:
    assert loads(json.dumps(value)) == value


@pytest.mark.parametrize(("raw", "kind"), [
    (b'{"a": 1, "a": 1}', "duplicate_key"), (b'[{"a": {"b": 1, "b": 2}}]', "duplicate_key"),
    (b"NaN", "not_json"), (b"[Infinity]", "not_json"), (b"1e400", "out_of_range"),
    (b"18446744073709551616", "out_of_range"), (b"-9223372036854775809", "out_of_range"),
    (b'"\\udc00"', "not_json"), (b"\xc3\x28", "not_json"), (b"{", "not_json"),
    (b"[" * 33 + b"]" * 33, "too_deep"), (b"1" * 5000, "out_of_range"),
])
def test_the_strict_reader_refuses(raw: bytes, kind: str) -> None:
    with pytest.raises(InputRefused) as caught:
        loads(raw)
    assert caught.value.kind == kind


def test_the_strict_reader_keeps_the_edges() -> None:
    assert loads(b"18446744073709551615") == 2**64 - 1
    assert loads(b"-9223372036854775808") == -(2**63)
    assert loads(b"[" * 32 + b"]" * 32)
    assert loads(b'"\\ud83d\\ude00"') == "\U0001f600"
