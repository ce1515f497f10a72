"""Stored events → CloudEvents 1.0 structured JSON for aftersales.case-events.v1, and the
guard that keeps out of the store any event whose message would be too large for that topic.

Works on the stored JSON directly (no domain classes are loaded), so the relay is fast and
publishes events of any version the store holds."""

from __future__ import annotations

from collections.abc import Callable
from hashlib import sha1
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification, StoredEvent

from aftersales_core.domain.ids import NAMESPACE
from aftersales_core.errors import InvalidCommandError
from schemas.events import class_version, schema_id
from schemas.outbound import SOURCE

REDACTED = "redacted"
# Kafka protocol binding, structured mode: the whole event is the value, the header says so
CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8"
HEADERS: tuple[tuple[str, bytes], ...] = (("content-type", CONTENT_TYPE.encode()),)
# Aggregates whose events never leave the engine: principals hold names, roles and customer
# bindings (identity and security data), for the store and its audit chain only; upstream
# event-id claims are the inbound boundary's bookkeeping (domain/upstream_ids.py).
PRIVATE_TOPICS = ("aftersales.principal.", "aftersales.upstream_event_id.")


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


TYPED = b'"_type_"'  # in the stored JSON only as a key: inside a string it is escaped


def _is_typed(value: Any) -> bool:
    return (type(value) is dict and len(value) == 2 and "_type_" in value
            and "_data_" in value)


def _typed(value: dict[str, Any], unwrap: Any) -> Any:
    kind, data = value["_type_"], value["_data_"]
    if kind == "uuid_hex":
        return str(UUID(data))
    if kind == "personal_data":
        return {"personal_data": REDACTED, "subject": data["subject"]}
    return unwrap(data) if isinstance(data, (dict, list)) else data


def _unwrap(value: Any) -> Any:
    """Turn the store's typed JSON ({"_type_": …, "_data_": …}) into plain JSON."""
    if isinstance(value, dict):
        if _is_typed(value):
            return _typed(value, _unwrap)
        return {k: _unwrap(v) if isinstance(v, (dict, list)) else v for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) if isinstance(v, (dict, list)) else v for v in value]
    return value


unwrap = _unwrap  # plain JSON of stored values (consumers/payloads.py)


def _unwrap_state(state: dict[str, Any], typed: int) -> dict[str, Any]:
    """``_unwrap`` of an event's stored state that holds ``typed`` typed values (counted in
    its stored text), fast when each is a top-level field whose data holds no typed value
    (nearly every event: decisions, money): then nothing else is walked."""
    if typed == 0:
        return state
    for key, value in state.items():
        if type(value) is dict and "_type_" in value and len(value) == 2 and "_data_" in value:
            state[key] = _typed(value, _as_is)
            typed -= 1
    return state if typed == 0 else _unwrap(state)


def _as_is(data: Any) -> Any:
    return data


def is_relayed(topic: str) -> bool:
    """Whether events of this stored topic are published on the case-events topic."""
    return not topic.startswith(PRIVATE_TOPICS)


def count_relayed(recorder: ApplicationRecorder, after: int, cap: int = 100_000,
                  page: int = 1000) -> tuple[int, bool]:
    """(how many published events the store holds after ``after``, whether counting stopped
    at ``cap``)."""
    count = 0
    while count < cap:
        batch = recorder.select_notifications(after + 1, page)
        if not batch:
            return count, False
        count += sum(1 for n in batch if is_relayed(n.topic))
        after = batch[-1].id
    return count, True


def _opened(stored: bytes) -> tuple[Any, dict[str, Any], Any, Any]:
    """(the event's time, its data as plain JSON, its traceparent, its tracestate: stored with
    the event by dispatch/tracing.py)."""
    state = orjson.loads(stored)
    typed = stored.count(TYPED)
    stamp = state.pop("timestamp")
    if _is_typed(stamp):
        time, typed = _typed(stamp, _unwrap), typed - 1
    else:
        time = _unwrap(stamp)
    state.pop("originator_topic", None)
    traceparent, tracestate = state.pop("traceparent", None), state.pop("tracestate", None)
    return time, _unwrap_state(state, typed), traceparent, tracestate


