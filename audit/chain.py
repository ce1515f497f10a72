"""The audit hash chain: how each stored event is linked to the one before (see auditor.py)."""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

GENESIS = hashlib.sha256(b"aftersales audit chain v1").digest()
#: position, originator id, version, topic, state: a notification as ``verify`` reads it.
Row = tuple[int, str, int, str, bytes]
_FIELD = struct.Struct(">qI")  # an integer and the length of the text that follows it
_ENTRY = struct.Struct(">q8sII")  # position, chain hash prefix, identity CRC, state CRC
_END = 2**63 - 1
_position = itemgetter(0)
OnProgress = Callable[[int, int], None]  # (position reached, store end)


_ODD = b"\xff" * 8 + b"odd row"  # no well-typed row starts so: its position would be -1
_ODD_ERRORS = (AttributeError, TypeError, struct.error)


def link(
    previous: bytes, position: int, originator_id: str, version: int, topic: str, state: bytes
) -> bytes:
    """One step of the chain: h_n from h_{n-1} and the event stored at ``position``."""
    try:
        o, t = originator_id.encode(), topic.encode()
        return hashlib.sha256(
            b"".join(
                (previous, _FIELD.pack(position, len(o)), o, _FIELD.pack(version, len(t)), t, state)
            )
        ).digest()
    except _ODD_ERRORS:
        return _odd_link(previous, (position, originator_id, version, topic, state))


def _odd_link(previous: bytes, row: Sequence[Any]) -> bytes:
    """A row holding a value of the wrong type (SQLite keeps any type in any column, NULL
    anywhere): hashed by its repr behind a marker, so it never matches a well-typed event."""
    return hashlib.sha256(previous + _ODD + repr(tuple(row)).encode()).digest()


def chain(previous: bytes, rows: Sequence[Row]) -> bytes:
    """The chain hash after ``rows``: ``link`` folded, without a call per event."""
    sha, pack, join = hashlib.sha256, _FIELD.pack, b"".join
    h = previous
    try:
        for position, originator_id, version, topic, state in rows:
            o, t = originator_id.encode(), topic.encode()
            h = sha(join((h, pack(position, len(o)), o, pack(version, len(t)), t, state))).digest()
    except _ODD_ERRORS:  # a row of the wrong types: the whole batch again, event by event
        h = previous
        for row in rows:
            h = link(h, *row)
    return h


def _sealed_entries(previous: bytes, rows: Sequence[Row]) -> tuple[bytes, bytes]:
    """The chain hash after ``rows`` and the rows' checkpoint entries."""
    h, entries = previous, bytearray()
    for row in rows:
        h = link(h, *row)
        entries += _ENTRY.pack(row[0], h[:8], _identity_crc(row), _state_crc(row))
    return h, bytes(entries)


def _identity_crc(row: Row) -> int:
    """CRC-32 of the event's id, version and topic (for naming what changed, not for trust)."""
    try:
        o, t = row[1].encode(), row[3].encode()
        return zlib.crc32(t, zlib.crc32(_FIELD.pack(row[2], len(t)), zlib.crc32(o)))
    except _ODD_ERRORS:
        return zlib.crc32(repr((row[1], row[2], row[3])).encode())


def _state_crc(row: Row) -> int:
    state: Any = row[4]
    return zlib.crc32(state if isinstance(state, bytes) else repr(state).encode())
