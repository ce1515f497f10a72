"""`aftersales`: the operator's command line, for people who hold the store.

Every command that acts on cases or reads them acts as a principal (`--as NAME` or
AFTERSALES_PRINCIPAL) and is allowed or denied by the permission matrix in the application,
as it would be through any other entry point. Network callers authenticate through the
service API instead."""

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
from aftersales.cli_principals import principals_app
from aftersales.cli_projections import projections_app, query, report, status
from aftersales.cli_run import broker, run
from aftersales.errors import classify
from aftersales.identity import AsPrincipal, caller_for
from aftersales.identity import now as received_now
from aftersales.inputs import count_lines, read_items
from aftersales.output import emit_json_line, errors, fail
from aftersales_core.application.access import Caller
from aftersales_core.application.services import Services
from aftersales_core.errors import DomainError
from dispatch.commands import submit as submit_command
from dispatch.upstream import apply_upstream
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
app.command()(run)
app.command()(broker)
app.command()(query)
app.command()(status)
app.command()(report)
app.add_typer(projections_app, name="projections")
app.add_typer(principals_app, name="principals")

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
    as_principal: AsPrincipal = None,
    envelopes: Annotated[bool, typer.Option(
        help="each item is {\"as\": NAME, \"command\": {…}}: replay the work of many "
             "principals in one process (backfills, the demo)")] = False,
    stop_on_error: Annotated[bool, typer.Option(help="stop at the first failed command")] = False,
) -> None:
    """Run commands (SPEC §4.3) as a principal: prints one JSON result per command.

    A refused, denied or invalid command changes nothing in the store; the exit code is that
    of the first failure (1 refused, 2 invalid, 3 not found, 4 conflict, 5 unavailable,
    6 denied)."""
    application = build_app()
    callers: dict[str, Caller] = {}
    default = None if envelopes else caller_for(application, as_principal)
    worst = exit_codes.OK
    for item in read_items(source):
        value, caller, error, code = item.value, default, item.error, exit_codes.OK
        if envelopes and error is None:
            value, caller, error, code = _unwrap(application, callers, item.value)
        if caller is None:
            fail(f"line {item.line}: {error}")
        else:
            code = _submit_one(application, received_now(caller), item.line, value, error)
        worst = worst or code
        if code and stop_on_error:
            break
    raise typer.Exit(worst)


def _unwrap(
    application: Services, callers: dict[str, Caller], value: object
) -> tuple[object, Caller | None, str | None, int]:
    """(command, caller, error, exit code) of an envelope ``{"as": NAME, "command": {...}}``."""
    if not isinstance(value, dict) or set(value) != {"as", "command"}:
        return None, None, 'an envelope is {"as": NAME, "command": {...}} and nothing else', 2
    name = value["as"]
    if not isinstance(name, str):
        return None, None, '"as" names a principal', exit_codes.INVALID
    if name not in callers:
        try:
            callers[name] = caller_for(application, name)
        except typer.Exit as refused:
            return None, None, f"cannot act as {name!r}", refused.exit_code
    return value["command"], callers[name], None, exit_codes.OK


def _submit_one(
    application: Services, caller: Caller, line: int, value: object, error: str | None
) -> int:
    if error is not None:
        fail(f"line {line}: {error}")
        return exit_codes.INVALID
    name = value.get("command") if isinstance(value, dict) else None
    name = name if isinstance(name, str) and name.isidentifier() and len(name) < 64 else "command"
    try:
        result = submit_command(application, caller, value, datetime.now(UTC))
    except ValidationError as invalid:
        fail(f"line {line}: invalid command: {describe_validation(invalid)}")
        return exit_codes.INVALID
    except DomainError as problem:
        code, message = classify(problem)
        verb = "denied" if code == exit_codes.DENIED else "refused"
        said = message if message.startswith(f"{name} {verb}") else f"{name} {verb}: {message}"
        fail(f"line {line}: {said}")
        return code
    except Exception as problem:  # classified below; anything unknown is re-raised
        code, message = classify(problem)
        fail(f"line {line}: {name} refused: {message}")
        return code
    emit_json_line({"command": name, **result.to_json()})
    return exit_codes.OK


@app.command()
def ingest(source: Source, as_principal: AsPrincipal = None) -> None:
    """Apply upstream order and shipment events (SPEC §4.1) without a broker, as a principal
    with the upstream role (a carrier: return shipment scans only).

    The same validation as the Kafka consumers; a redelivered event_id changes nothing.
    Prints one JSON line per event; invalid events are reported with their line number."""
    application = build_app()
    caller = caller_for(application, as_principal)
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
                result = apply_upstream(application, received_now(caller), message)
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
