"""`aftersales query`, `aftersales projections rebuild`, `aftersales status`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer
from kafka import TopicPartition
from kafka.errors import KafkaError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from aftersales import exit_codes
from aftersales.bootstrap import build_app, build_read_db, store_reader
from aftersales.errors import classify
from aftersales.identity import AsPrincipal, caller_for
from aftersales.output import Format, console, emit_rows, errors, fail, table
from aftersales.settings import Settings
from aftersales_core.application.reads import QueryScope
from aftersales_core.errors import DomainError
from consumers import kafka_clients
from projections import positions
from projections.apply import ensure_schema
from projections.catalog import PROJECTIONS, all_projections, queryable_tables
from projections.queries import QueryError, query_table
from projections.rebuild import rebuild
from projections.report import build as build_report

projections_app = typer.Typer(help="Maintain the read models.", no_args_is_help=True)


def query(
    name: Annotated[str, typer.Argument(help=f"one of: {', '.join(queryable_tables())}")],
    where: Annotated[list[str] | None, typer.Option(
        "--where", help="FIELD=VALUE, repeatable (all must match)")] = None,
    order_by: Annotated[str | None, typer.Option(help="a column; prefix - for descending")
                        ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1_000_000)] = 100,
    as_principal: AsPrincipal = None,
    fmt: Annotated[Format, typer.Option("--format")] = "table",
) -> None:
    """Read a projection table (also plain SQL tables in the read database), as far as the
    principal may: a customer only their own rows of cases, complaints, refunds and orders."""
    if name not in queryable_tables():
        fail(f"unknown projection table {name!r}; known: {', '.join(queryable_tables())}")
        raise typer.Exit(exit_codes.INVALID)
    scope = _scope(as_principal, name)
    db = build_read_db(Settings.from_env())
    ensure_schema(db, all_projections())
    try:
        rows = query_table(db, scope, where or [], order_by, limit)
    except QueryError as error:
        fail(str(error))
        raise typer.Exit(exit_codes.INVALID) from None
    emit_rows(rows, fmt, f"{name} ({len(rows)} rows)")


def _scope(name: str | None, table: str) -> QueryScope:
    app = build_app()
    try:
        return app.reads.query_scope(caller_for(app, name, "QueryProjection"), table)
    except DomainError as problem:
        code, message = classify(problem)
        fail(message)
        raise typer.Exit(code) from None
    finally:
        app.close()


def require_read(name: str | None, operation: str) -> None:
    """Allow a read that shows no case (the report, the denial log), or exit denied."""
    app = build_app()
    try:
        app.reads.require(caller_for(app, name, operation), operation)
    except DomainError as problem:
        code, message = classify(problem)
        fail(message)
        raise typer.Exit(code) from None
    finally:
        app.close()


@projections_app.command("rebuild")
def rebuild_command(
    names: Annotated[list[str] | None, typer.Argument(
        help=f"projections to rebuild (default all): {', '.join(PROJECTIONS)}")] = None,
) -> None:
    """Rebuild projections from the event store (not from Kafka) into fresh tables and swap
    them in when done; runners may keep running meanwhile."""
    unknown = [n for n in names or [] if n not in PROJECTIONS]
    if unknown:
        fail(f"unknown projection(s) {', '.join(unknown)}; known: {', '.join(PROJECTIONS)}")
        raise typer.Exit(exit_codes.INVALID)
    settings = Settings.from_env()
    app = build_app(settings)
    total = app.store.recorder.max_notification_id() or 0
    columns = (TextColumn("rebuilding"), BarColumn(), MofNCompleteColumn(),
               TextColumn("events"), TimeRemainingColumn())
    with Progress(*columns, console=errors, disable=not errors.is_terminal) as progress:
        task = progress.add_task("rebuild", total=total)
        reached = rebuild(build_read_db(settings), names, store_reader(app),
                          lambda n: progress.advance(task, n))
    console.print(f"rebuilt {', '.join(names or PROJECTIONS)} up to store position {reached}")


def status(fmt: Annotated[Literal["table", "json"], typer.Option("--format")] = "table"
           ) -> None:
    """Each projection's position and its lag behind the event store and, when a broker is
    configured (KAFKA_BOOTSTRAP_SERVERS), behind the case-events topic."""
    settings = Settings.from_env()
    app = build_app(settings)
    store_end = app.store.recorder.max_notification_id() or 0
    app.close()
    ends = topic_ends(settings)
    db = build_read_db(settings)
    ensure_schema(db, all_projections())
    rows = []
    with db.transaction() as tx:
        for name in PROJECTIONS:
            where = positions.load(tx, name)
            topic_lag = None if ends is None else sum(
                max(end - where.parts.get((settings.case_events_topic, part), (0, 0))[0], 0)
                for part, end in ends.items())
            rows.append({"projection": name, "position": where.highest(),
                         "store_position": store_end,
                         "lag_events": max(store_end - where.highest(), 0),
                         "topic_lag": topic_lag, "partitions": len(where.parts),
                         "rebuild_floor": where.floor})
    if fmt == "json":
        emit_rows(rows, "json", "status")
        return
    console.print(table("projections", list(rows[0]), ([*r.values()] for r in rows)))


def topic_ends(settings: Settings) -> dict[int, int] | None:
    """End offsets of the case-events topic's partitions, or None without a reachable broker."""
    if not settings.kafka_bootstrap_servers:
        return None
    try:
        consumer = kafka_clients.consumer(settings.kafka_bootstrap_servers, None,
                                          request_timeout_ms=10_000)
    except KafkaError as error:
        errors.print(f"topic lag unknown: {error}")
        return None
    try:
        parts = consumer.partitions_for_topic(settings.case_events_topic) or set()
        tps = [TopicPartition(settings.case_events_topic, p) for p in sorted(parts)]
        return {tp.partition: end for tp, end in consumer.end_offsets(tps).items()}
    except KafkaError as error:
        errors.print(f"topic lag unknown: {error}")
        return None
    finally:
        consumer.close()


def report(
    output: Annotated[Path, typer.Option(help="where to write the report with its charts "
                                              "(.html or .png)")] = Path("var/report.html"),
    as_principal: AsPrincipal = None,
    fmt: Annotated[Literal["table", "json"], typer.Option("--format")] = "table",
) -> None:
    """Key figures for analysts: return rate and reasons by market, category and SKU, refund
    totals and time to refund, complaint categories, first-response times, logistics
    exceptions by carrier. Also written with charts to an HTML or PNG file."""
    require_read(as_principal, "ReadReport")
    from aftersales.report_render import print_report, write_html, write_png  # matplotlib: slow

    db = build_read_db(Settings.from_env())
    ensure_schema(db, all_projections())
    figures = build_report(db)
    if output.suffix not in (".html", ".png"):
        fail(f"--output must end in .html or .png, got {output}")
        raise typer.Exit(exit_codes.INVALID)
    output.parent.mkdir(parents=True, exist_ok=True)
    (write_png if output.suffix == ".png" else write_html)(figures, output)
    if fmt == "json":
        emit_rows([{"headline": figures.headline, "sections": [
            {"title": s.title, "columns": s.columns, "rows": s.rows} for s in figures.sections]}],
            "json", "report")
    else:
        print_report(figures)
    errors.print(f"report written to {output}")
