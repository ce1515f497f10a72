"""Canonical JSON and hashes: of a whole book (each stored version names its hash) and of the
settings one policy version took from it (each decision names that hash, and a re-run checks
it before it trusts the book's settings)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import orjson

from aftersales_core.policies.periods import Length


def plain(value: Any) -> Any:
    """A JSON value for settings: dataclasses as objects, sets sorted, decimals as text."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Length):
        return str(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((plain(v) for v in value), key=lambda v: orjson.dumps(v))
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    raise TypeError(f"settings hold a {type(value).__name__}, which has no canonical form")


def canonical_bytes(value: Any) -> bytes:
    return orjson.dumps(plain(value), option=orjson.OPT_SORT_KEYS)


def digest(value: Any) -> str:
    return "sha256:" + hashlib.sha256(canonical_bytes(value)).hexdigest()
