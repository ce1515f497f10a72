"""`aftersales case …`: a case's state, events and decisions, as of any moment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal
from uuid import UUID

import typer
from rich.markup import escape

from aftersales import exit_codes
from aftersales.errors import exit_for
from aftersales.identity import AsPrincipal, caller_for
from aftersales.inputs import time_option
from aftersales.output import console, emit_json_line, printable, table

if TYPE_CHECKING:
    from aftersales_core.application.history import CaseHistory
    from aftersales_core.application.services import Services

case_app = typer.Typer(help="Look at one case: state, events, decisions.", no_args_is_help=True)

CaseId = Annotated[UUID, typer.Argument(help="the case id (a UUID)")]


def _load(
    case_id: UUID, as_of: str | None, name: str | None, operation: str = "ReadCase",
    app: Services | None = None,
) -> CaseHistory:
    """The case as the principal may see it (a customer: only their own; personal data
    redacted for roles that may not read it). The services are closed unless given."""
    from aftersales.bootstrap import build_app

    at = time_option(as_of, "--as-of")
    services = app or build_app(reading=True)
    try:
        caller = caller_for(services, name, operation)
        return services.reads.case(caller, case_id, at, operation)
    except Exception as problem:  # every failure has its exit code and one line
        raise exit_for(problem) from None
    finally:
        if app is None:
            services.close()


@case_app.command("show")
def show(
    case_id: CaseId,
    as_of: Annotated[str | None, typer.Option("--as-of", help="RFC 3339 time")] = None,
    as_principal: AsPrincipal = None,
    fmt: Annotated[Literal["table", "json"], typer.Option("--format")] = "table",
) -> None:
    """The case's state, its events in order (who, in which role, when) and every policy
    decision."""
    history = _load(case_id, as_of, as_principal)
    data = history.to_json()
    if fmt == "json":
        emit_json_line(data)
        return
    state = data["state"]
    console.print(
        f"[bold]{escape(printable(data['case_type']))} {data['case_id']}[/]  status [bold]"
        f"{escape(printable(data['status']))}[/]  version {data['version']}"
        + (f"  as of {data['as_of']}" if data["as_of"] else "")
    )
    hidden = ("history", "deadlines")
    facts = [(k, v) for k, v in state.items() if k not in hidden and v not in (None, [], {})]
    console.print(table("state", ("field", "value"), facts))
    deadlines = sorted(state.get("deadlines", {}).values(), key=lambda d: d["due_at"])
    if deadlines:
        console.print(table(
            "deadlines",
            ("deadline", "state", "due", "action", "closed", "outcome", "set by", "basis"),
            ((d["name"], d["state"], d["due_at"], d["action"], d["closed_at"], d["outcome"],
              f"{d['set_by'].get('policy_id')} v{d['set_by'].get('policy_version')}", d["basis"])
             for d in deadlines),
        ))
    quota = data.get("buyer_quota")
    if quota:
        console.print(table(
            f"buyer's annual cross-border quota {quota['year']} ({quota['currency']})",
            ("limit", "used", "restored", "remaining", "this order used", "this order restored"),
            [(quota["annual_limit"], quota["used"], quota["restored"], quota["remaining"],
              quota["this_order_used"], quota["this_order_restored"])],
        ))
    console.print(
        table(
            "events",
            ("#", "at", "type", "by", "role"),
            (
                (e["version"], e["at"], e["type"], e["data"].get("by"), e["data"].get("role"))
                for e in data["events"]
            ),
        )
    )
    console.print(
        table(
            "decisions",
            ("policy", "version", "outcome", "reasons"),
            (
                (d["policy_id"], d["policy_version"], d["outcome"], "\n".join(d["reasons"]))
                for d in data["decisions"]
            ),
        )
    )


@case_app.command("rerun")
def rerun(
    case_id: CaseId,
    as_principal: AsPrincipal = None,
    fmt: Annotated[Literal["table", "json"], typer.Option("--format")] = "table",
) -> None:
    """Re-run every recorded decision of the case from its recorded inputs and policy version
    (auditors, supervisors), with the settings it used: those of the policy book version it
    recorded (checked by their hash), or its version's built-in ones before policy books.

    Exits 1 when any decision comes out differently or its settings cannot be had again."""
    from aftersales.bootstrap import build_app
    from aftersales_core.application.history import rerun_row

    app = build_app(reading=True)
    try:
        history = _load(case_id, None, as_principal, "RerunDecisions", app)
        rows = [rerun_row(decision, app.store.books.rerun) for decision in history.decisions]
    finally:
        app.close()
    if fmt == "json":
        emit_json_line(rows)
    else:
        console.print(
            table(
                "decisions re-run",
                ("policy", "version", "book", "recorded", "rerun", "same"),
                (
                    [r["policy_id"], r["policy_version"], _book_words(r["book"]),
                     r["recorded"], r["rerun"], r["same"]]
                    for r in rows
                ),
            )
        )
    if not all(r["same"] for r in rows):
        raise typer.Exit(exit_codes.REFUSED)


def _book_words(book: dict[str, Any] | None) -> str:
    if book is None:
        return "built-in (before books)"
    owner = book.get("merchant_id") if book.get("book") == "merchant" else "platform"
    return f"{owner} v{book.get('book_version')}"
