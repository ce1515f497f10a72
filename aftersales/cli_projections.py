"""`aftersales query`, `aftersales projections rebuild`, `aftersales status`."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import orjson
import typer

from aftersales import exit_codes
from aftersales.errors import exit_for
from aftersales.identity import AsPrincipal, caller_for
from aftersales.lazy_help import lazy_help
from aftersales.output import (
    Format,
    OutputFileError,
    console,
    emit_json_line,
    emit_rows,
    errors,
    fail,
    output_option,
    write_output,
)
from workers.collector import tune_collector

if TYPE_CHECKING:
    from aftersales.settings import Settings
    from aftersales_core.application.reads import QueryScope
    from aftersales_core.application.services import Services
    from projections.apply import Failure
    from projections.db import ReadDatabase

projections_app = typer.Typer(help="Maintain the read models.", no_args_is_help=True)
DEFAULT_REPORT = Path("var/report.html")


def _table_names() -> str:
    from projections.catalog import queryable_tables

    return f"one of: {', '.join(queryable_tables())}"


def _projection_names(what: str) -> Callable[[], str]:
    def written() -> str:
        from projections.catalog import PROJECTIONS

        return f"{what}: {', '.join(PROJECTIONS)}"

    return written


QUERY_COMMAND = lazy_help(name=_table_names)  # `query` is registered by aftersales/cli.py


def query(
    name: Annotated[str, typer.Argument(help="a read model's table (or a plain SQL table of "
                                             "the read database)")],
    where: Annotated[list[str] | None, typer.Option(
        "--where", help="FIELD=VALUE, repeatable (all must match)")] = None,
    order_by: Annotated[str | None, typer.Option(help="a column; prefix - for descending")
                        ] = None,
    limit: Annotated[int, typer.Option(
        min=1, max=1_000_000, help="at most this many rows; when more match, a note on "
                                   "stderr says so (the rows shown are complete ones)")] = 100,
    as_principal: AsPrincipal = None,
    fmt: Annotated[Format, typer.Option("--format")] = "table",
) -> None:
    """Read a projection table (also plain SQL tables in the read database), as far as the
    principal may: a customer only their own rows of cases, complaints, refunds and orders.

    When the read models are behind the event store (no projection runner is applying what
    was submitted or ingested), a note on stderr says by how many events and what to run."""
    from aftersales.bootstrap import build_app, build_read_db, require_store
    from aftersales.settings import Settings
    from projections.apply import ensure_schema
    from projections.catalog import all_projections, json_columns, queryable_tables
    from projections.queries import QueryError, check_query, query_table

    if name not in queryable_tables():
        fail(f"unknown projection table {name!r}; known: {', '.join(queryable_tables())}")
        raise typer.Exit(exit_codes.INVALID)
    settings = Settings.from_env()
    require_store(settings, read_database=True)  # before the read database is made
    app = build_app(settings, reading=True)  # a store that cannot be opened: nothing made
    try:
        db = build_read_db(settings)
        ensure_schema(db, all_projections())
        check_query(db, name, where or [], order_by)  # the arguments first, then who asks
        scope, behind = _scope(app, as_principal, name, db)
        rows = query_table(db, scope, where or [], order_by, limit + 1)
    except QueryError as error:
        fail(str(error))
        raise typer.Exit(exit_codes.INVALID) from None
    finally:
        app.close()
    more = len(rows) > limit
    rows = rows[:limit]
    if fmt == "json":
        rows = [decode_json_columns(row, json_columns(name)) for row in rows]
    title = f"{name} (the first {len(rows)} rows; more match)" if more else \
        f"{name} ({len(rows)} rows)"
    emit_rows(rows, fmt, title, db.columns(name))
    if more:
        errors.print(f"note: more than {limit} rows match; only the first {limit} are shown "
                     f"(--limit N for more, up to 1000000; --order-by COLUMN for which come "
                     "first)", highlight=False)
    if behind:
        projection = queryable_tables()[name]
        errors.print(f"note: {projection} is {behind} behind the event store: these rows "
                     "miss what was stored since. Run the pipeline (aftersales run) or, "
                     "without a broker, aftersales projections catch-up", highlight=False)


def _scope(app: Services, name: str | None, table: str, db: ReadDatabase
           ) -> tuple[QueryScope, str]:
    """What the principal may read of ``table``, and how far its projection is behind the
    store ("" when it is not)."""
    from aftersales_core.errors import DomainError
    from projections.catalog import queryable_tables

    try:
        scope = app.reads.query_scope(caller_for(app, name, "QueryProjection"), table)
        return scope, describe_lag(pending_events(app, db, queryable_tables()[table]))
    except DomainError as problem:
        raise exit_for(problem) from None


def pending_events(app: Services, db: ReadDatabase, projection: str) -> tuple[int, bool]:
    """(how many published events the projection has not applied, whether counting stopped
    at the cap)."""
    from consumers.case_events import count_relayed
    from projections import positions

    with db.transaction() as tx:
        applied = positions.load(tx, projection).highest()
    return count_relayed(app.store.recorder, applied)


def describe_lag(pending: tuple[int, bool]) -> str:
    count, capped = pending
    if not count:
        return ""
    return f"{'over ' if capped else ''}{count} event{'s' if count != 1 else ''}"


def decode_json_columns(row: dict[str, Any], columns: frozenset[str]) -> dict[str, Any]:
    """The row with its JSON columns as JSON values (SQLite holds them as text)."""
    for column in columns & row.keys():
        if isinstance(row[column], str):
            row[column] = orjson.loads(row[column])
    return row


def require_read(name: str | None, operation: str, settings: Settings) -> str:
    """Allow a read of the read models that shows no case (the report, the insights), or exit
    denied. Before anything is created: a mistyped folder in AFTERSALES_READ_DATABASE_URL
    exits 2, a local store that does not exist exits 5 (as `query` and `status`). Returns the
    note to print when the read models are behind the event store ("" when they are not)."""
    from aftersales.bootstrap import build_app, build_read_db, require_store
    from aftersales_core.errors import DomainError
    from consumers.case_events import count_relayed
    from projections import positions
    from projections.apply import ensure_schema
    from projections.catalog import PROJECTIONS, all_projections

    require_store(settings, read_database=True)
    app = build_app(settings, reading=True)
    try:
        app.reads.require(caller_for(app, name, operation), operation)
        db = build_read_db(settings)
        try:
            ensure_schema(db, all_projections())
            with db.transaction() as tx:  # the projection furthest behind
                lowest, last = min((positions.load(tx, p).highest(), p) for p in PROJECTIONS)
        finally:
            db.close()
        lag = describe_lag(count_relayed(app.store.recorder, lowest))
    except DomainError as problem:
        raise exit_for(problem) from None
    finally:
        app.close()
    return "" if not lag else (
        f"note: the read models are behind the event store ({last} by {lag}): these "
        "figures miss what was stored since. Run the pipeline (aftersales run) or, without a "
        "broker, aftersales projections catch-up")


@projections_app.command("rebuild", cls=lazy_help(
    names=_projection_names("projections to rebuild (default all)")))
def rebuild_command(
    names: Annotated[list[str] | None, typer.Argument(
        help="projections to rebuild (default all)")] = None,
    processes: Annotated[int | None, typer.Option(
        min=1, max=64, help="processes sharing the projections between them (default: the "
        "cores this process may use, at most 4); a store of one page takes one")] = None,
) -> None:
    """Rebuild projections from the event store (not from Kafka) into fresh tables and swap
    them in when done; runners may keep running meanwhile. Exits 1 when some event could not
    be applied to a projection (each is named; the runners leave out the same ones)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from aftersales.bootstrap import build_app, build_read_db, store_reader
    from aftersales.settings import Settings
    from projections.catalog import PROJECTIONS
    from projections.rebuild import rebuild
    from projections.rebuild_processes import default_processes

    unknown = [n for n in names or [] if n not in PROJECTIONS]
    if unknown:
        fail(f"unknown projection(s) {', '.join(unknown)}; known: {', '.join(PROJECTIONS)}")
        raise typer.Exit(exit_codes.INVALID)
    settings = Settings.from_env()
    app = build_app(settings, reading=True)
    tune_collector()  # again: what the command loaded since start-up is frozen too
    failed: list[Failure] = []
    total = app.store.recorder.max_notification_id() or 0
    columns = (TextColumn("rebuilding"), BarColumn(), MofNCompleteColumn(),
               TextColumn("events"), TimeRemainingColumn())
    with Progress(*columns, console=errors, disable=not errors.is_terminal) as progress:
        task = progress.add_task("rebuild", total=total)
        reached = rebuild(build_read_db(settings), names, store_reader(app),
                          lambda n: progress.advance(task, n), failed=failed,
                          processes=processes or default_processes())
    console.print(f"rebuilt {', '.join(names or PROJECTIONS)} up to store position {reached}")
    _left_out(failed)


