"""Book documents for tests: the built-in one with fields changed by dotted path."""

from __future__ import annotations

import copy
from typing import Any

from aftersales_core.policybook.builtin import builtin_document
from aftersales_core.policybook.documents import validate
from aftersales_core.policybook.model import Book

DELETE = object()


def document(**changes: Any) -> dict[str, Any]:
    """``document(**{"returns.markets.EU.no_fault": "30 days"})``; DELETE removes a key."""
    doc = copy.deepcopy(builtin_document())
    for path, value in changes.items():
        *parents, last = path.split(".")
        node = doc
        for part in parents:
            node = node.setdefault(part, {})
        if value is DELETE:
            node.pop(last, None)
        else:
            node[last] = value
    return doc


def book(**changes: Any) -> Book:
    return validate(document(**changes))
