"""`aftersales`: the command line for desks, supervisors, auditors and operators."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.progress import Progress

from aftersales import exit_codes
from aftersales.bootstrap import build_app
from aftersales.cli_audit import audit_app
from aftersales.cli_case import case_app
from aftersales.cli_deadlines import deadlines_app
from aftersales.cli_policy import policy_app
from aftersales.cli_projections import projections_app, query, report, status
from aftersales.cli_run import broker, run
from aftersales.errors import classify
from aftersales.inputs import count_lines, read_items
from aftersales.output import emit_json_line, errors, fail
from consumers.translate import apply_upstream, execute
from schemas.commands import COMMAND
from schemas.errors import describe_validation
from schemas.inbound import ANY_INBOUND

app = typer.Typer(
    help="Event-sourced after-sales case engine: returns, refunds, complaints.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(case_app, name="case")
app.add_typer(audit_app, name="audit")
app.add_typer(deadlines_app, name="deadlines")
app.add_typer(policy_app, name="policy")
app.command()(run)
app.command()(broker)
app.command()(query)
app.command()(status)
app.command()(report)
app.add_typer(projections_app, name="projections")

Source = Annotated[
    str, typer.Argument(help="a JSON file (one object, an array or JSON lines) or - for stdin")
]


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log more")] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@app.command()
def submit(
    source: Source,
    stop_on_error: Annotated[bool, typer.Option(help="stop at the first failed command")] = False,
) -> None:
    """Run commands (SPEC §4.3): prints one JSON result per command.

    A refused or invalid command changes nothing in the store; the exit code is that of the
    first failure (1 refused, 2 invalid, 3 not found, 4 conflict, 5 unavailable)."""
    application = build_app()
    worst = exit_codes.OK
    for item in read_items(source):
        code = _submit_one(application, item.line, item.value, item.error)
        worst = worst or code
        if code and stop_on_error:
            break
    raise typer.Exit(worst)


def _submit_one(application: object, line: int, value: object, error: str | None) -> int:
    if error is not None:
        fail(f"line {line}: {error}")
        return exit_codes.INVALID
    try:
        command = COMMAND.validate_python(value)
    except ValidationError as invalid:
        fail(f"line {line}: invalid command: {describe_validation(invalid)}")
        return exit_codes.INVALID
    try:
        result = execute(application, command, datetime.now(UTC))  # type: ignore[arg-type]
    except Exception as problem:  # classified below; anything unknown is re-raised
        code, message = classify(problem)
        fail(f"line {line}: {command.command} refused: {message}")
        return code
    emit_json_line({"command": command.command, **result.to_json()})
    return exit_codes.OK


@app.command()
def ingest(source: Source) -> None:
    """Apply upstream order and shipment events (SPEC §4.1) without a broker.

    The same validation as the Kafka consumers; a redelivered event_id changes nothing.
    Prints one JSON line per event; invalid events are reported with their line number."""
    application = build_app()
    worst = exit_codes.OK
    applied = skipped = failed = 0
    total = count_lines(source)
    with Progress(console=errors, transient=True, disable=not errors.is_terminal) as progress:
        task = progress.add_task("ingesting", total=total)
        for item in read_items(source):
            progress.advance(task)
            if item.error is not None:
                fail(f"line {item.line}: {item.error}")
                worst, failed = worst or exit_codes.INVALID, failed + 1
                continue
            try:
                message = ANY_INBOUND.validate_python(item.value)
                result = apply_upstream(application, message)
            except ValidationError as invalid:
                fail(f"line {item.line}: invalid event: {describe_validation(invalid)}")
                worst, failed = worst or exit_codes.INVALID, failed + 1
                continue
            except Exception as problem:  # classified below; anything unknown is re-raised
                code, text = classify(problem)
                fail(f"line {item.line}: event refused: {text}")
                worst, failed = worst or code, failed + 1
                continue
            applied, skipped = applied + result.applied, skipped + (not result.applied)
            emit_json_line(result.to_json())
    errors.print(
        f"ingested: {applied} applied, {skipped} already seen, {failed} failed", highlight=False
    )
    raise typer.Exit(worst)


def main() -> None:
    app()
