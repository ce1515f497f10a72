"""`aftersales`: the operator's command line, for people who hold the store.

Every command that acts on cases or reads them acts as a principal (`--as NAME` or
AFTERSALES_PRINCIPAL) and is allowed or denied by the permission matrix in the application,
as it would be through any other entry point. Network callers authenticate through the
service API instead."""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Annotated, Literal

import typer

try:  # typer >= 0.16 carries its own click
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
except ImportError:  # pragma: no cover - older typer uses click itself
    from click.exceptions import (  # type: ignore[no-redef,assignment,unused-ignore]
        ClickException,
        NoArgsIsHelpError,
        UsageError,
    )

from aftersales import exit_codes
from aftersales.cli_audit import audit_app
from aftersales.cli_case import case_app
from aftersales.cli_deadlines import deadlines_app
from aftersales.cli_dlq import dlq_app
from aftersales.cli_insights import insights_app
from aftersales.cli_keys import principals_app  # with the key commands registered
from aftersales.cli_policy import policy_app
from aftersales.cli_privacy import customer_app, keys_app
from aftersales.cli_projections import QUERY_COMMAND, projections_app, query, report
from aftersales.cli_run import broker, run
from aftersales.cli_serve import serve
from aftersales.cli_status import status
from aftersales.errors import classify
from aftersales.identity import AsPrincipal, caller_for
from aftersales.identity import now as received_now
from aftersales.inputs import chunked, count_lines, opened, read_documents
from aftersales.logs import configure
from aftersales.output import emit_json_line, errors, fail, notice
from aftersales_core.errors import DomainError
from workers.collector import tune_collector

if TYPE_CHECKING:  # what the commands use is imported when they run: --help loads none of it
    from rich.progress import Progress, TaskID

    from aftersales_core.application.access import Caller
    from aftersales_core.application.results import CommandResult
    from aftersales_core.application.services import Services
    from aftersales_core.application.upstream import UpstreamResult
    from dispatch.group_commit import Done
    from schemas.json_stream import Document

BATCH = 500  # documents decided together and committed in one transaction (group commit)
KNOWN_CALLERS = 10_000  # principals an --envelopes submit remembers (the oldest is forgotten)

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
app.add_typer(insights_app, name="insights")
app.command()(run)
app.command()(broker)
app.command()(serve)
app.command(cls=QUERY_COMMAND)(query)
app.command()(status)
app.command()(report)
app.add_typer(projections_app, name="projections")
app.add_typer(principals_app, name="principals")
app.add_typer(customer_app, name="customer")
app.add_typer(keys_app, name="keys")
app.add_typer(dlq_app, name="dlq")

Source = Annotated[
    str, typer.Argument(help="a JSON file (one object, an array or JSON lines) or - for stdin")
]


def _version(shown: bool) -> None:
    if shown:
        from importlib.metadata import version as package_version

        print(f"aftersales {package_version('aftersales')}")
        raise typer.Exit(exit_codes.OK)


@app.callback()
def _main(
    verbose: Annotated[int, typer.Option(
        "--verbose", "-v", count=True, help="log more: -v the engine's own debug lines (a "
        "failure's traceback too), libraries' warnings; -vv the libraries' debug lines as well "
        "(kafka-python's: every request)")] = 0,
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="print the version and exit")
    ] = False,
    log_format: Annotated[Literal["text", "json"], typer.Option(
        help="text: one readable line per log record; json: one JSON object per line (time, "
             "level, logger, message), with topic, partition, offset and case_id as fields "
             "when the line is about a Kafka message or a case")] = "text",
) -> None:
    tune_collector()
    configure(verbose, log_format)


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

    The input is streamed: any number of commands in bounded memory. A refused, denied or
    invalid command changes nothing in the store; the exit code is that of the first failure
    (1 refused, 2 invalid, 3 not found, 4 conflict, 5 unavailable: then nothing more is tried,
    6 denied)."""
    from aftersales.bootstrap import build_app

    with opened(source) as stream:  # opened once: a pipe can be read only once
        application = build_app()
        tune_collector()  # again: what the command loaded since start-up is frozen too
        worst = _submit_all(application, read_documents(stream), as_principal, envelopes,
                            stop_on_error)
    raise typer.Exit(worst)


def _submit_all(application: Services, documents: Iterator[Document],
                as_principal: str | None, envelopes: bool, stop_on_error: bool) -> int:
    """Run the documents' commands in batches; the exit code of the first failure."""
    from dispatch.group_commit import run_together

    callers: dict[str, Caller] = {}
    default = None if envelopes else caller_for(application, as_principal)
    worst = exit_codes.OK
    size = 1 if stop_on_error else BATCH  # stopping at the first failure: one at a time
    for chunk in chunked(documents, size):
        ready = [_prepare(application, document, default, callers) for document in chunk]
        jobs = [item.job for item in ready if isinstance(item, _Ready)]
        outcomes = iter(run_together(application.store, jobs))
        for item in ready:  # reported in input order, once the batch is durable
            if isinstance(item, _Failed):
                fail(item.message)
                code = item.code
            else:
                code = _report(item, next(outcomes))
            worst = worst or code
            if code == exit_codes.UNAVAILABLE or (code and stop_on_error):
                return worst
    return worst


