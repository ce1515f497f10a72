"""Split a stream of bytes into JSON documents with bounded memory.

Accepted shapes: JSON lines (one document per line); one document over several lines
(pretty-printed), or several such documents one after the other; one top-level array whose
elements are the documents. Memory holds at most one document of ``max_bytes`` plus a read
buffer: a larger document is measured while it is skipped, and reported, never held."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from schemas.limits import MAX_MESSAGE_BYTES

CHUNK = 64 * 1024
_OUTSIDE = re.compile(rb'["{}\[\]\n]')  # what matters to the scanner outside strings
_INSIDE = re.compile(rb'["\\\n]')  # inside a string: its end, an escape, a (raw) newline
_SCALAR_END = re.compile(rb'[ \t\r\n,\[\]{}"]')
_QUOTE, _BACKSLASH, _NEWLINE = ord('"'), ord("\\"), ord("\n")


@dataclass(frozen=True)
class Document:
    """One document's bytes, or why they were not kept, with the line where it starts."""

    line: int
    raw: bytes | None = None
    error: str | None = None
    kind: str = ""  # oversized | not_json, when raw is None


class _Reader:
    """A byte stream read in chunks, with the current chunk and the line number."""

    def __init__(self, stream: BinaryIO, chunk: int) -> None:
        self.stream, self.chunk = stream, chunk
        self.buffer, self.at, self.line = b"", 0, 1

    def fill(self) -> bool:
        """At least one unread byte is buffered; False at the end of the stream."""
        if self.at < len(self.buffer):
            return True
        self.buffer, self.at = self.stream.read(self.chunk), 0
        return bool(self.buffer)

    def skip_whitespace(self) -> bool:
        """Skip whitespace, counting lines; False at the end of the stream."""
        while self.fill():
            start, end = self.at, len(self.buffer)
            while self.at < end and self.buffer[self.at] in b" \t\r\n":
                self.at += 1
            self.line += self.buffer.count(b"\n", start, self.at)
            if self.at < end:
                return True
        return False

    def peek(self) -> int:
        return self.buffer[self.at]

    def take(self, end: int) -> bytes:
        """The buffered bytes up to ``end`` (exclusive), consumed."""
        data = self.buffer[self.at:end]
        self.at = end
        return data


class _Value:
    """The bytes of the document being scanned, held only up to the limit."""

    def __init__(self, limit: int) -> None:
        self.parts: list[bytes] = []
        self.size, self.limit = 0, limit
        self.ended = False  # the value's end was found (not cut off by the end of the stream)

    def add(self, data: bytes) -> None:
        self.size += len(data)
        if self.size <= self.limit:
            self.parts.append(data)
        else:
            self.parts = []  # over the limit: stop holding it, keep counting

    @property
    def held(self) -> bytes | None:
        return None if self.size > self.limit else b"".join(self.parts)

    def document(self, line: int) -> Document:
        held = self.held
        if held is None:
            return Document(line, error=f"{self.size} bytes, over the limit of {self.limit}",
                            kind="oversized")
        return Document(line, held)


def documents(stream: BinaryIO, *, max_bytes: int = MAX_MESSAGE_BYTES,
              chunk: int = CHUNK) -> Iterator[Document]:
    """Each document of the stream in order (the shapes are in the module docstring)."""
    reader = _Reader(stream, chunk)
    if not reader.skip_whitespace():
        return
    if reader.peek() == ord("["):
        yield from _elements(reader, max_bytes)
        return
    line, value = reader.line, _Value(max_bytes)
    spans = _scan(reader, value)
    held = value.held
    if spans and held is not None and not _is_json(held):
        yield from _as_lines(reader, line, held, max_bytes)  # JSON lines, the first one broken
        yield from _lines(reader, max_bytes)
        return
    if not spans:  # JSON lines: a line is one document, whatever else is on it
        _rest_of_line(reader, value)
        yield value.document(line)
        yield from _lines(reader, max_bytes)
        return
    yield value.document(line)
    while reader.skip_whitespace():  # pretty-printed documents, one after another
        line, value = reader.line, _Value(max_bytes)
        _scan(reader, value)
        yield value.document(line)


