"""Book documents: read from TOML or JSON text, validated, and written back as TOML.

Errors name every bad field by its path (``returns.markets.EU.no_fault``). JSON with the same
key twice is refused (which one would count?); TOML refuses it by itself. A book is at most
``MAX_BYTES`` of UTF-8.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from datetime import date
from typing import Any, Literal

from pydantic import ValidationError

from aftersales_core.errors import DomainError, InvalidCommandError
from aftersales_core.policybook.fields import STORED
from aftersales_core.policybook.floors import Problem, check_law
from aftersales_core.policybook.model import Book
from aftersales_core.text import shown_visibly

MAX_BYTES = 256 * 1024
NAME_LIMIT = 40  # characters of a key the author chose said back (as schemas/errors.py does)
Kind = Literal["toml", "json"]


class InvalidBookError(InvalidCommandError):
    """The document is not a valid book: the message names every bad field, and ``fields``
    lists each as (its path in the book, what is wrong) when the settings are what is wrong
    (the service API's problem document lists them)."""

    def __init__(self, message: str, fields: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message)
        self.fields = fields

    def within(self, field: str) -> InvalidBookError:
        """The same refusal of a book sent as ``field`` of a larger document: each bad
        setting's path starts with it (``book.returns.ship_back``)."""
        return InvalidBookError(str(self), tuple((f"{field}.{path}", problem)
                                                 for path, problem in self.fields))


class UnlawfulBookError(DomainError):
    """A valid book that falls short of the law: refused, naming each rule."""

    code = "unlawful_book"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        listed = "; ".join(p.message for p in problems)
        super().__init__(f"the book is refused: it falls short of the law in {len(problems)} "
                         f"place{'s' if len(problems) != 1 else ''}: {listed}")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise InvalidBookError(f"the key {key!r} appears twice in one object")
        seen[key] = value
    return seen


def _no_constant(name: str) -> Any:
    raise InvalidBookError(f"{name} is not a JSON number")


def parse(data: bytes, kind: Kind | None = None) -> dict[str, Any]:
    """The document as plain data; ``kind`` from the caller (a file's suffix) or the text."""
    if len(data) > MAX_BYTES:
        raise InvalidBookError(f"the book is {len(data)} bytes, over the {MAX_BYTES} allowed")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidBookError(f"the book is not UTF-8 text: {error}") from None
    if "\x00" in text:
        raise InvalidBookError("the book contains a NUL character")
    if kind is None:
        kind = "json" if text.lstrip().startswith("{") else "toml"
    try:
        if kind == "json":
            value = json.loads(text, object_pairs_hook=_no_duplicates,
                               parse_constant=_no_constant)
        else:
            value = tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as error:
        raise InvalidBookError(f"the book is not valid {kind.upper()}: {error}") from None
    except RecursionError:
        raise InvalidBookError("the book nests too deeply") from None
    if not isinstance(value, dict):
        raise InvalidBookError("a book is one object (a TOML document or a JSON object)")
    return value


def _name(part: int | str) -> str:
    """One step of a path as a message may say it: a key the author chose (an unknown
    setting, a market) cut to ``NAME_LIMIT`` characters, invisible characters escaped."""
    if isinstance(part, int):
        return str(part)
    return shown_visibly(part[:NAME_LIMIT]) + ("…" if len(part) > NAME_LIMIT else "")


def _path(location: tuple[int | str, ...]) -> str:
    """``returns.markets.UK``: a bad key is named by its place (pydantic adds ``[key]``)."""
    return ".".join(_name(part) for part in location if part != "[key]") or "the book"


def problems(error: ValidationError) -> tuple[tuple[str, str], ...]:
    """Each bad setting as (its path, what is wrong)."""
    return tuple((_path(tuple(item["loc"])), str(item["msg"]).removeprefix("Value error, "))
                 for item in error.errors(include_url=False))


def validate(document: Mapping[str, Any], stored: bool = False) -> Book:
    """The book the document describes; InvalidBookError naming every bad field. ``stored``:
    a version read back from the store, whose text is not refused after the fact by rules
    made stricter since it was set."""
    try:
        return Book.model_validate(document, context={STORED: stored})
    except ValidationError as error:
        fields = problems(error)
        listed = "; ".join(f"{path}: {problem}" for path, problem in fields)
        raise InvalidBookError(f"the book is invalid: {listed}", fields) from None


def lawful(book: Book) -> Book:
    """The book, when it keeps every statutory minimum; else UnlawfulBookError."""
    problems = check_law(book)
    if problems:
        raise UnlawfulBookError(problems)
    return book


def read_book(data: bytes, kind: Kind | None = None) -> Book:
    """Parse, validate and check a proposed book against the law."""
    return lawful(validate(parse(data, kind)))


def canonical_document(book: Book) -> dict[str, Any]:
    """The stored form: plain JSON values, decimals and periods as text, defaults filled."""
    return book.model_dump(mode="json")


# ---- writing TOML (the form people edit) ------------------------------------------------
_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(key: str) -> str:
    return key if _BARE.match(key) else json.dumps(key, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML for {type(value).__name__}")


def _is_table(value: Any) -> bool:
    return (isinstance(value, dict) and any(isinstance(v, dict) for v in value.values())) \
        or (isinstance(value, dict) and len(value) > 3)


def to_toml(document: Mapping[str, Any]) -> str:
    """A document as TOML: sections as tables, small objects inline; nulls left out."""
    lines: list[str] = []

    def table(path: list[str], values: Mapping[str, Any]) -> None:
        def nests(value: Any) -> bool:  # every section of the book is a table of its own
            return _is_table(value) or (not path and isinstance(value, dict))

        simple = [(k, v) for k, v in values.items() if v is not None and v != {}
                  and not nests(v)]
        nested = [(k, v) for k, v in values.items() if v is not None and v != {} and nests(v)]
        if path and (simple or not nested):
            lines.append("")
            lines.append(f"[{'.'.join(_key(p) for p in path)}]")
        lines.extend(f"{_key(k)} = {_value(_clean(v))}" for k, v in simple)
        for key, value in nested:
            table([*path, key], value)

    table([], document)
    return "\n".join(lines).lstrip("\n") + "\n"


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None and v != {}}
    return value
