"""Reading JSON objects from a file or stdin: one object, an array, or JSON lines."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

MAX_LINE_BYTES = 1_000_000


@dataclass
class Item:
    """One JSON object read from the input (or why it could not be read), with its line."""

    line: int
    value: Any = None
    error: str | None = None


def read_items(source: str) -> Iterator[Item]:
    raw = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    stripped = raw.strip()
    if stripped.startswith((b"{", b"[")) and b"\n" in stripped:
        try:
            whole = orjson.loads(stripped)
        except orjson.JSONDecodeError:
            whole = None
        if isinstance(whole, dict):
            yield Item(1, whole)
            return
        if isinstance(whole, list):
            yield from (Item(i + 1, v) for i, v in enumerate(whole))
            return
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        if len(line) > MAX_LINE_BYTES:
            yield Item(number, error=f"line is {len(line)} bytes, over {MAX_LINE_BYTES}")
            continue
        try:
            yield Item(number, orjson.loads(line))
        except orjson.JSONDecodeError as error:
            yield Item(number, error=f"not JSON: {error}")


def count_lines(source: str) -> int | None:
    if source == "-":
        return None
    with Path(source).open("rb") as handle:
        return sum(1 for _ in handle)
