"""`--as NAME` (or AFTERSALES_PRINCIPAL): the principal a CLI command acts as.

The CLI is an operator tool for people who already hold the store: it trusts them to pick the
principal they act as, and says so. It still refuses an unknown or disabled principal (and logs
the denial), and the application decides what that principal may do, exactly as it does for
every other entry point."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from aftersales_core.errors import InvalidCommandError, NotAuthorisedError

if TYPE_CHECKING:
    from aftersales_core.application.access import Caller
    from aftersales_core.application.services import Services

AsPrincipal = Annotated[
    str | None,
    typer.Option("--as", envvar="AFTERSALES_PRINCIPAL", show_envvar=True,
                 help="the principal to act as (its name)"),
]


def caller_for(app: Services, name: str | None, operation: str = "Authenticate") -> Caller:
    """The caller for ``--as NAME``: an existing, enabled principal. Otherwise a
    NotAuthorisedError (exit 6; the denial is logged) or, for a name that is not a valid
    principal name, an InvalidCommandError (exit 2)."""
    from aftersales_core.application.access import Caller
    from aftersales_core.application.principals import SYSTEM_PRINCIPALS, principal_id_of

    if not name:
        raise NotAuthorisedError("name the principal to act as: --as NAME or "
                                 "AFTERSALES_PRINCIPAL=NAME (aftersales principals --help)")
    try:
        principal_id = principal_id_of(name)
    except InvalidCommandError as error:
        raise InvalidCommandError(f"--as: {error}") from None
    if name in SYSTEM_PRINCIPALS:  # built-in principals exist from their first use
        app.principals.ensure_system(name, datetime.now(UTC))
    caller = Caller(principal_id, datetime.now(UTC), via="cli")
    try:
        app.access.principal(caller, operation)
    except NotAuthorisedError as error:
        raise NotAuthorisedError(f"--as {name}: {error}") from None
    return caller


def now(caller: Caller) -> Caller:
    """The same caller, received now (each command of a batch has its own moment)."""
    return replace(caller, received_at=datetime.now(UTC))
