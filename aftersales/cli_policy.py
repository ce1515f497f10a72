"""`aftersales policy …`: the merchants' policy books: show, set, diff, history, simulate a
proposed change over recorded history, publish the customer-facing policy."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.markup import escape

from aftersales import exit_codes
from aftersales.errors import exit_for
from aftersales.identity import AsPrincipal, caller_for
from aftersales.inputs import opened, time_option
from aftersales.output import (
    Format,
    console,
    dumps,
    emit_json_line,
    emit_rows,
    errors,
    fail,
    output_option,
    printable,
    table,
    write_output,
)

if TYPE_CHECKING:
    from aftersales_core.application.policy_books import BookVersion
    from aftersales_core.application.services import Services
    from aftersales_core.policybook.diff import Change
    from aftersales_core.policybook.documents import Kind
    from aftersales_core.policybook.model import Book

policy_app = typer.Typer(
    help="Policy books: each merchant's versioned after-sales settings (returns, refunds, "
         "complaints), their what-if over recorded history, and the published policy.",
    no_args_is_help=True,
)
Merchant = Annotated[str | None, typer.Option(
    "--merchant", help="the merchant's id (as in OrderPlaced.merchant_id); without it, the "
                       "platform's default book")]
TableOrJson = Annotated[Literal["table", "json"], typer.Option("--format")]

SUFFIXES: dict[str, Kind] = {".toml": "toml", ".json": "json"}


@contextmanager
def _app(*, reading: bool = True) -> Iterator[Services]:
    """The services over the store; every policy command but ``set`` only reads, so a SQLite
    store file that does not exist is exit 5 and none is created."""
    from aftersales.bootstrap import build_app

    app = build_app(reading=reading)
    try:
        yield app
    except Exception as problem:  # every failure has its exit code and one line
        raise exit_for(problem) from None
    finally:
        app.close()


MEASURED = 64 * 1024 * 1024  # bytes of a book over the limit counted to say its size


def _read(source: str) -> tuple[bytes, Kind | None]:
    """A book file's bytes (``-``: stdin) and its kind by suffix (else sniffed). One over the
    limit is refused with its size, measured (the rest read and counted, never kept) up to
    ``MEASURED`` bytes, beyond that said as "more than"; it was said to be one byte over."""
    from aftersales_core.policybook.documents import MAX_BYTES, InvalidBookError

    with opened(source) as stream:
        data = stream.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            size = len(data)
            while size <= MEASURED and (chunk := stream.read(1 << 16)):
                size += len(chunk)
            said = f"more than {MEASURED}" if size > MEASURED else str(size)
            raise InvalidBookError(f"the book is {said} bytes, over the {MAX_BYTES} allowed")
    return data, None if source == "-" else SUFFIXES.get(Path(source).suffix.lower())


def _write(output: Path | None, text: str, private: bool = False) -> None:
    """The text to stdout, or to ``--output`` (created readable by its owner only when
    ``private``); a file that cannot be written is a bad argument (exit 2)."""
    if output is None:
        sys.stdout.write(text)
        return
    write_output(output, text, private)
    errors.print(f"wrote {output}", highlight=False)


def _flatten(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from _flatten(item, f"{path}.{key}" if path else key)
    elif value not in (None, {}, []):
        yield path, ", ".join(map(str, value)) if isinstance(value, list) else value


def _shown(value: object) -> str:
    """Stored text in a header: control characters as visible escapes, never read as rich
    markup (a version stored before reasons were checked may hold anything)."""
    return escape(printable(value))


def _header(version: BookVersion, merchant: str | None) -> str:
    whose = f"merchant {version.book_id.merchant_id}" if version.book_id.merchant_id else \
        "the platform default"
    note = ""
    if merchant is not None and version.book_id.merchant_id is None:
        note = f" (merchant {merchant} has no book of its own)"
    when = "built-in defaults" if version.version == 0 else \
        f"set by {version.set_by} ({version.role}) at {version.set_at}: {version.reason}"
    return (f"[bold]{_shown(whose)}[/], version {version.version}{_shown(note)}, "
            f"{_shown(version.book_hash)}\n{_shown(when)}")


@policy_app.command("show")
def show(
    merchant: Merchant = None,
    version: Annotated[int | None, typer.Option(min=0, help="a version of the merchant's "
                                                "own book (default: the book that applies "
                                                "now)")] = None,
    as_principal: AsPrincipal = None,
    fmt: Annotated[Literal["table", "json", "toml"], typer.Option("--format")] = "table",
) -> None:
    """The book that applies to the merchant's orders now (its own latest version, else the
    platform's, else the built-in defaults), or a given version of its own book (admins,
    auditors). `--format toml` prints a file to edit and `policy set`."""
    from aftersales_core.policybook.documents import to_toml

    with _app() as app:
        caller = caller_for(app, as_principal, "ReadPolicyBook")
        found = app.books.show(caller, merchant, version)
    if fmt == "json":
        emit_json_line(found.to_json())
    elif fmt == "toml":
        sys.stdout.write(to_toml(found.document))
    else:
        console.print(_header(found, merchant))
        console.print(table("settings", ("setting", "value"), _flatten(found.document)))


@policy_app.command("set")
def set_book(
    source: Annotated[str, typer.Argument(help="the book: a .toml or .json file, or - for "
                                               "stdin")],
    reason: Annotated[str, typer.Option("--reason", help="why the book changes (stored with "
                                                         "the version)")],
    merchant: Merchant = None,
    expected: Annotated[int | None, typer.Option(
        "--expected-version", min=0, help="the version of the merchant's own book you last "
                                          "read (0: none set yet): stored only while the book "
                                          "is still at it, else exit 4 (as If-Match over "
                                          "HTTP)")] = None,
    as_principal: AsPrincipal = None,
    fmt: TableOrJson = "table",
) -> None:
    """Validate a book (its structure, then the law's minimums per market) and store it as the
    merchant's next version (admins); it applies to every decision taken from then on. A
    refused book stores nothing: exit 2 when it is invalid, 1 when the law or an unchanged
    book refuses it, 4 when the book is no longer at --expected-version."""
    from aftersales_core.domain.ids import check_merchant_id
    from aftersales_core.domain.policy_book import check_reason
    from aftersales_core.policybook.documents import parse, validate

    if merchant is not None:
        check_merchant_id(merchant, "--merchant")  # a new book must be reachable over HTTP
    check_reason(reason)
    data, kind = _read(source)
    document = parse(data, kind)
    validate(document)  # the arguments are checked before who asks; the law after
    with _app(reading=False) as app:
        caller = caller_for(app, as_principal, "SetPolicyBook")
        stored = app.books.set(caller, merchant, document, reason, expected)
    if fmt == "json":
        emit_json_line(stored.meta())
    else:
        console.print(_header(stored, merchant))


@policy_app.command("history")
def history(
    merchant: Merchant = None,
    as_principal: AsPrincipal = None,
    fmt: Annotated[Format, typer.Option("--format")] = "table",
) -> None:
    """Every version of the merchant's own book (version 0: the built-in defaults): who set it,
    in which role, when, why, its hash and its status (admins, auditors). Versions are never
    changed: one whose stored content no longer hashes to its recorded hash is listed as
    corrupt, named on stderr, and the exit is 1."""
    with _app() as app:
        rows = app.books.history(caller_for(app, as_principal, "ReadPolicyBook"), merchant)
    shown = [{k: v for k, v in row.items() if k not in ("book", "merchant_id")} for row in rows]
    if fmt == "table":  # the full hashes in json, csv and tsv
        for row in shown:
            row["book_hash"] = row["book_hash"][:19]
            row["content_hash"] = row["content_hash"][:19]
    emit_rows(shown, fmt, f"policy book of {merchant or 'the platform'}")
    corrupt = [row for row in rows if row["status"] != "intact"]
    for row in corrupt:
        fail(f"version {row['version']} is corrupt: its stored content hashes to "
             f"{row['content_hash']}, not to the {row['book_hash']} recorded when it was set")
    if corrupt:
        raise typer.Exit(exit_codes.REFUSED)


@policy_app.command("diff")
def diff(
    proposed: Annotated[str | None, typer.Argument(help="a proposed book file (.toml, .json, "
                                                        "-): compared with the latest "
                                                        "version, or with --from N")] = None,
    merchant: Merchant = None,
    before: Annotated[int | None, typer.Option(
        "--from", min=0, help="the stored version to compare from (default: the one before "
                              "--to; with PROPOSED: the latest); it may be the later one")
    ] = None,
    after: Annotated[int | None, typer.Option(
        "--to", min=0, help="the stored version to compare to (default: the latest); not "
                            "with PROPOSED, which is what is compared to")] = None,
    as_principal: AsPrincipal = None,
    fmt: Annotated[Format, typer.Option("--format")] = "table",
) -> None:
    """What changes between two versions of the merchant's book (default: the latest and the
    one before), or from a version to a proposed file, checked as `policy set` checks it
    (its structure, then the law's minimums: exit 1 naming the rule) (admins, auditors)."""
    from aftersales_core.policybook.documents import parse, validate

    book = None
    if proposed is not None and after is not None:
        fail("--to names a stored version to compare to; with PROPOSED the proposed book is "
             "what is compared to: give --from N to choose the version it is compared with")
        raise typer.Exit(exit_codes.INVALID)
    if proposed is not None:
        data, kind = _read(proposed)
        book = validate(parse(data, kind))
    with _app() as app:
        caller = caller_for(app, as_principal, "ReadPolicyBook")
        changes: list[Change] = app.books.diff(caller, merchant, before, after, book)
    emit_rows([c.to_json() for c in changes], fmt,
              f"{len(changes)} changes" if changes else "no changes",
              columns=["path", "change", "before", "after"])


@policy_app.command("simulate")
def simulate(
    merchant: Annotated[str, typer.Option("--merchant", help="whose recorded decisions")],
    proposed: Annotated[str | None, typer.Argument(help="the proposed book (.toml, .json, -)")
                        ] = None,
    version: Annotated[int | None, typer.Option(
        min=0, help="instead of a file: a stored version of the merchant's own book")] = None,
    since: Annotated[str | None, typer.Option(help="RFC 3339: decisions at or after")] = None,
    until: Annotated[str | None, typer.Option(help="RFC 3339: decisions before")] = None,
    fmt: Annotated[Literal["table", "json", "html"], typer.Option("--format")] = "table",
    output: Annotated[Path | None, typer.Option(
        help="write the report here (json or html; readable by its owner only; its folder "
             "must exist)", callback=output_option)] = None,
    as_principal: AsPrincipal = None,
) -> None:
    """Re-run every recorded decision of the merchant in the period under the proposed book, or
    under a stored version of its own (admins, auditors): outcomes that change (per policy and
    pair, with example cases), refund totals per currency, refunds needing a supervisor,
    deadlines breached, before and after. Nothing is stored."""
    from aftersales.policy_render import html as simulation_html
    from aftersales.policy_render import tables as simulation_tables
    from aftersales_core.policybook.documents import parse, validate

    if (proposed is None) == (version is None):
        fail("give either the proposed book (a file, or - for stdin) or --version N")
        raise typer.Exit(exit_codes.INVALID)
    start, end = time_option(since, "--since"), time_option(until, "--until")
    if output is not None and fmt == "table":
        fail("--output writes a report file: add --format json or html (tables go to the "
             "terminal)")
        raise typer.Exit(exit_codes.INVALID)
    if proposed is not None:
        data, kind = _read(proposed)
        book: Book | int = validate(parse(data, kind))
    else:
        book = version or 0
    with _app() as app:
        caller = caller_for(app, as_principal, "SimulatePolicyBook")
        report, timing = app.books.simulate(caller, merchant, book, start, end)
    result = report.to_json()
    if fmt == "json":
        text = dumps({**result, "timing": timing}) + "\n"
    elif fmt == "html":
        text = simulation_html(result, timing)
    else:
        for rendered in simulation_tables(result, timing):
            console.print(rendered)
        if result["failures"]:
            errors.print(f"{len(report.failed)} decisions could not be evaluated again; the "
                         "first: " + "; ".join(f"{f['case_id']} {f['policy_id']}: {f['error']}"
                                               for f in result["failures"][:3]))
        return
    _write(output, text, private=True)


@policy_app.command("publish")
def publish(
    merchant: Merchant = None,
    lang: Annotated[Literal["en", "zh-CN"], typer.Option("--lang")] = "en",
    fmt: Annotated[Literal["md", "html"], typer.Option("--format")] = "md",
    output: Annotated[Path | None, typer.Option(
        help="write the policy here (its folder must exist)", callback=output_option)] = None,
    as_principal: AsPrincipal = None,
) -> None:
    """The customer-facing after-sales policy, written from the book that applies to the
    merchant's orders now: what is published is what is enforced (every role)."""
    with _app() as app:
        caller = caller_for(app, as_principal, "ReadPublishedPolicy")
        text = app.books.publish(caller, merchant, lang, fmt)
    _write(output, text)