def _is_json(data: bytes) -> bool:
    try:
        json.loads(data)
    except (ValueError, RecursionError):
        return False
    return True


def _scan(reader: _Reader, value: _Value) -> bool:
    """Move the reader past one value (it is on the value's first byte), adding its bytes to
    ``value``; True when a line break outside strings lies inside the value."""
    first = reader.peek()
    if first not in b'{["':  # a number, true, false, null or garbage: up to a delimiter
        start = reader.at + 1  # at least one byte, even a stray delimiter
        while reader.fill():
            found = _SCALAR_END.search(reader.buffer, max(start, reader.at))
            value.add(reader.take(found.start() if found else len(reader.buffer)))
            if found:
                value.ended = True
                break
            start = 0
        return False
    depth, in_string, escaped, spans = 0, False, False, False
    while reader.fill():
        if escaped:  # the byte after a backslash that ended the previous chunk
            escaped = False
            reader.line += reader.peek() == _NEWLINE
            value.add(reader.take(reader.at + 1))
            continue
        found = (_INSIDE if in_string else _OUTSIDE).search(reader.buffer, reader.at)
        if found is None:
            value.add(reader.take(len(reader.buffer)))
            continue
        byte = reader.buffer[found.start()]
        value.add(reader.take(found.start() + 1))
        if byte == _NEWLINE:
            reader.line += 1
            spans = spans or not in_string
        elif byte == _BACKSLASH:
            escaped = True
        elif byte == _QUOTE:
            in_string = not in_string
            if not in_string and depth == 0:
                value.ended = True
                return spans  # a string on its own
        elif byte in b"{[":
            depth += 1
        else:  # } or ]
            depth -= 1
            if depth <= 0:
                value.ended = True
                return spans
    return spans


def _lines(reader: _Reader, max_bytes: int) -> Iterator[Document]:
    """The rest of the stream as JSON lines."""
    while reader.skip_whitespace():
        line, value = reader.line, _Value(max_bytes)
        _rest_of_line(reader, value)
        yield value.document(line)


def _rest_of_line(reader: _Reader, value: _Value) -> None:
    """Add the bytes up to the next line break (left for skip_whitespace to count)."""
    while reader.fill():
        end = reader.buffer.find(b"\n", reader.at)
        value.add(reader.take(len(reader.buffer) if end < 0 else end))
        if end >= 0:
            return


def _as_lines(reader: _Reader, line: int, held: bytes, max_bytes: int) -> Iterator[Document]:
    """A first value that went on over several lines and is not JSON: JSON lines after all.
    Its last line goes on up to the next line break of the stream."""
    *whole, last = held.split(b"\n")
    for number, text in enumerate(whole, start=line):
        if text.strip():
            yield Document(number, text.rstrip(b"\r"))
    tail = _Value(max_bytes)
    tail.add(last)
    _rest_of_line(reader, tail)
    if tail.held is None or tail.held.strip():
        yield tail.document(line + len(whole))


def _elements(reader: _Reader, max_bytes: int) -> Iterator[Document]:
    """The elements of one top-level array (the reader is on its ``[``)."""
    reader.take(reader.at + 1)
    first = True
    while reader.skip_whitespace():
        byte = reader.peek()
        if byte == ord("]"):
            reader.take(reader.at + 1)
            if reader.skip_whitespace():
                yield Document(reader.line, error="not JSON: data after the array's closing ]",
                               kind="not_json")
            return
        if not first:
            if byte != ord(","):
                yield Document(reader.line, error="not JSON: expected , or ] after an array "
                                                  "element", kind="not_json")
                _scan(reader, _Value(0))
                continue
            reader.take(reader.at + 1)
            if not reader.skip_whitespace():
                break
        first = False
        line, value = reader.line, _Value(max_bytes)
        _scan(reader, value)
        if not value.ended:  # cut off with the array: one error, where the element starts
            yield Document(line, error="not JSON: the array is not closed (the input ends "
                                       "inside this element)", kind="not_json")
            return
        yield value.document(line)
    yield Document(reader.line, error="not JSON: the array is not closed", kind="not_json")
