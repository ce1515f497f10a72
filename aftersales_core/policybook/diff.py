"""What differs between two versions of a book, field by field (``returns.markets.EU.no_fault:
14 days -> 30 days``). Lists are compared as sets where order carries no meaning."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

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


def _same(path: str, before: Any, after: Any) -> bool:
    unordered = path in SETS or path.endswith((".working_days", ".closed", ".open"))
    if unordered and isinstance(before, list) and isinstance(after, list):
        return sorted(map(str, before)) == sorted(map(str, after))
    return bool(before == after)


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    """Every field added, removed or changed from ``before`` to ``after`` (canonical
    documents), in the order of the fields."""
    old, new = dict(_flatten(before)), dict(_flatten(after))
    paths = list(old) + [p for p in new if p not in old]
    return [Change(p, old.get(p), new.get(p)) for p in paths
            if not _same(p, old.get(p), new.get(p))]
