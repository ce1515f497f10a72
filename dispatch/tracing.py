"""W3C trace context carried from what caused a change into the events it stored, so that the
relay publishes each event with the ``traceparent`` (and ``tracestate``) of the request or
message that caused it: the CloudEvents distributed-tracing extension.

Entry points read the context where it arrives (``from_headers``: an inbound message's Kafka
headers, a service API request's HTTP headers) and run the work under it (``traced``); the
store's mapper (``TracingMapper``) writes the context into every event stored meanwhile, as
the stored state's ``traceparent`` and ``tracestate`` keys, and takes them out again when an
event is read back, so the domain never sees them. The engine starts no trace of its own: an
event caused by nothing traced (the scheduler, the CLI) carries none. A malformed context is
dropped, never refused (W3C Trace Context: the receiver then starts afresh); a context of a
newer version is carried as the version 00 it contains."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar
from uuid import UUID

import orjson
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent

T = TypeVar("T")
_PARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_STATE_MEMBER = re.compile(r"[a-z0-9][a-z0-9_\-*/@]{0,255}=[\x20-\x2b\x2d-\x3c\x3e-\x7e]"
                           r"{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]")
MAX_TRACESTATE = 512  # W3C: longer lists may be truncated; we drop them
MAX_MEMBERS = 32
KEYS = ("traceparent", "tracestate")  # the stored state's keys (no event has such a field)


@dataclass(frozen=True)
class TraceContext:
    traceparent: str
    tracestate: str | None = None


def parse_traceparent(value: str) -> str | None:
    """The version-00 traceparent a header holds, or None when it is not a valid one."""
    value = value.strip()
    found = _PARENT.match(value)
    if found is None:
        return None
    version, trace_id, parent_id, flags = found.groups()
    if version == "ff" or set(trace_id) == {"0"} or set(parent_id) == {"0"}:
        return None
    rest = value[found.end():]
    if (version == "00" and rest) or (rest and not rest.startswith("-")):
        return None
    return f"00-{trace_id}-{parent_id}-{flags}"


def parse_tracestate(values: Iterable[str]) -> str | None:
    """The tracestate list (several headers join with commas), or None when it is empty or
    not a valid one."""
    members = [m.strip() for value in values for m in value.split(",") if m.strip()]
    if not members or len(members) > MAX_MEMBERS:
        return None
    if not all(_STATE_MEMBER.fullmatch(m) for m in members):
        return None
    keys = [m.split("=", 1)[0] for m in members]
    joined = ",".join(members)
    if len(set(keys)) != len(keys) or len(joined) > MAX_TRACESTATE:
        return None
    return joined


def from_headers(headers: Iterable[tuple[str, bytes | str | None]]) -> TraceContext | None:
    """The trace context of a message's or request's headers (names in any case), if any."""
    parents: list[str] = []
    states: list[str] = []
    for name, raw in headers:
        lowered = name.lower()
        if lowered not in KEYS or raw is None:
            continue
        try:
            value = raw.decode("ascii") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError:
            return None
        (parents if lowered == "traceparent" else states).append(value)
    if len(parents) != 1:  # none, or several: no context (W3C)
        return None
    parent = parse_traceparent(parents[0])
    if parent is None:
        return None
    return TraceContext(parent, parse_tracestate(states))


_current: ContextVar[TraceContext | None] = ContextVar("trace_context", default=None)


def current() -> TraceContext | None:
    return _current.get()


def traced(context: TraceContext | None, job: Callable[[], T]) -> Callable[[], T]:
    """``job`` to run under ``context``: events it stores carry it (in whatever thread it
    runs: the group committer's, a consumer's)."""
    if context is None:
        return job

    def run() -> T:
        token = _current.set(context)
        try:
            return job()
        finally:
            _current.reset(token)

    return run


class TracingMapper(Mapper[UUID]):
    """The store's mapper (wrapped), writing the current trace context into each stored
    event's state and leaving it out of the domain events it reads back."""

    def __init__(self, inner: Mapper[UUID]) -> None:
        if inner.cipher is not None or inner.compressor is not None:
            raise ValueError("trace context needs the stored state as plain JSON")
        super().__init__(inner.transcoder)
        self.inner = inner

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        stored = self.inner.to_stored_event(domain_event)
        context = _current.get()
        if context is None:
            return stored
        added = {"traceparent": context.traceparent}
        if context.tracestate:
            added["tracestate"] = context.tracestate
        state = bytes(stored.state)
        if not state.startswith(b"{") or state == b"{}":
            return stored  # never the case: every event has at least a timestamp
        return StoredEvent(originator_id=stored.originator_id,
                           originator_version=stored.originator_version, topic=stored.topic,
                           state=orjson.dumps(added)[:-1] + b"," + state[1:])

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        event = self.inner.to_domain_event(stored_event)
        found = vars(event)
        if "traceparent" in found:
            del found["traceparent"]
            found.pop("tracestate", None)
        return event
