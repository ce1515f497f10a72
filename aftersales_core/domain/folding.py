"""Folding stored events into their aggregate: what ``event.mutate`` does, with less work per
event (the path every load, access check and deadline step takes; ``make bench`` measures it).

The library's ``mutate`` of an ``@event`` method's event checks that the event is the
aggregate's next one, selects the method's arguments from the event's attributes by walking
all of them through a cached signature, and calls the method; then it sets the version and
the modification time. Here each event class's argument names are looked up once, the same
checks run, and the case lifecycle's blind moves skip building standings (lifecycle.py). An
event class shaped any other way (an ``apply`` of its own, a creation event) takes the
library's path; so does every event of an aggregate that does not exist yet."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

from eventsourcing.domain import (
    CanMutateAggregate,
    DecoratedFuncCaller,
    OriginatorIDError,
    OriginatorVersionError,
    decorated_funcs,
)

from aftersales_core.domain.lifecycle import CaseEvent

Apply = Callable[[Any, Any], Any]  # (event, aggregate) -> aggregate
_APPLY: dict[type, Apply] = {}


def fold(aggregate: Any, events: Iterable[Any]) -> Any:
    """``aggregate`` (None before the first event) with ``events`` applied in order."""
    found = _APPLY
    for event in events:
        apply = found.get(type(event))
        if apply is None:
            apply = found[type(event)] = _applier(type(event))
        aggregate = apply(event, aggregate)
    return aggregate


def _library(event: Any, aggregate: Any) -> Any:
    return event.mutate(aggregate)


def _plain_method_event(cls: type) -> bool:
    """An ``@event`` method's event whose mutate and apply are the library's (and, for case
    events, the lifecycle's): nothing else runs when it is applied."""
    if cls not in decorated_funcs or cls.apply is not DecoratedFuncCaller.apply:  # type: ignore[attr-defined]
        return False
    mro = cls.__mro__
    after = mro[mro.index(DecoratedFuncCaller) + 1:]
    if any("apply" in vars(base) and base is not CanMutateAggregate for base in after):
        return False
    expected = CaseEvent.mutate if issubclass(cls, CaseEvent) else CanMutateAggregate.mutate
    return cls.mutate is expected  # type: ignore[attr-defined]


def _applier(cls: type) -> Apply:
    if not _plain_method_event(cls):
        return _library
    method = decorated_funcs[cls]
    names = tuple(name for name in inspect.signature(method).parameters if name != "self")
    case = issubclass(cls, CaseEvent)

    def apply(event: Any, aggregate: Any) -> Any:
        if aggregate is None:
            return event.mutate(aggregate)  # the library's error
        state = event.__dict__
        originator_id = state["originator_id"]
        if originator_id is not aggregate.id and originator_id != aggregate.id:
            raise OriginatorIDError(originator_id, aggregate.id)
        version = state["originator_version"]
        if version != aggregate.version + 1:
            raise OriginatorVersionError(version, aggregate.version + 1)
        before = event.standing_before(aggregate) if case else None
        method(aggregate, **{name: state[name] for name in names if name in state})
        aggregate.version = version
        aggregate.modified_on = state["timestamp"]
        return event.follow_lifecycle(before, aggregate) if case else aggregate

    return apply