@dataclass
class _Ready:
    line: int
    name: str
    job: Callable[[], CommandResult]


@dataclass
class _Failed:
    message: str
    code: int


def _prepare(application: Services, document: Document, default: Caller | None,
             callers: dict[str, Caller]) -> _Ready | _Failed:
    """The command of one document, ready to run; or its failure, to report in its turn."""
    from dispatch.commands import submit as submit_command
    from schemas import strict_json
    from schemas.errors import InputRefused

    line = document.line
    if document.raw is None:
        return _Failed(f"line {line}: {document.error}", exit_codes.INVALID)
    try:
        body = strict_json.loads(document.raw)
    except InputRefused as invalid:
        return _Failed(f"line {line}: {_what(invalid, 'command')}{invalid}", exit_codes.INVALID)
    caller = default
    if caller is None:  # --envelopes
        body, caller, problem, code = _unwrap(application, callers, body)
        if caller is None:
            return _Failed(f"line {line}: {problem}", code)
    name = body.get("command") if isinstance(body, dict) else None
    name = name if isinstance(name, str) and name.isidentifier() and len(name) < 64 else "command"
    return _Ready(line, name, partial(submit_command, application, received_now(caller), body,
                                      datetime.now(UTC)))


def _report(ready: _Ready, done: Done[CommandResult]) -> int:
    from schemas.errors import InputRefused

    line, name = ready.line, ready.name
    if isinstance(done.error, InputRefused):
        fail(f"line {line}: {_what(done.error, 'command')}{done.error}")
        return exit_codes.INVALID
    if done.error is not None:
        code, message = classify(done.error)
        verb = "denied" if code == exit_codes.DENIED else "refused"
        said = message if message.startswith(f"{name} {verb}") else f"{name} {verb}: {message}"
        fail(f"line {line}: {said}" if code < exit_codes.UNAVAILABLE or code == exit_codes.DENIED
             else f"line {line}: {name} not run: {message}")
        return code
    assert done.value is not None
    if not done.value.applied:
        notice(f"line {line}: {name} already recorded: {done.value.note}")
    emit_json_line({"command": name, **done.value.to_json()})
    return exit_codes.OK


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
        except DomainError as refused:
            code, message = classify(refused)
            return None, None, f"cannot act as {name!r}: {message}", code
        if len(callers) > KNOWN_CALLERS:  # bounded memory, whatever the principals
            del callers[next(iter(callers))]
    return value["command"], callers[name], None, exit_codes.OK


@app.command()
def ingest(source: Source, as_principal: AsPrincipal = None) -> None:
    """Apply upstream order and shipment events (SPEC §4.1) without a broker, as a principal
    with the upstream role (a carrier: return shipment scans only).

    The same validation as the Kafka consumers; a redelivered event_id changes nothing.
    Prints one JSON line per event; invalid events are reported with their line number. The
    input is streamed; a store outage stops it with exit 5."""
    from rich.progress import Progress

    from aftersales.bootstrap import build_app

    with opened(source) as stream:  # opened once: a pipe can be read only once
        application = build_app()
        tune_collector()  # again: what the command loaded since start-up is frozen too
        caller = caller_for(application, as_principal)
        total = count_lines(stream)  # None (no total) unless a regular file
        with Progress(console=errors, transient=True, disable=not errors.is_terminal) as bar:
            task = bar.add_task("ingesting", total=total)
            worst, applied, held, skipped, failed = _ingest_all(
                application, caller, read_documents(stream), bar, task)
    waiting = f" ({held} held for orders not placed)" if held else ""
    errors.print(f"ingested: {applied} applied{waiting}, {skipped} already seen, {failed} failed",
                 highlight=False)
    raise typer.Exit(worst)


