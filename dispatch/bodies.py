"""A command's parsed JSON body into its wire model, for every entry point, through the one
validation boundary (schemas/boundary.py: every bad field named, InputRefused). An actor field
left over from before principals is accepted only when it names the sending principal itself
(then dropped), and refused and logged when it names anyone else."""

from __future__ import annotations

from aftersales_core.application.access import Caller
from aftersales_core.application.services import Services
from aftersales_core.domain.principal_names import normalise_name
from aftersales_core.errors import DomainError
from schemas.boundary import command
from schemas.commands import ACTOR_FIELDS, ROLE_FIELDS, AnyCommand


def parse(services: Services, caller: Caller, body: object) -> AnyCommand:
    """The command a body holds (InputRefused names every bad field).

    Commands name no actor. A body that still carries one of the old actor fields is accepted
    only when the field names the caller's own principal (and ``approver_role`` a role it
    holds); the field is then dropped. Anyone else named there is refused, and logged."""
    if isinstance(body, dict) and any(k in body for k in (*ACTOR_FIELDS, *ROLE_FIELDS)):
        principal = services.access.principal(caller, str(body.get("command", "?")))
        body = dict(body)
        for field in ACTOR_FIELDS:
            if field in body and not _names(body.pop(field), principal.name,
                                            principal.principal_id):
                raise services.access.refuse(
                    caller, principal, str(body.get("command", "?")), "access.actor_in_body",
                    f"{field}: the actor of a command is the principal it is sent as "
                    f"({principal.name}), never a name in the body; leave {field} out",
                )
        held = [r for r in principal.roles if caller.roles is None or r in caller.roles]
        for field in ROLE_FIELDS:
            if field in body and body.pop(field) not in held:
                raise services.access.refuse(
                    caller, principal, str(body.get("command", "?")), "access.role_in_body",
                    f"{field}: the role is the one the principal holds, never one in the body; "
                    f"leave {field} out",
                )
    return command(body)


def _names(claimed: object, name: str, principal_id: str) -> bool:
    if not isinstance(claimed, str):
        return False
    if claimed == principal_id:
        return True
    try:
        return normalise_name(claimed) == name
    except DomainError:
        return False
