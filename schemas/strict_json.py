"""The strict JSON reader every inbound path shares.

Plain JSON parsers accept what a careful service must not: a repeated key (the last one wins,
so `"currency"` can mean two things to two readers), lone UTF-16 surrogates (no database or
UTF-8 encoder can keep them), numbers no other tool reads back the same (1e999, 40-digit
integers), NaN and Infinity, nesting deep enough to exhaust a stack, and any size. This reader
refuses each with an :class:`InputRefused` naming the problem."""

from __future__ import annotations

import json
import re
from typing import Any

from schemas.common import shown
from schemas.errors import InputRefused
from schemas.limits import MAX_DEPTH, MAX_INTEGER, MAX_MESSAGE_BYTES, MIN_INTEGER

_SURROGATE = re.compile("[\ud800-\udfff]")
_MAX_INTEGER_DIGITS = len(str(MAX_INTEGER)) + 1




def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise InputRefused("duplicate_key", f"the key {shown(key)} appears twice in one "
                                                   "object")
            seen.add(key)
    return result


def _integer(text: str) -> int:
    value = int(text) if len(text) <= _MAX_INTEGER_DIGITS else None
    if value is None or not MIN_INTEGER <= value <= MAX_INTEGER:
        raise InputRefused("out_of_range", f"the integer {shown(text, 24)} is out of range "
                                          f"({MIN_INTEGER} to {MAX_INTEGER})")
    return value


def _number(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise InputRefused("out_of_range", f"the number {shown(text, 24)} is out of range")
    return value


def _constant(name: str) -> Any:
    raise InputRefused("not_json", f"{name} is not JSON")


_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys, parse_int=_integer,
                            parse_float=_number, parse_constant=_constant)


def loads(raw: bytes | str, *, max_bytes: int = MAX_MESSAGE_BYTES,
          max_depth: int = MAX_DEPTH) -> Any:
    """Parse one JSON document strictly; raises :class:`InputRefused`."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if len(data) > max_bytes:
        raise InputRefused("oversized", f"{len(data)} bytes, over the limit of {max_bytes}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputRefused("not_json", f"not UTF-8: invalid byte at offset {error.start}"
                          ) from None
    if text.startswith("\ufeff"):
        raise InputRefused("not_json", "starts with a byte order mark")
    try:
        value = _DECODER.decode(text)
    except InputRefused:
        raise
    except RecursionError:
        raise InputRefused("too_deep", f"nested deeper than {max_depth} levels") from None
    except json.JSONDecodeError as error:
        raise InputRefused("not_json", f"not JSON: {decode_problem(error)}") from None
    except ValueError as error:  # e.g. a float too long to convert
        raise InputRefused("not_json", f"not JSON: {error}") from None
    _check_tree(value, max_depth)
    return value


def decode_problem(error: json.JSONDecodeError) -> str:
    """What the JSON decoder found, and where: its messages that end in "at" ("Unterminated
    string starting at", "Invalid control character at") are not followed by a second one."""
    return f"{error.msg.removesuffix(' at')} at line {error.lineno} column {error.colno}"


def _check_tree(value: Any, max_depth: int) -> None:
    """Depth within the limit and no lone surrogates in any string or key."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if not node.isascii() and _SURROGATE.search(node):
                raise InputRefused("not_json", "a string holds a lone UTF-16 surrogate "
                                              "(\\ud800-\\udfff): not Unicode text")
            continue
        if isinstance(node, dict):
            if depth > max_depth:
                raise InputRefused("too_deep", f"nested deeper than {max_depth} levels")
            stack.extend((k, depth) for k in node)
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            if depth > max_depth:
                raise InputRefused("too_deep", f"nested deeper than {max_depth} levels")
            stack.extend((v, depth + 1) for v in node)
