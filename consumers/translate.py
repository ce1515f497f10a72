"""Translate validated wire messages (schemas/) into application calls (aftersales_core/).

The CLI (`aftersales ingest`, `aftersales submit`) and the Kafka consumers share this, so a
message means the same thing whichever way it arrives."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import orjson

from aftersales_core.application.app import AfterSalesApp
from aftersales_core.application.base import CommandResult
from aftersales_core.application.upstream import UpstreamResult
from aftersales_core.domain.ids import case_id_for
from aftersales_core.errors import ConcurrentChangeError
from schemas.commands import NEW_CASE_KIND, AnyCommand
from schemas.inbound import OrderCancelled, OrderPaid, OrderPlaced, ShipmentEvent, UpstreamEvent

RETRIES = 5


def method_name(command: str) -> str:
    """RequestReturn -> request_return."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", command).lower()


def new_case_id(command: AnyCommand) -> UUID:
    """The id of the case a command opens: given, derived from its idempotency key, or new."""
    given: UUID | None = getattr(command, "case_id", None)
    if given is not None:
        return given
    key = getattr(command, "idempotency_key", None)
    kind = NEW_CASE_KIND[type(command)]
    return case_id_for(kind, key) if key else uuid4()


def command_arguments(command: AnyCommand, now: datetime) -> dict[str, Any]:
    fields = command.model_dump(exclude={"command", "idempotency_key"})
    fields["at"] = fields.get("at") or now
    if type(command) in NEW_CASE_KIND:
        fields["case_id"] = new_case_id(command)
    return fields


def execute(app: AfterSalesApp, command: AnyCommand, now: datetime) -> CommandResult:
    """Run a command; a concurrent change is retried on fresh state, up to RETRIES times."""
    method = getattr(app, method_name(command.command))
    arguments = command_arguments(command, now)
    for attempt in range(RETRIES):
        try:
            result: CommandResult = method(**arguments)
            return result
        except ConcurrentChangeError:
            if attempt == RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def known_fields(message: UpstreamEvent) -> tuple[dict[str, Any], str]:
    """The schema's fields, and every unknown extra field kept as opaque JSON text.

    Extras are stored as text, never as JSON the store would interpret: a field shaped like
    the store's own type wrapper must not change how an event is read back."""
    fields = message.model_dump(exclude={"event_type"})
    extras: dict[str, Any] = {}
    for key in message.model_extra or {}:
        extras[key] = fields.pop(key)
    if isinstance(message, OrderPlaced):
        line_extras = {}
        for line, model in zip(fields["lines"], message.lines, strict=True):
            unknown = {k: line.pop(k) for k in list(model.model_extra or {})}
            if unknown:
                line_extras[line["line_id"]] = unknown
        if line_extras:
            extras["lines"] = line_extras
    return fields, orjson.dumps(extras, default=str).decode() if extras else ""


def apply_upstream(app: AfterSalesApp, message: UpstreamEvent) -> UpstreamResult:
    """Apply one validated upstream event; redelivery of its event_id changes nothing."""
    fields, extra = known_fields(message)
    for attempt in range(RETRIES):
        try:
            return _apply(app, message, fields, extra)
        except ConcurrentChangeError:
            if attempt == RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def _apply(
    app: AfterSalesApp, message: UpstreamEvent, fields: dict[str, Any], extra: str
) -> UpstreamResult:
    if isinstance(message, OrderPlaced):
        return app.order_placed(**fields, extra=extra)
    if isinstance(message, OrderPaid):
        return app.order_paid(**fields, extra=extra)
    if isinstance(message, OrderCancelled):
        return app.order_cancelled(**fields, extra=extra)
    if isinstance(message, ShipmentEvent):
        return app.shipment_scanned(**fields, event_type=message.event_type, extra=extra)
    raise TypeError(f"no handler for {type(message).__name__}")
