"""`aftersales query`, `aftersales projections rebuild`, `aftersales status`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from kafka import KafkaAdminClient, TopicPartition
from kafka.errors import KafkaError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from aftersales import exit_codes
from aftersales.bootstrap import build_app, build_read_db, store_reader
from aftersales.errors import classify
from aftersales.identity import AsPrincipal, caller_for
from aftersales.output import Format, console, emit_json_line, emit_rows, errors, fail, table
from aftersales.settings import Settings
from aftersales_core.application.reads import QueryScope
from aftersales_core.application.services import Services
from aftersales_core.errors import DomainError
from consumers import kafka_clients
from consumers.case_events import relayed_size
from consumers.relay import refused_position, relay_name
from projections import positions
from projections.apply import Failure, ensure_schema
from projections.catalog import PROJECTIONS, all_projections, queryable_tables
from projections.db import private_file
from projections.queries import QueryError, check_query, query_table
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
    db = build_read_db(Settings.from_env())
    ensure_schema(db, all_projections())
    try:
        check_query(db, name, where or [], order_by)  # the arguments first, then who asks
        rows = query_table(db, _scope(as_principal, name), where or [], order_by, limit)
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
    them in when done; runners may keep running meanwhile. Exits 1 when some event could not
    be applied to a projection (each is named; the runners leave out the same ones)."""
    unknown = [n for n in names or [] if n not in PROJECTIONS]
    if unknown:
        fail(f"unknown projection(s) {', '.join(unknown)}; known: {', '.join(PROJECTIONS)}")
        raise typer.Exit(exit_codes.INVALID)
    settings = Settings.from_env()
    app = build_app(settings)
    failed: list[Failure] = []
    total = app.store.recorder.max_notification_id() or 0
    columns = (TextColumn("rebuilding"), BarColumn(), MofNCompleteColumn(),
               TextColumn("events"), TimeRemainingColumn())
    with Progress(*columns, console=errors, disable=not errors.is_terminal) as progress:
        task = progress.add_task("rebuild", total=total)
        reached = rebuild(build_read_db(settings), names, store_reader(app),
                          lambda n: progress.advance(task, n), failed=failed)
    console.print(f"rebuilt {', '.join(names or PROJECTIONS)} up to store position {reached}")
    if failed:
        for failure in failed[:20]:
            fail(f"store position {failure.delivery.offset} left out of {failure.projection}: "
                 f"{failure.error}")
        fail(f"{len(failed)} event application(s) left out; the tables hold everything else")
        raise typer.Exit(exit_codes.REFUSED)


def status(fmt: Annotated[Literal["table", "json"], typer.Option("--format")] = "table"
           ) -> None:
    """The relay's position and whether it is stuck on an event the broker refuses; each
    projection's position and its lag behind the event store and, when a broker is configured
    (KAFKA_BOOTSTRAP_SERVERS), behind the case-events topic, per partition (a partition that
    lags shows even when the others are up to date).

    Exits 7 when the relay is stuck, 5 when the broker cannot be reached."""
    settings = Settings.from_env()
    app = build_app(settings)
    try:
        store_end = app.store.recorder.max_notification_id() or 0
        relay = relay_status(app, settings, store_end)
    finally:
        app.close()
    ends, broker_error = topic_ends(settings)
    db = build_read_db(settings)
    ensure_schema(db, all_projections())
    rows: list[dict[str, Any]] = []
    with db.transaction() as tx:
        for name in PROJECTIONS:
            where = positions.load(tx, name)
            by_part = None if ends is None else {
                str(part): max(end - where.parts.get((settings.case_events_topic, part),
                                                     (0, 0))[0], 0)
                for part, end in sorted(ends.items())}
            rows.append({"projection": name, "position": where.highest(),
                         "store_position": store_end,
                         "lag_events": max(store_end - where.highest(), 0),
                         "topic_lag": None if by_part is None else sum(by_part.values()),
                         "partition_lag": by_part, "partitions": len(where.parts),
                         "rebuild_floor": where.floor})
    if fmt == "json":
        emit_json_line({"relay": relay, "projections": rows})
    else:
        console.print(table("relay", list(relay), [list(relay.values())]))
        shown = [{**r, "partition_lag": _lag_text(r["partition_lag"])} for r in rows]
        console.print(table("projections", list(shown[0]), ([*r.values()] for r in shown)))
    if relay["refused_at"] is not None:
        fail(f"the relay is STUCK at store position {relay['refused_at']}: {relay['reason']}; "
             "events from there on are not published (see the relay's log)")
        raise typer.Exit(exit_codes.UNHEALTHY)
    if broker_error is not None:
        fail(f"the broker is unavailable: topic lag unknown ({broker_error})")
        raise typer.Exit(exit_codes.UNAVAILABLE)


