"""`aftersales principals …`: who may act, in which roles (administrators manage them).

`bootstrap NAME` creates the first administrator: the operator who holds the store runs it once,
and it is refused as soon as an enabled administrator exists. Everything else acts as a
principal with the admin role (`--as`); listing and showing also as an auditor."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Literal, TypeVar

import typer

from aftersales import exit_codes
from aftersales.errors import classify, exit_for
from aftersales.identity import AsPrincipal, caller_for
from aftersales.inputs import opened, read_documents
from aftersales.output import Format, console, emit_json_line, emit_rows, errors, fail, table
from aftersales_core.domain.roles import GRANTABLE

if TYPE_CHECKING:
    from aftersales_core.application.principals import PrincipalChange
    from aftersales_core.application.services import Services
    from schemas.json_stream import Document

principals_app = typer.Typer(
    help="Principals: who may act, in which roles (managed by administrators).",
    no_args_is_help=True,
)
T = TypeVar("T")
Name = Annotated[str, typer.Argument(help="the principal's name (normalised: case folded)")]
RoleOption = Annotated[str, typer.Option("--role", help=f"one of: {', '.join(sorted(GRANTABLE))}")]
Customer = Annotated[str | None, typer.Option(
    "--customer", help="the customer id a principal with the customer role is bound to")]
PRINCIPAL_COLUMNS = ("name", "principal_id", "roles", "customer_id", "enabled", "version")
IMPORT_FIELDS = frozenset({"name", "roles", "customer_id"})  # of a line of `principals import`
ShowFormat = Annotated[Literal["table", "json"], typer.Option("--format")]


def _run(work: Callable[[Services], T], *, reading: bool = False) -> T:
    """``work`` over the store; ``reading``: it only reads, so a SQLite store file that does
    not exist is exit 5 and none is created."""
    from aftersales.bootstrap import build_app

    app = build_app(reading=reading)
    try:
        return work(app)
    except Exception as problem:  # every failure has its exit code and one line
        raise exit_for(problem) from None
    finally:
        app.close()


def _changed(change: PrincipalChange, fmt: str) -> None:
    if fmt == "json":
        emit_json_line(change.to_json())
        return
    console.print(table(f"principal {change.name}", ("field", "value"),
                        ((k, v) for k, v in change.to_json().items())))


@principals_app.command("bootstrap")
def bootstrap(name: Name, fmt: ShowFormat = "table") -> None:
    """Create the first administrator (only while no enabled administrator exists)."""
    _changed(_run(lambda app: app.principals.bootstrap(name, datetime.now(UTC))), fmt)


@principals_app.command("add")
def add(
    name: Name,
    role: Annotated[list[str], typer.Option(
        "--role", help=f"repeatable: {', '.join(sorted(GRANTABLE))}")],
    customer: Customer = None,
    as_principal: AsPrincipal = None,
    fmt: ShowFormat = "table",
) -> None:
    """Add a principal with its roles (customer: bound to --customer ID)."""
    def work(app: Services) -> PrincipalChange:
        caller = caller_for(app, as_principal, "AddPrincipal")
        return app.principals.add(caller, name, role, datetime.now(UTC), customer_id=customer)

    _changed(_run(work), fmt)


@principals_app.command("import")
def import_principals(
    source: Annotated[str, typer.Argument(
        help='JSON lines {"name": …, "roles": […], "customer_id": …} or - for stdin')],
    as_principal: AsPrincipal = None,
) -> None:
    """Add many principals at once (each line as `add` would); existing names are skipped.

    Prints one JSON line per principal added; exits with the first failure's code."""
    from aftersales.bootstrap import build_app

    with opened(source) as stream:  # opened once: a pipe can be read only once
        worst, added, skipped = _import_all(build_app(), as_principal, read_documents(stream))
    errors.print(f"principals: {added} added, {skipped} existed already", highlight=False)
    raise typer.Exit(worst)