@projections_app.command("catch-up", cls=lazy_help(
    names=_projection_names("projections to bring up to date (default all)")))
def catch_up_command(
    names: Annotated[list[str] | None, typer.Argument(
        help="projections to bring up to date (default all)")] = None,
) -> None:
    """Apply to the read models what the event store gained since they were last brought up
    to date, straight from the store: for running without a broker (after `submit` or
    `ingest`). Incremental, and the same code as the last step of `rebuild`.

    Exits 2, changing nothing, for a projection the runners apply from the broker (run them,
    or rebuild); exits 1 when some event could not be applied (each is named)."""
    from aftersales.bootstrap import build_app, build_read_db, store_reader
    from aftersales.settings import Settings
    from projections.catalog import PROJECTIONS
    from projections.rebuild import FedByRunners, catch_up

    unknown = [n for n in names or [] if n not in PROJECTIONS]
    if unknown:
        fail(f"unknown projection(s) {', '.join(unknown)}; known: {', '.join(PROJECTIONS)}")
        raise typer.Exit(exit_codes.INVALID)
    settings = Settings.from_env()
    app = build_app(settings, reading=True)
    tune_collector()  # again: what the command loaded since start-up is frozen too
    failed: list[Failure] = []
    try:
        reached = catch_up(build_read_db(settings), names, store_reader(app), failed=failed)
    except FedByRunners as refused:
        fail(str(refused))
        raise typer.Exit(exit_codes.INVALID) from None
    finally:
        app.close()
    console.print(f"caught up {', '.join(reached)} to store position {max(reached.values())}",
                  highlight=False)
    _left_out(failed)