def _lag_text(by_part: dict[str, int] | None) -> str:
    """``0:0 1:12 2:0`` (partition:records behind), or "unknown" without a broker."""
    if by_part is None:
        return "unknown"
    return " ".join(f"{part}:{lag}" for part, lag in by_part.items())


def relay_status(app: Services, settings: Settings, store_end: int) -> dict[str, Any]:
    """Where the relay is, and the position it is stuck at (with why, as far as the store
    can tell) or None."""
    tracking = app.store.factory.tracking_recorder()
    position = tracking.max_tracking_id(relay_name(settings.case_events_topic)) or 0
    refused = refused_position(tracking, settings.case_events_topic)
    reason = ""
    if refused is not None:
        reason = "refused by the broker"
        for notification in app.store.recorder.select_notifications(refused, 1):
            size = relayed_size(notification)
            reason = (f"a {size}-byte message ({notification.topic}); the store allows "
                      f"{settings.case_event_max_bytes}, the broker refused it")
    return {"topic": settings.case_events_topic, "position": position,
            "store_position": store_end, "lag_events": max(store_end - position, 0),
            "refused_at": refused, "reason": reason}


def topic_ends(settings: Settings) -> tuple[dict[int, int] | None, str | None]:
    """End offsets of the case-events topic's partitions (None without a broker configured),
    and what went wrong when the configured broker could not tell."""
    servers, topic = settings.kafka_bootstrap_servers, settings.case_events_topic
    if not servers:
        return None, None
    admin = consumer = None
    try:  # the admin client gives up after its timeout (a consumer's metadata call may not)
        admin = KafkaAdminClient(bootstrap_servers=servers, api_version=kafka_clients.API_VERSION,
                                 request_timeout_ms=10_000, client_id="aftersales-status")
        [described] = admin.describe_topics([topic])
        tps = [TopicPartition(topic, p["partition_index"]) for p in described["partitions"]]
        consumer = kafka_clients.consumer(servers, None, request_timeout_ms=10_000)
        ends = consumer.end_offsets(tps, timeout_ms=10_000)
        return {tp.partition: end for tp, end in ends.items()}, None
    except KafkaError as error:
        name = type(error).__name__
        return None, str(error) if name in str(error) else f"{name}: {error}"
    finally:
        for client in (admin, consumer):
            if client is not None:
                client.close()


def report(
    output: Annotated[Path, typer.Option(help="where to write the report with its charts "
                                              "(.html or .png)")] = Path("var/report.html"),
    as_principal: AsPrincipal = None,
    fmt: Annotated[Literal["table", "json"], typer.Option("--format")] = "table",
) -> None:
    """Key figures for analysts: return rate by market, product-information alerts, weekly
    trends, carriers and routes, complaint drivers, refund economics (the main views of
    `aftersales insights`). Also written with charts to an HTML or PNG file."""
    if output.suffix not in (".html", ".png"):
        fail(f"--output must end in .html or .png, got {output}")
        raise typer.Exit(exit_codes.INVALID)
    require_read(as_principal, "ReadReport")
    from aftersales.report_render import print_report, write_html, write_png  # matplotlib: slow

    db = build_read_db(Settings.from_env())
    ensure_schema(db, all_projections())
    figures = build_report(db)
    try:
        private_file(output)
        (write_png if output.suffix == ".png" else write_html)(figures, output)
    except OSError as error:
        fail(f"cannot write --output {output}: {error.strerror or error}")
        raise typer.Exit(exit_codes.INVALID) from None
    if fmt == "json":
        emit_rows([figures.to_json()], "json", "report")
    else:
        print_report(figures)
    errors.print(f"report written to {output}")