def to_cloud_event(notification: Notification,
                   added: Callable[[Notification], dict[str, Any]] | None = None
                   ) -> dict[str, Any]:
    """The CloudEvents 1.0 object of a stored event; ``added`` gives the fields the relay
    adds to its data (what a consumer needs to act alone, see consumers/payloads.py)."""
    time, data, traceparent, tracestate = _opened(notification.state)
    subject = str(notification.originator_id)
    if added is not None:
        data.update(added(notification))
    event = {
        "specversion": "1.0",
        "id": event_id(subject, notification.originator_version),
        "source": SOURCE,
        "type": notification.topic,
        "subject": subject,
        "time": time,
        "datacontenttype": "application/json",
        "data": data,
        "partitionkey": subject,
        "position": notification.id,
        "version": notification.originator_version,
    }
    if traceparent is not None:  # the distributed-tracing extension
        event["traceparent"] = traceparent
        if tracestate is not None:
            event["tracestate"] = tracestate
    version = data.get("class_version", 1)
    if version == class_version(notification.topic):  # the schema of the current version
        event["dataschema"] = schema_id(notification.topic, version)
    return event


def projected_event(position: int, subject: str, version: int, topic: str,
                    stored: bytes) -> dict[str, Any]:
    """What a projection reads of a stored event (a rebuild, a catch-up), from its row in the
    events table: the fields of its CloudEvent the handlers use (type, subject, time, data,
    position, version), the same values; the id, schema and tracing fields are for the
    topic's consumers."""
    time, data, _, _ = _opened(stored)
    return {"type": topic, "subject": subject, "time": time, "data": data,
            "position": position, "version": version}


def encode(notification: Notification,
           added: Callable[[Notification], dict[str, Any]] | None = None
           ) -> tuple[bytes, bytes]:
    """(key, value) of the Kafka message for one stored event; key = case id. The message's
    headers are HEADERS (structured mode)."""
    event = to_cloud_event(notification, added)
    return event["subject"].encode(), orjson.dumps(event)


# The envelope around an event's stored state is at most this many bytes (id, source, type,
# subject, time, partitionkey, dataschema, position, version, the facts the relay adds to the
# data; key = subject): a stored state this much under the limit always fits, larger ones are
# measured exactly.
ADDED_BYTES = 1024  # at most what the relay adds to an event's data (consumers/payloads.py)
ENVELOPE_BYTES = 2048 + ADDED_BYTES
LAST_POSITION = 2**63 - 1  # the widest position a stored event can get


class EventTooLargeError(InvalidCommandError):
    """The event's message on the case-events topic would exceed the topic's size limit."""


def relayed_size(stored: StoredEvent) -> int:
    """Bytes of the Kafka key and value the relay will publish for this stored event."""
    key, value = encode(Notification(
        id=LAST_POSITION, originator_id=stored.originator_id,
        originator_version=stored.originator_version, topic=stored.topic, state=stored.state))
    return len(key) + len(value) + ADDED_BYTES


class RelayableMapper(Mapper[UUID]):
    """The application's mapper (wrapped), refusing events too large for the case-events topic.

    Sizes are measured after encoding, as the relay will publish them, against the topic's
    configured limit: an event the relay could not publish is never stored."""

    def __init__(self, inner: Mapper[UUID], max_bytes: int) -> None:
        super().__init__(inner.transcoder, compressor=inner.compressor, cipher=inner.cipher)
        self.inner, self.max_bytes = inner, max_bytes

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        return self.inner.to_domain_event(stored_event)

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        stored = self.inner.to_stored_event(domain_event)
        if len(stored.state) + ENVELOPE_BYTES > self.max_bytes:
            size = relayed_size(stored)
            if size > self.max_bytes:
                raise EventTooLargeError(
                    f"{stored.topic} v{stored.originator_version} would be a {size}-byte message "
                    f"on the case-events topic, over its limit of {self.max_bytes} bytes; "
                    "nothing was stored")
        return stored