def _ingest_all(application: Services, caller: Caller, documents: Iterator[Document],
                progress: Progress, task: TaskID) -> tuple[int, int, int, int, int]:
    """(exit code, applied, of them held for orders not placed, already seen, failed) of
    applying the documents in batches."""
    from dispatch.group_commit import run_together

    worst = exit_codes.OK
    applied = held = skipped = failed = 0
    for chunk in chunked(documents, BATCH):
        jobs = [partial(_ingest_one, application, received_now(caller), document)
                for document in chunk]
        for document, done in zip(chunk, run_together(application.store, jobs), strict=True):
            progress.advance(task)
            if done.error is not None:
                code, text = classify(done.error)
                what = (_what(done.error, "event") if code < exit_codes.UNAVAILABLE
                        else "event denied: " if code == exit_codes.DENIED
                        else "event not applied: ")
                fail(f"line {document.line}: {what}{text}")
                worst, failed = worst or code, failed + 1
                if code == exit_codes.UNAVAILABLE:
                    return worst, applied, held, skipped, failed
                continue
            assert done.value is not None
            applied += done.value.applied
            held += done.value.held
            skipped += not done.value.applied
            emit_json_line(done.value.to_json())
    return worst, applied, held, skipped, failed


def _ingest_one(application: Services, caller: Caller, document: Document) -> UpstreamResult:
    from dispatch.upstream import apply_upstream
    from schemas.boundary import read_inbound
    from schemas.errors import InputRefused

    if document.raw is None:
        raise InputRefused(document.kind, document.error or "unreadable")
    return apply_upstream(application, caller, read_inbound(document.raw))


def _what(problem: Exception, noun: str) -> str:
    """How an error line starts: `invalid event: `, `event refused: `, or nothing when the
    document itself could not be read (`not JSON: …`, `… bytes, over the limit …`)."""
    from schemas.errors import InputRefused

    if not isinstance(problem, InputRefused):
        return f"{noun} refused: "
    return f"invalid {noun}: " if problem.kind in ("invalid", "wrong_topic") else ""


def reflow(text: str) -> str:
    """A help text as paragraphs: the docstring's hard line breaks become spaces, so the
    terminal (or the help's own width) decides where lines break."""
    paragraphs = re.split(r"\n\s*\n", inspect.cleandoc(text))
    return "\n\n".join(" ".join(paragraph.split()) for paragraph in paragraphs)


def reflow_help(typer_app: typer.Typer) -> None:
    """Reflow every command's help in the tree (commands' docstrings, groups' help)."""
    for command in typer_app.registered_commands:
        callback = command.callback
        if command.help is not None:
            command.help = reflow(command.help)
        elif callback is not None and callback.__doc__:
            callback.__doc__ = reflow(callback.__doc__)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            info = group.typer_instance.info
            if isinstance(info.help, str):
                info.help = reflow(info.help)
            reflow_help(group.typer_instance)


def main() -> None:
    """The entry point: every failure becomes its exit code and one line, never a traceback
    (usage errors too: the message and where to find help)."""
    reflow_help(app)
    try:
        code = app(standalone_mode=False)
    except NoArgsIsHelpError as shown:
        shown.show()
        sys.exit(shown.exit_code)
    except UsageError as usage:
        where = f" (see '{usage.ctx.command_path} --help')" if usage.ctx is not None else ""
        fail(f"{usage.format_message()}{where}")
        sys.exit(exit_codes.INVALID)
    except ClickException as problem:
        fail(problem.format_message())
        sys.exit(problem.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        fail("interrupted")
        sys.exit(130)
    except Exception as problem:
        code, message = classify(problem)
        fail(message)
        sys.exit(code)
    sys.exit(code if isinstance(code, int) else exit_codes.OK)
