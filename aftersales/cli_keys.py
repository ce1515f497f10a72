"""`aftersales principals key | keys | revoke-key`: the API keys principals authenticate with
on the service API (administrators issue and revoke them; auditors may list them).

A key's secret is printed once, when it is issued, and kept only as a hash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from aftersales.cli_principals import Name, _run, principals_app
from aftersales.identity import AsPrincipal, caller_for
from aftersales.inputs import time_option
from aftersales.output import Format, console, emit_json_line, emit_rows, errors, table

if TYPE_CHECKING:
    from aftersales_core.application.services import Services
    from api.key_admin import KeyAdmin
    from server.keys import ApiKey, IssuedKey


def _admin(app: Services) -> KeyAdmin:
    from api.key_admin import KeyAdmin
    from server.keys import ApiKeys

    return KeyAdmin(app, ApiKeys(app.store.recorder))


@principals_app.command("key")
def issue_key(
    name: Name,
    expires: Annotated[str | None, typer.Option(help="RFC 3339: when the key stops working")
                       ] = None,
    expires_in_days: Annotated[int | None, typer.Option(
        "--expires-in-days", min=1, max=3650, help="or: days from now")] = None,
    label: Annotated[str, typer.Option(help="what the key is for (shown in listings)")] = "",
    as_principal: AsPrincipal = None,
    fmt: Annotated[Literal["table", "json"], typer.Option("--format")] = "table",
) -> None:
    """Issue an API key for a principal (admins: themselves or a principal without the admin
    role, never another administrator). The key is shown this once: store it in the calling
    service's secret store; it cannot be shown again, only revoked."""
    if expires is not None and expires_in_days is not None:
        raise typer.BadParameter("give --expires or --expires-in-days, not both")
    now = datetime.now(UTC)
    until = time_option(expires, "--expires") if expires is not None else (
        now + timedelta(days=expires_in_days) if expires_in_days is not None else None)

    def work(app: Services) -> IssuedKey:
        caller = caller_for(app, as_principal, "IssueApiKey")
        return _admin(app).issue(caller, name, now, label=label, expires_at=until)

    issued = _run(work)
    if fmt == "json":
        emit_json_line({**issued.key.to_json(now), "api_key": issued.token})
    else:
        console.print(table(f"API key {issued.key.key_id} for {issued.key.principal}",
                            ("field", "value"),
                            [("expires_at", issued.key.expires_at), ("label", issued.key.label)]))
        # on a line of its own, never wrapped by the table: it is copied whole
        console.print(issued.token, soft_wrap=True, highlight=False, markup=False)
    errors.print("the key is shown only this once; send it as: Authorization: Bearer <key>",
                 highlight=False)


@principals_app.command("keys")
def list_keys(
    name: Annotated[str | None, typer.Argument(help="only this principal's keys")] = None,
    as_principal: AsPrincipal = None,
    fmt: Annotated[Format, typer.Option("--format")] = "table",
) -> None:
    """API keys (never their secrets): who holds each, when it was issued and by whom, its
    expiry and whether it is revoked (admins, auditors)."""
    def work(app: Services) -> tuple[list[ApiKey], dict[str, str], set[str]]:
        keys = _admin(app).listing(caller_for(app, as_principal, "ListApiKeys"), name)
        return keys, _names(app, {k.created_by for k in keys}), _admins(app, keys)

    now = datetime.now(UTC)
    keys, names, admins = _run(work, reading=True)
    rows = [k.to_json(now, k.principal_id in admins) for k in keys]
    if fmt == "table":
        shown = ("key_id", "principal", "label", "created_at", "created_by", "expires_at",
                 "state")
        rows = [{c: names.get(row[c], row[c]) if c == "created_by" else row[c] for c in shown}
                for row in rows]
    emit_rows(rows, fmt, "API keys")


def _admins(app: Services, keys: list[ApiKey]) -> set[str]:
    """The ids of the keys' holders who hold the admin role (their keys from others are
    refused: state ``refused``)."""
    from uuid import UUID

    from aftersales_core.domain.principals import Principal
    from aftersales_core.domain.roles import Role

    found = set()
    for principal_id in {k.principal_id for k in keys}:
        holder = app.store.find(Principal, UUID(principal_id))
        if holder is not None and holder.holds(Role.ADMIN):
            found.add(principal_id)
    return found


def _names(app: Services, principal_ids: set[str]) -> dict[str, str]:
    """The names of the principals with these ids (an id no principal has keeps its id)."""
    from uuid import UUID

    from aftersales_core.domain.principals import Principal

    found = {}
    for principal_id in principal_ids:
        try:
            principal = app.store.find(Principal, UUID(principal_id))
        except ValueError:
            continue
        if principal is not None:
            found[principal_id] = principal.name
    return found


@principals_app.command("revoke-key")
def revoke_key(
    name: Name,
    key_id: Annotated[str, typer.Argument(help="the key id (shown by `principals keys`)")],
    as_principal: AsPrincipal = None,
    fmt: Annotated[Literal["table", "json"], typer.Option("--format")] = "table",
) -> None:
    """Revoke a principal's API key: it stops working at once."""
    def work(app: Services) -> ApiKey:
        caller = caller_for(app, as_principal, "RevokeApiKey")
        return _admin(app).revoke(caller, name, key_id, datetime.now(UTC))

    revoked = _run(work)
    data = revoked.to_json(datetime.now(UTC))
    if fmt == "json":
        emit_json_line(data)
    else:
        console.print(table(f"API key {revoked.key_id}", ("field", "value"), data.items()))
