"""Stored events → CloudEvents 1.0 structured JSON for aftersales.case-events.v1.

Works on the stored JSON directly (no domain classes are loaded), so the relay is fast and
publishes events of any version the store holds."""

from __future__ import annotations

from hashlib import sha1
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Notification

from aftersales_core.domain.ids import NAMESPACE
from schemas.outbound import SOURCE

REDACTED = "redacted"


_NAMESPACE_BYTES = NAMESPACE.bytes


def event_id(originator_id: UUID | str, version: int) -> str:
    """The stable id of a stored event, the same on every re-send: uuid5(NAMESPACE,
    "event:<aggregate id>:<version>"), computed without building UUID objects (hot path)."""
    digest = bytearray(sha1(_NAMESPACE_BYTES + f"event:{originator_id}:{version}".encode())
                       .digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _unwrap(value: Any) -> Any:
    """Turn the store's typed JSON ({"_type_": …, "_data_": …}) into plain JSON."""
    if isinstance(value, dict):
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            kind, data = value["_type_"], value["_data_"]
            if kind == "uuid_hex":
                return str(UUID(data))
            if kind == "personal_data":
                return {"personal_data": REDACTED, "subject": data["subject"]}
            return _unwrap(data) if isinstance(data, (dict, list)) else data
        return {k: _unwrap(v) if isinstance(v, (dict, list)) else v for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) if isinstance(v, (dict, list)) else v for v in value]
    return value


def to_cloud_event(notification: Notification) -> dict[str, Any]:
    state = orjson.loads(notification.state)
    time = _unwrap(state.pop("timestamp"))
    state.pop("originator_topic", None)
    subject = str(notification.originator_id)
    return {
        "specversion": "1.0",
        "id": event_id(subject, notification.originator_version),
        "source": SOURCE,
        "type": notification.topic,
        "subject": subject,
        "time": time,
        "datacontenttype": "application/json",
        "data": _unwrap(state),
        "position": notification.id,
        "version": notification.originator_version,
    }


def encode(notification: Notification) -> tuple[bytes, bytes]:
    """(key, value) of the Kafka message for one stored event; key = case id."""
    event = to_cloud_event(notification)
    return event["subject"].encode(), orjson.dumps(event)
