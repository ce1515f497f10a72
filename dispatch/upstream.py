"""Upstream facts (schemas/inbound.py) into application calls, for the Kafka inbound consumer
and `aftersales ingest` alike: a message means the same thing whichever way it arrives, and is
allowed or denied for the principal that delivered it (``upstream``; a ``carrier`` for return
shipment scans)."""

from __future__ import annotations

from typing import Any

import orjson

from aftersales_core.application.access import Caller
from aftersales_core.application.concurrency import on_fresh_state
from aftersales_core.application.services import Services
from aftersales_core.application.upstream import UpstreamResult
from dispatch.timing import check_not_in_the_future
from schemas.inbound import OrderCancelled, OrderPaid, OrderPlaced, UpstreamEvent


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


PROMISE_FIELD = "estimated_delivery_at"  # the unknown field the delivery analytics read
PROMISE_MAX = 64  # characters: a time, not a document


def promise(message: OrderPlaced) -> str | None:
    """The delivery promise among an order's unknown fields (the demo's Olist estimate), as
    text, when it is short text; it stays among the unknown fields too. Nothing about it is
    checked here: it is opaque, and the analytics read it as a time or not at all."""
    found = (message.model_extra or {}).get(PROMISE_FIELD)
    return found if isinstance(found, str) and len(found) <= PROMISE_MAX else None


def apply_upstream(services: Services, caller: Caller, message: UpstreamEvent) -> UpstreamResult:
    """Apply one validated upstream event; redelivery of its event_id changes nothing."""
    check_not_in_the_future(caller, message.occurred_at, "occurred_at")
    fields, extra = known_fields(message)
    return on_fresh_state(lambda: _apply(services, caller, message, fields, extra))


def _apply(
    services: Services,
    caller: Caller,
    message: UpstreamEvent,
    fields: dict[str, Any],
    extra: str,
) -> UpstreamResult:
    """Every field of the message is a parameter of its service method, by name (a test
    checks that the two line up, so a field added to a schema is never dropped here)."""
    upstream = services.upstream
    if isinstance(message, OrderPlaced):
        return upstream.order_placed(caller, **fields, extra=extra,
                                     estimated_delivery_at=promise(message))
    if isinstance(message, OrderPaid):
        return upstream.order_paid(caller, **fields, extra=extra)
    if isinstance(message, OrderCancelled):
        return upstream.order_cancelled(caller, **fields, extra=extra)
    return upstream.shipment_scanned(caller, **fields, event_type=message.event_type,
                                     extra=extra)
