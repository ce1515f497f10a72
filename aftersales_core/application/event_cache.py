"""Recently read events per aggregate, so loading a case reads and decodes only what is new.

Stored events never change, so a cached prefix stays true; each load still asks the store for
anything after it (another process may have written), and optimistic concurrency still decides
every save. Events are immutable values and aggregates are always folded afresh from them."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import EventStore


class EventCache:
    def __init__(self, maxsize: int = 4096) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[UUID, tuple[Any, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def events(self, store: EventStore[UUID], aggregate_id: UUID) -> tuple[Any, ...]:
        """The aggregate's events in order: the cached ones and whatever the store has after."""
        with self._lock:
            cached = self._items.get(aggregate_id, ())
        after = cached[-1].originator_version if cached else None
        events = (*cached, *store.get(aggregate_id, gt=after))
        if events:
            self._put(aggregate_id, events)
        return events

    def saved(self, new_events: Iterable[Any]) -> None:
        """Extend the cache with events just saved (only where they follow what is cached)."""
        by_aggregate: dict[UUID, list[Any]] = {}
        for event in new_events:
            by_aggregate.setdefault(event.originator_id, []).append(event)
        for aggregate_id, events in by_aggregate.items():
            with self._lock:
                cached = self._items.get(aggregate_id, ())
            if _follows(cached, events):
                self._put(aggregate_id, (*cached, *events))

    def clear(self) -> None:
        """Forget everything (after an erasure: decoded personal data leaves memory)."""
        with self._lock:
            self._items.clear()

    def _put(self, aggregate_id: UUID, events: tuple[Any, ...]) -> None:
        with self._lock:
            self._items[aggregate_id] = events
            self._items.move_to_end(aggregate_id)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)


def _follows(cached: Sequence[Any], events: Sequence[Any]) -> bool:
    expected = cached[-1].originator_version + 1 if cached else 1
    return bool(events) and events[0].originator_version == expected
