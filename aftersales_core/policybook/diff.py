"""What differs between two versions of a book, field by field (``returns.markets.EU.no_fault:
14 days -> 30 days``). Lists are compared as sets where order carries no meaning, amounts and
rates by value ("500" and "500.00" are one threshold, as "0500" is); a book that differs in
nothing here is the same book (``policy set`` refuses it as unchanged)."""

from __future__ import annotations

import re
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

SETS = {"currencies", "returns.excluded_categories", "restocking.grades",
        "calendars.default.working_days", "calendars.default.closed", "calendars.default.open"}


@dataclass(frozen=True)
class Change:
    path: str
    before: Any  # None: not set
    after: Any

    @property
    def kind(self) -> str:
        if self.before is None:
            return "added"
        return "removed" if self.after is None else "changed"

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "change": self.kind, "before": self.before,
                "after": self.after}


def _flatten(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            yield from _flatten(item, f"{path}.{key}" if path else str(key))
    elif value is not None and value != {}:
        yield path, value


def _decimal_fields(annotation: Any, path: str) -> Iterator[str]:
    """The paths of the decimal fields (amounts, rates) under a type of the book's model,
    ``*`` standing for a map's key."""
    if annotation is Decimal:
        yield path
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, info in annotation.model_fields.items():
            yield from _decimal_fields(info.annotation, f"{path}.{name}" if path else name)
    elif get_origin(annotation) is dict:
        yield from _decimal_fields(get_args(annotation)[1], f"{path}.*")
    elif get_origin(annotation) in (Union, types.UnionType):
        for option in get_args(annotation):
            yield from _decimal_fields(option, path)
    elif get_args(annotation) and get_origin(annotation) is not list:
        yield from _decimal_fields(get_args(annotation)[0], path)  # Annotated[Decimal, …]


@cache
def _decimal_paths() -> re.Pattern[str]:
    from aftersales_core.policybook.model import Book
    patterns = (re.escape(p).replace(r"\*", r"[^.]+") for p in _decimal_fields(Book, ""))
    return re.compile("|".join(patterns))


def _number(value: Any) -> Decimal | None:
    try:
        return Decimal(value) if isinstance(value, str) else None
    except InvalidOperation:
        return None


def _same(path: str, before: Any, after: Any) -> bool:
    unordered = path in SETS or path.endswith((".working_days", ".closed", ".open"))
    if unordered and isinstance(before, list) and isinstance(after, list):
        return sorted(map(str, before)) == sorted(map(str, after))
    if before != after and _decimal_paths().fullmatch(path):
        old, new = _number(before), _number(after)
        return old is not None and old == new
    return bool(before == after)


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    """Every field added, removed or changed from ``before`` to ``after`` (canonical
    documents), in the order of the fields."""
    old, new = dict(_flatten(before)), dict(_flatten(after))
    paths = list(old) + [p for p in new if p not in old]
    return [Change(p, old.get(p), new.get(p)) for p in paths
            if not _same(p, old.get(p), new.get(p))]
