"""`aftersales deadlines …`: list open deadlines, fire the due ones (batch use and tests).

`aftersales run --role scheduler` does the same firing continuously with the wall clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

import typer

from aftersales import exit_codes
from aftersales.errors import exit_for
from aftersales.identity import AsPrincipal, caller_for
from aftersales.inputs import time_option
from aftersales.output import Format as RowsFormat
from aftersales.output import console, emit_rows, errors, table

deadlines_app = typer.Typer(
    help="Deadlines: list the open ones, fire the due ones.", no_args_is_help=True
)
Format = Annotated[RowsFormat, typer.Option("--format")]
FIRED_COLUMNS = ("case_id", "case_type", "deadline", "due_at", "fired_at", "action", "status",
                 "reasons", "related")
OPEN_COLUMNS = ("due_at", "case_id", "case_type", "deadline", "action")


@deadlines_app.command("fire")
def fire(
    now: Annotated[
        str | None,
        typer.Option("--now", help="RFC 3339 time: fire what is due before it; default: now"),
    ] = None,
    fmt: Format = "table",
) -> None:
    """Fire every deadline due before --now: breaches, escalations, expiries, automatic
    approvals, proactive complaints. Firing again changes nothing. Acts as the built-in
    system.scheduler principal, as `aftersales run --role scheduler` does.

    Exits 1 when the domain refused to fire some case (each is named on stderr)."""
    from aftersales.bootstrap import build_app, scheduler_principal
    from scheduling.scheduler import Scheduler

    at = time_option(now, "--now") or datetime.now(UTC)
    app = build_app()
    try:
        scheduler = Scheduler(app, scheduler_principal(app))
        fired = [f.to_json() for f in scheduler.fire_due(at)]
    except Exception as problem:  # every failure has its exit code and one line
        raise exit_for(problem) from None
    finally:
        app.close()
    if fmt != "table":
        emit_rows(fired, fmt, "fired", FIRED_COLUMNS)
    else:
        console.print(
            table(
                f"fired at {at.isoformat()}",
                ("case", "type", "deadline", "due", "action", "status", "related"),
                (
                    (
                        f["case_id"],
                        f["case_type"],
                        f["deadline"],
                        f["due_at"],
                        f["action"],
                        f["status"],
                        " ".join(f"{k}={v}" for k, v in f["related"].items()),
                    )
                    for f in fired
                ),
            )
        )
    if scheduler.stats.failed:
        errors.print(f"{scheduler.stats.failed} case(s) could not be fired; see the log above")
        raise typer.Exit(exit_codes.REFUSED)


@deadlines_app.command("list")
def list_open(
    case: Annotated[UUID | None, typer.Option("--case", help="only this case")] = None,
    due_before: Annotated[
        str | None, typer.Option("--due-before", help="RFC 3339 time: only those due before")
    ] = None,
    as_principal: AsPrincipal = None,
    fmt: Format = "table",
) -> None:
    """Open deadlines by due time, from the scheduler's index (brought up to date first)."""
    from aftersales.bootstrap import build_app
    from scheduling.deadline_index import DeadlineIndex

    before = time_option(due_before, "--due-before")
    app = build_app(reading=True)
    try:
        app.reads.require(caller_for(app, as_principal, "ListDeadlines"), "ListDeadlines")
        index = DeadlineIndex(app.store.recorder, app.store.mapper)
        index.catch_up()
        rows = [{k: d.to_json()[k] for k in OPEN_COLUMNS} for d in index.listing(case, before)]
    except Exception as problem:  # every failure has its exit code and one line
        raise exit_for(problem) from None
    finally:
        app.close()
    emit_rows(rows, fmt, "open deadlines", OPEN_COLUMNS)
