"""Output for people (tables) and for machines (JSON, CSV), the files commands write, and
errors on stderr.

What customers wrote reaches these outputs, so: tables and messages show control characters
(terminal escapes, bidirectional overrides) as visible escapes and never read rich markup in
data; CSV and TSV show the characters the validation boundary refuses in free text (C0
controls but tab and line breaks, DEL, C1: what drives a terminal, which text a store kept
from before the boundary, or a dead letter's key, may still hold) as the same escapes, and
keep everything else as written; JSON escapes them as JSON does (``\\u001b``, ``\\u009b``:
the same string for a program); CSV cells that a spreadsheet would run as a formula are
prefixed with a quote.

Piped output is for programs: tables are never wrapped or cut (each row is one line however
wide: tabs and line feeds in cells show as ``\\t`` and ``\\n``), CSV and TSV always start
with their header row (also when there are no rows), and nested values (JSON columns) are
JSON in `--format json`, JSON text in the other formats.

A file to write (``--output``) goes into a folder that exists: nothing creates folders for it,
as `cp` does not, so a mistyped path is an error (exit 2) before any work, not a surprise."""

from __future__ import annotations

import csv
import errno
import io
import os
import re
import stat
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from aftersales.secrets import scrub
from aftersales_core.text import TEXT_FORBIDDEN, shown_visibly

Format = Literal["table", "json", "csv", "tsv"]
# piped (not a terminal): as wide as the widest row, so no table is ever wrapped or cut; nor
# is a line on stderr (a summary, a note) split in two in a log file
console = Console() if sys.stdout.isatty() else Console(width=1_000_000)
errors = Console(stderr=True) if sys.stderr.isatty() else Console(stderr=True, width=1_000_000)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_RAW_IN_JSON = re.compile("[\u007f-\u009f]")  # orjson escapes C0 only


def printable(value: object) -> str:
    """The value as text for a terminal: control characters shown as escapes (\\x1b…)."""
    return shown_visibly("" if value is None else str(value))


def cell(value: object, one_line: bool = False) -> Text:
    """A table cell: printable, tabs as ``\\t`` (a table measures a tab as one column but a
    terminal moves it to the next stop: it would misalign the row, or cut it when piped), with
    ``one_line`` (piped) line feeds as ``\\n`` too, so that each row is one line; rich markup
    in data stays plain text."""
    text = printable(value).replace("\t", "\\t")
    return Text(text.replace("\n", "\\n") if one_line else text)


def csv_safe(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run: text starting with = + - @ tab or CR gets a
    leading ' (plain numbers such as -12.50 stay numbers)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(
            value):
        return "'" + value
    return value


def machine_text(value: Any) -> Any:
    """A CSV or TSV field: text with the characters free text may not hold (terminal
    controls) as escapes (``\\x1b``); tab, line breaks and everything else as written."""
    return shown_visibly(value, TEXT_FORBIDDEN) if isinstance(value, str) else value


def dumps(value: Any) -> str:
    """JSON text in which no character could drive a terminal: orjson escapes the C0
    controls, DEL and the C1 controls are escaped here (the same JSON string)."""
    text = orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    return _RAW_IN_JSON.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def emit_json_line(value: Any) -> None:
    sys.stdout.write(dumps(value) + "\n")
    sys.stdout.flush()


def flat(value: Any) -> Any:
    """A cell's value for text formats: nested values (lists, objects) as JSON text."""
    return dumps(value) if isinstance(value, (dict, list)) else value


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """A table for people: folded to the terminal's width; piped, never wrapped nor cut, each
    row on one line."""
    piped = not console.is_terminal
    out = Table(title=cell(title, piped), title_justify="left", show_lines=False)
    for column in columns:
        out.add_column(cell(column, piped), overflow="ignore" if piped else "fold",
                       no_wrap=piped)
    for row in rows:
        out.add_row(*(cell(flat(v), piped) for v in row))
    return out


