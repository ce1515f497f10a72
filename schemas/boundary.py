"""The validation boundary every inbound path shares: Kafka, `aftersales ingest`,
`aftersales submit` (and later the service API).

Bytes in; a validated message out, or an :class:`InputRefused` naming what is wrong. The
steps, in order: the strict JSON reader (size as received, UTF-8, duplicate keys, depth,
number ranges), the schema (field types, identifiers without control characters, times and
amounts in their supported ranges, totals that add up), then the size once re-encoded the way
the engine keeps it. Nothing else may raise: an unexpected failure of a validator is a refusal
too, so no input can stop a worker."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

import orjson
from pydantic import BaseModel, TypeAdapter, ValidationError

from schemas import strict_json
from schemas.commands import COMMAND, AnyCommand
from schemas.errors import InputRefused, describe_validation, validation_fields
from schemas.inbound import (
    ANY_INBOUND,
    ORDER_EVENT,
    ORDER_TYPES,
    SHIPMENT_EVENT,
    SHIPMENT_TYPES,
    UpstreamEvent,
)
from schemas.limits import MAX_ENCODED_BYTES

Source = Literal["orders", "shipments", "any"]
M = TypeVar("M")

_ADAPTERS: dict[Source, TypeAdapter[Any]] = {
    "orders": ORDER_EVENT, "shipments": SHIPMENT_EVENT, "any": ANY_INBOUND}
_OTHER_TOPIC: dict[Source, frozenset[str]] = {
    "orders": SHIPMENT_TYPES, "shipments": ORDER_TYPES, "any": frozenset()}


def read_inbound(raw: bytes, source: Source = "any") -> UpstreamEvent:
    """An upstream event (SPEC §4.1) from the bytes of one message."""
    return inbound(strict_json.loads(raw), source)


def inbound(data: Any, source: Source = "any") -> UpstreamEvent:
    """An upstream event from parsed JSON (``source`` names the topic it came from)."""
    event_type = data.get("event_type") if isinstance(data, dict) else None
    if isinstance(event_type, str) and event_type in _OTHER_TOPIC[source]:
        raise InputRefused("wrong_topic", f"a {event_type} event does not belong on the "
                                          f"{source} topic")
    message: UpstreamEvent = _validate(_ADAPTERS[source], data)
    return _within_encoded_limit(message)


def read_command(raw: bytes) -> AnyCommand:
    """A command (SPEC §4.3) from the bytes of one JSON document."""
    return command(strict_json.loads(raw))


def command(data: Any) -> AnyCommand:
    return _within_encoded_limit(_validate(COMMAND, data))


def _validate(adapter: TypeAdapter[M], data: Any) -> M:
    try:
        return adapter.validate_python(data)
    except ValidationError as error:
        raise InputRefused("invalid", describe_validation(error),
                           validation_fields(error)) from None
    except (ArithmeticError, RecursionError, TypeError, ValueError) as error:
        raise InputRefused("invalid", f"cannot be validated: {type(error).__name__}") from None


def encoded_size(message: BaseModel) -> int:
    """Bytes of the message once re-encoded as JSON text inside JSON: the way the engine keeps
    unknown upstream fields, and an upper bound for every other field."""
    plain = orjson.dumps(message.model_dump(mode="json"))
    return len(orjson.dumps(plain.decode()))


def _within_encoded_limit(message: M) -> M:
    assert isinstance(message, BaseModel)
    size = encoded_size(message)
    if size > MAX_ENCODED_BYTES:
        raise InputRefused("oversized", f"{size} bytes once encoded for storage, over the "
                                        f"limit of {MAX_ENCODED_BYTES}")
    return message