def _left_out(failed: list[Failure]) -> None:
    """Name the events left out (exit 1), if any."""
    if failed:
        for failure in failed[:20]:
            fail(f"store position {failure.delivery.offset} left out of {failure.projection}: "
                 f"{failure.error}")
        fail(f"{len(failed)} event application(s) left out; the tables hold everything else")
        raise typer.Exit(exit_codes.REFUSED)


def report(
    output: Annotated[Path | None, typer.Option(
        help="where to write the report with its charts (.html or .png; its folder must "
             f"exist). Default with --format table: {DEFAULT_REPORT} (creating var/ as the "
             "stores do); with --format json: no file",
        callback=output_option, show_default=False)] = None,
    as_principal: AsPrincipal = None,
    fmt: Annotated[Literal["table", "json"], typer.Option(
        "--format", help="table: the figures as tables, and the report written to a file; "
                         "json: the figures as one JSON object on stdout (as GET /v1/report "
                         "answers), written to a file only when --output names one")] = "table",
) -> None:
    """Key figures for analysts: return rate by market, product-information alerts, weekly
    trends, carriers and routes, complaint drivers, refund economics (the main views of
    `aftersales insights`). Also written with charts to an HTML or PNG file: by default with
    --format table, with --format json only to the --output named."""
    from aftersales.bootstrap import build_read_db
    from aftersales.settings import Settings
    from projections.apply import ensure_schema
    from projections.catalog import all_projections
    from projections.report import build as build_report

    default = output is None and fmt == "table"
    if default:  # the project's own data folder, as for the stores (made once allowed, below)
        output = DEFAULT_REPORT
    if output is not None and output.suffix not in (".html", ".png"):
        fail(f"--output must end in .html or .png, got {output}")
        raise typer.Exit(exit_codes.INVALID)
    if output is not None and importlib.util.find_spec("matplotlib") is None:
        fail("the report's charts need matplotlib: pip install 'aftersales[report]'")
        raise typer.Exit(exit_codes.INVALID)
    settings = Settings.from_env()
    behind = require_read(as_principal, "ReadReport", settings)  # before anything is made

    db = build_read_db(settings)
    ensure_schema(db, all_projections())
    figures = build_report(db)
    if output is not None:
        from aftersales.report_render import html_page, png_image  # matplotlib: slow

        if default:
            output.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            write_output(output, png_image(figures) if output.suffix == ".png"
                         else html_page(figures), private=True)
        except OSError as error:
            fail(str(error) if isinstance(error, OutputFileError)
                 else f"cannot write --output {output}: {error.strerror or error}")
            raise typer.Exit(exit_codes.INVALID) from None
    if fmt == "json":
        emit_json_line(figures.to_json())
    else:
        from aftersales.report_render import print_report

        print_report(figures)
    if output is not None:
        errors.print(f"report written to {output}")
    if behind:
        errors.print(behind, highlight=False)
