"""Reading JSON documents from a file or stdin, streamed (schemas/json_stream.py): JSON lines,
one (pretty-printed) document, or an array. Memory stays bounded whatever the input's size.

An input is opened once and read once: a pipe (`/dev/stdin`, `<(…)`, a named FIFO) can be read
only once, so only a regular file is read twice (counted for the progress bar, then rewound)."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import typer

if TYPE_CHECKING:
    from pydantic import TypeAdapter

    from schemas.json_stream import Document


class InputFileError(OSError):
    """The input file cannot be read (missing, a folder, no permission): a bad argument."""


@contextmanager
def opened(source: str) -> Iterator[BinaryIO]:
    if source == "-":
        yield sys.stdin.buffer
        return
    try:
        handle = Path(source).open("rb")  # noqa: SIM115 (closed below; errors here only)
    except OSError as error:
        raise InputFileError(f"cannot read {source}: {error.strerror or error}") from None
    with handle:
        yield handle


def read_documents(stream: BinaryIO) -> Iterator[Document]:
    """Each document of the opened input, in order, with its line number."""
    from schemas.json_stream import documents

    yield from documents(stream)


def chunked(documents: Iterable[Document], size: int,
            max_bytes: int = 4 * 1024 * 1024) -> Iterator[list[Document]]:
    """Consecutive documents in groups of at most ``size`` and about ``max_bytes`` (a group is
    decided and committed together: memory stays bounded whatever the input's length)."""
    group: list[Document] = []
    held = 0
    for document in documents:
        group.append(document)
        held += len(document.raw or b"")
        if len(group) >= size or held >= max_bytes:
            yield group
            group, held = [], 0
    if group:
        yield group


def count_lines(stream: BinaryIO) -> int | None:
    """Lines in the opened input (for a progress bar), read in chunks and rewound; None unless
    it is a regular file (a pipe, a FIFO or a terminal can be read only once)."""
    try:
        if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            return None
        start = stream.tell()
    except (OSError, ValueError):  # no file descriptor, or not seekable
        return None
    lines = sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b""))
    stream.seek(start)
    return lines


def time_option(text: str | None, option: str) -> datetime | None:
    """An RFC 3339 time given on the command line, within the supported range (the same
    rule as in messages), or a usage error (exit 2)."""
    from pydantic import ValidationError

    from schemas.errors import validation_fields

    if text is None:
        return None
    try:
        return _timestamp().validate_python(text)
    except ValidationError as error:
        why = "; ".join(message for _, message in validation_fields(error))
        example = "" if "such as" in why else " (an RFC 3339 time such as 2026-03-01T12:00:00Z)"
        raise typer.BadParameter(f"{option}: {why}{example}") from None


@cache
def _timestamp() -> TypeAdapter[datetime]:
    """The validator of times in messages (built on first use: pydantic is not light)."""
    from pydantic import TypeAdapter

    from schemas.common import Timestamp

    return TypeAdapter(Timestamp)