def _import_all(app: Services, as_principal: str | None, documents: Iterator[Document]
                ) -> tuple[int, int, int]:
    """(exit code, added, skipped) of adding each document's principal; closes ``app``."""
    from aftersales_core.errors import PrincipalExistsError
    from schemas import strict_json
    from schemas.common import shown
    from schemas.errors import InputRefused

    worst = exit_codes.OK
    added = skipped = 0
    try:
        caller = caller_for(app, as_principal, "AddPrincipal")
        for document in documents:
            line = document.line
            try:
                value = strict_json.loads(document.raw) if document.raw is not None else None
            except InputRefused:
                value = None
            if not isinstance(value, dict) or not isinstance(value.get("name"), str) or \
                    not isinstance(value.get("roles"), list):
                fail(f"line {line}: expected {{\"name\": …, \"roles\": […]}}")
                worst = worst or exit_codes.INVALID
                continue
            unknown = sorted(set(value) - IMPORT_FIELDS)
            if unknown:  # a "by" or a misspelt "customer_id" is not dropped unseen
                fail(f"line {line}: unknown field(s) {', '.join(shown(u) for u in unknown)}: "
                     f"a principal is {{\"name\", \"roles\", \"customer_id\"}}")
                worst = worst or exit_codes.INVALID
                continue
            try:
                change = app.principals.add(caller, value["name"], value["roles"],
                                            datetime.now(UTC), value.get("customer_id"))
            except PrincipalExistsError:
                skipped += 1
                continue
            except Exception as problem:  # every failure has its exit code and one line
                code, message = classify(problem)
                fail(f"line {line}: {message}")
                worst = worst or code
                if code == exit_codes.UNAVAILABLE:
                    break
                continue
            added += 1
            emit_json_line(change.to_json())
    finally:
        app.close()
    return worst, added, skipped


@principals_app.command("grant")
def grant(name: Name, role: RoleOption, customer: Customer = None,
          as_principal: AsPrincipal = None, fmt: ShowFormat = "table") -> None:
    """Grant a role (customer: bound to --customer ID)."""
    def work(app: Services) -> PrincipalChange:
        caller = caller_for(app, as_principal, "GrantRole")
        return app.principals.grant(caller, name, role, datetime.now(UTC), customer_id=customer)

    _changed(_run(work), fmt)


@principals_app.command("revoke")
def revoke(name: Name, role: RoleOption, as_principal: AsPrincipal = None,
           fmt: ShowFormat = "table") -> None:
    """Revoke a role."""
    def work(app: Services) -> PrincipalChange:
        caller = caller_for(app, as_principal, "RevokeRole")
        return app.principals.revoke(caller, name, role, datetime.now(UTC))

    _changed(_run(work), fmt)


@principals_app.command("disable")
def disable(
    name: Name,
    reason: Annotated[str, typer.Option(help="why (kept in the principal's history)")
                      ] = "disabled by an administrator",
    as_principal: AsPrincipal = None,
    fmt: ShowFormat = "table",
) -> None:
    """Disable a principal: it may do nothing until re-enabled."""
    def work(app: Services) -> PrincipalChange:
        caller = caller_for(app, as_principal, "DisablePrincipal")
        return app.principals.disable(caller, name, reason, datetime.now(UTC))

    _changed(_run(work), fmt)


@principals_app.command("enable")
def enable(name: Name, as_principal: AsPrincipal = None, fmt: ShowFormat = "table") -> None:
    """Re-enable a disabled principal."""
    def work(app: Services) -> PrincipalChange:
        caller = caller_for(app, as_principal, "EnablePrincipal")
        return app.principals.enable(caller, name, datetime.now(UTC))

    _changed(_run(work), fmt)


@principals_app.command("list")
def list_principals(as_principal: AsPrincipal = None,
                    fmt: Annotated[Format, typer.Option("--format")] = "table") -> None:
    """Every principal with its roles (admins and auditors)."""
    def work(app: Services) -> list[PrincipalChange]:
        return app.principals.listing(caller_for(app, as_principal, "ReadPrincipals"))

    rows = [p.to_json() for p in _run(work, reading=True)]
    for row in rows:
        row["roles"] = " ".join(row["roles"]) if fmt != "json" else row["roles"]
    emit_rows(rows, fmt, f"principals ({len(rows)})", PRINCIPAL_COLUMNS)


@principals_app.command("show")
def show(name: Name, as_principal: AsPrincipal = None, fmt: ShowFormat = "table") -> None:
    """A principal and its history: every change, by whom, in which role, when."""
    def work(app: Services) -> tuple[PrincipalChange, list[dict[str, object]]]:
        return app.principals.show(caller_for(app, as_principal, "ReadPrincipals"), name)

    change, history = _run(work, reading=True)
    if fmt == "json":
        emit_json_line({**change.to_json(), "history": history})
        return
    _changed(change, fmt)
    console.print(table("history", ("#", "at", "change", "by", "role", "detail"), (
        (h["version"], h["at"], h["type"], h.get("by"), h.get("role"),
         " ".join(f"{k}={v}" for k, v in h.items()
                  if k not in ("version", "at", "type", "by", "role")))
        for h in history)))