def tsv_cell(value: Any) -> str:
    """A TSV field: tab, line breaks and backslash escaped (\\t \\n \\r \\\\), None empty."""
    if value is None:
        return ""
    text = str(flat(value))
    return (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


def emit_rows(rows: Sequence[Mapping[str, Any]], fmt: Format, title: str,
              columns: Sequence[str] | None = None) -> None:
    """Rows as a table, JSON (one array), CSV or TSV; ``columns`` (the table's columns) gives
    CSV and TSV their header when there are no rows."""
    if fmt == "json":
        sys.stdout.write(dumps(rows) + "\n")
        return
    columns = list(rows[0]) if rows else list(columns or [])
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns)
        writer.writeheader()
        writer.writerows({k: csv_safe(machine_text(flat(v))) for k, v in row.items()}
                         for row in rows)
        sys.stdout.write(buffer.getvalue())
        return
    if fmt == "tsv":
        lines = ["\t".join(tsv_cell(c) for c in columns)]
        lines += ["\t".join(tsv_cell(csv_safe(machine_text(flat(row[c])))) for c in columns)
                  for row in rows]
        sys.stdout.write("".join(line + "\n" for line in lines))
        return
    console.print(table(title, columns, ([row[c] for c in columns] for row in rows)))


def fail(message: str) -> None:
    """One line on stderr: secrets scrubbed, control characters and markup made harmless."""
    text = printable(" ".join(scrub(message).split()))
    errors.print(f"[bold red]error:[/] {escape(text)}", highlight=False, markup=True,
                 soft_wrap=True)


def notice(message: str) -> None:
    """One line on stderr that is no error (an exact retry acknowledged), made safe as
    ``fail``'s."""
    text = printable(" ".join(scrub(message).split()))
    errors.print(f"note: {escape(text)}", highlight=False, markup=True, soft_wrap=True)


class OutputFileError(OSError):
    """A file the command was told to write cannot be written there (its folder is missing,
    it is a folder, no permission): a bad argument, exit 2."""


def output_file(path: Path, option: str | None = "--output") -> Path:
    """``path``, when a file can be written there: its folder exists (nothing creates it: as
    for `cp`, a folder that is not there is a mistyped path) and it is no folder itself.
    Checked before the command does its work; OutputFileError names the option (when it is
    one) and the path otherwise."""
    what = f"{option} {path}" if option else str(path)
    try:
        if not path.parent.is_dir():
            raise OutputFileError(f"cannot write {what}: no such directory {path.parent}")
        if path.is_dir():
            raise OutputFileError(f"cannot write {what}: it is a directory")
    except OutputFileError:
        raise
    except OSError as error:  # a name too long, a loop of links
        raise OutputFileError(f"cannot write {what}: {error.strerror or error}") from None
    return path


def output_option(param: typer.CallbackParam, value: Path | None) -> Path | None:
    """The callback of every option or argument naming a file to write: checked before the
    command runs (``output_file``), so a mistyped folder costs no work and stores nothing."""
    if value is not None:
        output_file(value, next((o for o in param.opts if o.startswith("--")), None))
    return value


def write_output(path: Path, data: str | bytes, private: bool = False,
                 option: str | None = "--output") -> None:
    """Write ``data`` to ``path`` (checked as ``output_file`` checks it); OutputFileError names
    the path when it cannot be.

    A symbolic link is never followed (in a folder others may write to, it would send the data
    wherever its owner points it), and only a regular file is written. With ``private`` (the
    file holds personal data) a new file is created 0600 and an existing one is made 0600
    before anything is written to it, so a file left readable by others (``touch``, an older
    export) never receives the data: it must be the caller's own, with no other name (a hard
    link), else it is refused and left as it was."""
    output_file(path, option)
    what = f"{option} {path}" if option else str(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        try:
            fd = os.open(path, flags, 0o600 if private else 0o666)
        except OSError as error:
            if error.errno == errno.ELOOP or path.is_symlink():
                raise OutputFileError(f"cannot write {what}: it is a symbolic link (never "
                                      "followed: remove it, or name the file itself)") from None
            raise
        with os.fdopen(fd, "wb") as handle:
            found = os.fstat(fd)
            if not stat.S_ISREG(found.st_mode):
                raise OutputFileError(f"cannot write {what}: not a regular file")
            if private:
                if found.st_uid != os.geteuid():
                    raise OutputFileError(f"cannot write {what}: it belongs to another user")
                if found.st_nlink > 1:
                    raise OutputFileError(f"cannot write {what}: it has other names (hard "
                                          "links), which would read the data too")
                os.fchmod(fd, 0o600)
            os.set_blocking(fd, True)
            handle.truncate(0)
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
    except OutputFileError:
        raise
    except OSError as error:
        raise OutputFileError(f"cannot write {what}: {error.strerror or error}") from None
