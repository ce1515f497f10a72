"""A book sent in a request body is checked as a book file is: an object, at most the bytes a
book file may have once encoded (whatever the server's body limit), every setting valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from aftersales_core.errors import InvalidCommandError
from aftersales_core.policybook.documents import MAX_BYTES, InvalidBookError, parse, validate
from api.routes_policy import checked_book

BOOK = Path(__file__).resolve().parents[3] / "demo" / "books" / "uci-online-retail.toml"


def test_a_valid_book_is_the_book_its_file_gives() -> None:
    document = parse(BOOK.read_bytes())
    assert checked_book(document) == validate(document)


@pytest.mark.parametrize("value", [None, [], "book", 1, True])
def test_a_book_is_an_object(value: object) -> None:
    with pytest.raises(InvalidCommandError, match="book: an object"):
        checked_book(value)


def test_a_book_over_the_size_of_a_book_file_is_refused_before_it_is_read() -> None:
    document = parse(BOOK.read_bytes())
    # the size counts UTF-8 bytes as JSON, not characters: "é" is two
    oversized = {**document, "merchant_name": "é" * (MAX_BYTES // 2 + 1)}
    with pytest.raises(InvalidBookError, match=f"over the {MAX_BYTES}"):
        checked_book(oversized)
    near = {**document, "merchant_name": "é" * (MAX_BYTES // 2 - 2000)}
    with pytest.raises(InvalidBookError) as refused:  # under the size: the settings are read
        checked_book(near)
    assert "over the" not in str(refused.value) and "merchant_name" in str(refused.value)
