"""When an act happened, as a network caller may say it (SPEC §4.3: every command carries `at`).

The policies decide by a command's ``at`` (a return window ends on a day, a case takes no act
dated before its last change), so on the service API and the desk the time is a claim to check,
not a fact: nobody may date an act later than the entry point's clock allows, or a case could be
frozen until that day; and a customer may not date one earlier, or a return could be requested
back inside a window that has closed. Staff and services may say when something happened before
it reached us (a parcel received, a payment settled); what they said is stored with who said it.
The operator CLI holds the store and is trusted with any time (the demo replays history);
upstream facts from Kafka may be dated earlier, never later."""

from __future__ import annotations

from datetime import datetime, timedelta

from aftersales_core.application.access import Caller
from aftersales_core.application.services import Services
from aftersales_core.errors import InvalidFieldError

NETWORK = frozenset({"http", "desk"})  # the entry points whose callers' times are checked
# ...and those whose facts may not be dated in the future: a fact from Kafka dated in 2199 (an
# upstream's clock or unit gone wrong) would date its order there, and no act on the order
# could be dated before it
NOT_IN_THE_FUTURE = NETWORK | {"kafka"}
CLOCK_SKEW = timedelta(minutes=5)  # how far a caller's clock may be off ours, either way
CUSTOMER = "customer"


def check_time_of_act(services: Services, caller: Caller, at: datetime | None) -> None:
    """Refuse (naming ``at``) a command's time a network caller may not give: later than the
    call's arrival plus ``CLOCK_SKEW``, or, from a principal who can act only as a customer,
    earlier than its arrival minus ``CLOCK_SKEW``. Nothing is checked for other entry points."""
    if at is None or caller.via not in NETWORK:
        return
    check_not_in_the_future(caller, at, "at")
    if at < caller.received_at - CLOCK_SKEW and _only_a_customer(services, caller):
        raise InvalidFieldError(
            "at", f"{at.isoformat()} is earlier than the request: a customer's act is dated "
            f"when it arrives ({caller.received_at.isoformat()}); leave at out")


def check_not_in_the_future(caller: Caller, at: datetime, field: str) -> None:
    """Refuse (naming ``field``) a network caller's time later than the call's arrival plus
    ``CLOCK_SKEW`` (an upstream fact's ``occurred_at`` too, also from Kafka)."""
    if caller.via in NOT_IN_THE_FUTURE and at > caller.received_at + CLOCK_SKEW:
        raise InvalidFieldError(
            field, f"{at.isoformat()} is later than this server's clock allows (it is "
            f"{caller.received_at.isoformat()}, {_minutes(CLOCK_SKEW)} of difference "
            "allowed): nothing can be dated in the future")


def _only_a_customer(services: Services, caller: Caller) -> bool:
    principal = services.access.principal(caller)
    held = {r for r in principal.roles if caller.roles is None or r in caller.roles}
    return held <= {CUSTOMER}


def _minutes(span: timedelta) -> str:
    return f"{int(span.total_seconds() // 60)} minutes"
