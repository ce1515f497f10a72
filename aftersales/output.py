"""Output for people (tables) and for machines (JSON, CSV), and errors on stderr."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import orjson
from rich.console import Console
from rich.table import Table

Format = Literal["table", "json", "csv"]
console = Console()
errors = Console(stderr=True)


def dumps(value: Any) -> str:
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


def emit_json_line(value: Any) -> None:
    sys.stdout.write(dumps(value) + "\n")
    sys.stdout.flush()


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    out = Table(title=title, title_justify="left", show_lines=False)
    for column in columns:
        out.add_column(column, overflow="fold")
    for row in rows:
        out.add_row(*("" if v is None else str(v) for v in row))
    return out


def emit_rows(rows: Sequence[Mapping[str, Any]], fmt: Format, title: str) -> None:
    if fmt == "json":
        sys.stdout.write(dumps(rows) + "\n")
        return
    columns = list(rows[0]) if rows else []
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
        sys.stdout.write(buffer.getvalue())
        return
    console.print(table(title, columns, ([row[c] for c in columns] for row in rows)))


def fail(message: str) -> None:
    errors.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
