"""`aftersales audit …`: seal the store's events into a hash chain; verify nothing was altered;
list the denials of the security log.

`aftersales run --role auditor` seals continuously with the wall clock (audit/auditor.py has
the chain, the checkpoint table and what verification can and cannot tell)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from aftersales import exit_codes
from aftersales.errors import exit_for
from aftersales.identity import AsPrincipal, caller_for
from aftersales.output import Format as RowsFormat
from aftersales.output import console, emit_json_line, emit_rows, errors, fail, table

if TYPE_CHECKING:
    from audit.auditor import OnProgress, SealResult, VerifyReport

audit_app = typer.Typer(
    help="Tamper evidence: seal the store's events into a hash chain, verify it.",
    no_args_is_help=True,
)
Format = Annotated[Literal["table", "json"], typer.Option("--format")]


@audit_app.command("seal")
def seal(
    batch_size: Annotated[int, typer.Option(min=1, help="events per checkpoint")] = 1000,
    fmt: Format = "table",
) -> None:
    """Extend the chain from the last checkpoint to the store's end: one checkpoint per batch
    of events and one for the head. Sealing again without new events adds nothing (an
    operator's job, like `aftersales run --role auditor`: it shows and changes no case)."""
    from aftersales.bootstrap import build_app
    from audit.auditor import Auditor

    app = build_app()
    try:
        store = app.store
        result = Auditor(store.recorder, store.mapper, batch_size=batch_size).seal(
            datetime.now(UTC)
        )
    except Exception as problem:  # every failure has its exit code and one line
        raise exit_for(problem) from None
    finally:
        app.close()
    _show_seal(result, fmt)


def _show_seal(result: SealResult, fmt: str) -> None:
    if fmt == "json":
        emit_json_line(result.to_json())
    else:
        console.print(table("audit seal", ("field", "value"), result.to_json().items()))
    rate = result.events / result.seconds if result.seconds else 0.0
    errors.print(f"sealed {result.events} events in {result.checkpoints} checkpoints up to "
                 f"position {result.head} ({rate:,.0f} events/s); keep the head "
                 f"{result.head}:{result.chain_hash} elsewhere to pass as --anchor",
                 highlight=False, soft_wrap=True)


def _anchor(text: str) -> tuple[int, str]:
    position, _, digest = text.partition(":")
    try:
        bytes.fromhex(digest)
        if len(digest) != 64:
            raise ValueError(digest)
        return int(position), digest.lower()
    except ValueError:
        raise typer.BadParameter(f"--anchor: expected POSITION:SHA256HEX, got {text!r}") from None


@audit_app.command("verify")
def verify(
    decisions: Annotated[bool, typer.Option(
        "--decisions", help="also re-run every recorded policy decision")] = False,
    anchor: Annotated[list[str] | None, typer.Option(
        "--anchor", help="POSITION:HASH printed by an earlier seal and kept elsewhere; the "
                         "chain must pass through it (repeat)")] = None,
    as_principal: AsPrincipal = None,
    fmt: Format = "table",
) -> None:
    """Recompute the chain from position 1 and compare it with every checkpoint (auditors).

    Exits 0 when intact (events not yet sealed are listed, not counted as tampering), 1 when
    any stored event was changed, deleted or inserted (the first position of each is named)
    or, with --decisions, when a recorded decision no longer gives the same result."""
    from aftersales.bootstrap import build_app
    from audit.auditor import Auditor

    anchors = [_anchor(a) for a in anchor or []]
    app = build_app(reading=True)
    try:
        app.reads.require(caller_for(app, as_principal, "VerifyAudit"), "VerifyAudit")
        with _progress() as on_progress:
            report = Auditor(app.store.recorder, app.store.mapper,
                             rerun=app.store.books.rerun).verify(
                decisions=decisions, anchors=anchors, progress=on_progress)
    except Exception as problem:  # every failure has its exit code and one line
        raise exit_for(problem) from None
    finally:
        app.close()
    _show_report(report, fmt)
    errors.print(f"verified {report.events} sealed events in {report.seconds:.2f}s "
                 f"({report.per_second:,.0f} events/s)", highlight=False, soft_wrap=True)
    if not report.intact:
        first = report.findings[0]
        fail(f"tampered: {len(report.findings)} finding(s); the chain first diverges at "
             f"position {first.position}: {first.detail}")
        raise typer.Exit(exit_codes.REFUSED)
    if report.decision_mismatches:
        fail(f"{len(report.decision_mismatches)} recorded decision(s) no longer give the same "
             "result when re-run")
        raise typer.Exit(exit_codes.REFUSED)
    if report.unsealed:
        errors.print(f"intact; {report.unsealed} events from position {report.first_unsealed} "
                     "are not yet sealed (aftersales audit seal)", highlight=False, soft_wrap=True)


@contextmanager
def _progress() -> Iterator[OnProgress]:
    """A bar on a terminal; otherwise a line every 5 seconds (only long runs print any)."""
    from rich.progress import Progress

    if errors.is_terminal:
        with Progress(console=errors, transient=True) as bar:
            task = bar.add_task("verifying", total=None)

            def update(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            yield update
        return
    last = [time.monotonic()]

    def line(done: int, total: int) -> None:
        if time.monotonic() - last[0] >= 5.0 and done < total:
            last[0] = time.monotonic()
            errors.print(f"verifying: position {done:,} of {total:,} "
                         f"({done / total:.0%})", highlight=False)

    yield line


def _show_report(report: VerifyReport, fmt: str) -> None:
    data = report.to_json()
    if fmt == "json":
        emit_json_line(data)
        return
    summary: list[tuple[str, Any]] = [
        ("result", "intact" if report.intact else "TAMPERED"),
        ("events verified", report.events),
        ("checkpoints", report.checkpoints),
        ("sealed head", f"{report.sealed_head} {report.head_hash}".strip()),
        ("last sealed at", report.last_sealed_at),
        ("store end", report.store_end),
        ("not yet sealed", report.unsealed if not report.unsealed
         else f"{report.unsealed} (from position {report.first_unsealed})"),
        ("seconds", f"{report.seconds:.3f}"),
        ("events/s", f"{report.per_second:,.0f}"),
    ]
    if report.decisions_checked is not None:
        summary.append(("decisions re-run", f"{report.decisions_checked} "
                        f"({len(report.decision_mismatches)} differ)"))
    console.print(table("audit verification", ("field", "value"), summary))
    if report.findings:
        console.print(table(
            "findings", ("position", "kind", "detail", "found in the store"),
            ((f.position, f.kind, f.detail,
              "" if f.found is None else " ".join(f"{k}={v}" for k, v in f.found.items()))
             for f in report.findings)))
    if report.decision_mismatches:
        console.print(table(
            "decisions that no longer give the same result",
            ("position", "case", "policy", "version", "recorded", "re-run"),
            ((m.position, m.case_id, m.policy_id, m.policy_version, m.recorded, m.rerun)
             for m in report.decision_mismatches)))


@audit_app.command("denials")
def denials(
    since: Annotated[str | None, typer.Option(help="RFC 3339: only denials at or after")] = None,
    principal: Annotated[str | None, typer.Option(help="only this principal's (a name)")] = None,
    operation: Annotated[str | None, typer.Option(help="only this operation")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1_000_000)] = 1000,
    as_principal: AsPrincipal = None,
    fmt: Annotated[RowsFormat, typer.Option("--format")] = "table",
) -> None:
    """The security log (auditors): every denied operation, oldest first, with the principal,
    the operation, the case, the access rule that denied it and why."""
    from aftersales.bootstrap import build_app
    from audit.denials import LISTED as DENIAL_COLUMNS
    from audit.denials import SqlDenialLog

    after = None
    if since is not None:
        try:
            after = datetime.fromisoformat(since)
        except ValueError:
            raise typer.BadParameter(f"--since: not an RFC 3339 time: {since!r}") from None
        if after.tzinfo is None:
            raise typer.BadParameter("--since needs a UTC offset") from None
    app = build_app(reading=True)
    try:
        app.reads.require(caller_for(app, as_principal, "ReadDenials"), "ReadDenials")
        rows = SqlDenialLog(app.store.recorder).list(
            since=after, principal=principal, operation=operation, limit=limit
        )
    except Exception as problem:  # every failure has its exit code and one line
        raise exit_for(problem) from None
    finally:
        app.close()
    if fmt != "json":
        for row in rows:
            row["reasons"] = "; ".join(row["reasons"])
            del row["inputs"]
    emit_rows(rows, fmt, f"denials ({len(rows)})",
              [c for c in DENIAL_COLUMNS if fmt == "json" or c != "inputs"])
