"""Recently read events per aggregate, so loading a case reads and decodes only what is new.

Stored events never change, so a cached prefix stays true, and optimistic concurrency still
decides every save. Events are immutable values and aggregates are always folded afresh from
them. What they decoded does change: an erasure destroys a customer's data keys, and what was
decoded with them must not be served again, in this process or any other.

Every load catches up first (``catch_up``; a group-commit batch does it once, at its start): the
highest notification id, and when anything but this process's own writes lies between it and
the last catch-up, which aggregates those events belong to; their entries are dropped, and an
erasure among them drops everything. Every entry left is then known current, so a load reads an
aggregate the cache holds (or knows to be absent) without another query. Positions are
committed in order on both stores (SQLite has one writer, the PostgreSQL recorder inserts under
a table lock), so nothing can appear later below a position already seen. A write another
process makes after the catch-up still fails the batch's save on the aggregate's version, and
the commands then run again one by one on fresh reads."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, EventStore

#: More foreign events than this since the last catch-up: forget everything instead of reading
#: which aggregates they touched.
FOREIGN_LIMIT = 2000
#: Another process erased a customer's personal data (its keys are gone): everything decoded
#: here is forgotten, whichever aggregates held it.
ERASURE_TOPIC = "aftersales.customer.PersonalDataErased"


class EventCache:
    """At most ``maxsize`` aggregates and ``max_events`` events in all (aggregates that keep
    growing, a busy order, a repeat buyer, must not grow the process): the least recently used
    go first."""

    def __init__(self, maxsize: int = 4096, max_events: int = 32_768) -> None:
        self.maxsize, self.max_events = maxsize, max_events
        self._items: OrderedDict[UUID, tuple[Any, ...]] = OrderedDict()
        self._events = 0  # in all the entries
        self._lock = threading.Lock()
        self._synced: int | None = None  # entries reflect every write up to this position
        self._own: set[int] = set()  # positions this process wrote after _synced

    def events(self, store: EventStore[UUID], recorder: ApplicationRecorder, aggregate_id: UUID,
               current: bool = False) -> tuple[Any, ...]:
        """The aggregate's events in order, current as of this call.
        ``current``: the caller caught up (``catch_up``) since its last write, so a cached
        entry (an empty one too: the aggregate does not exist) is used without a query; else
        this catches up first (one query when nobody else wrote), so that an erasure another
        process recorded drops the decoded personal data cached here before it is served."""
        if not current:
            self.catch_up(recorder)
        with self._lock:
            cached = self._items.get(aggregate_id)
            if cached is not None:
                self._items.move_to_end(aggregate_id)
                return cached
        events = tuple(store.get(aggregate_id))
        self._put(aggregate_id, events)
        return events

    def catch_up(self, recorder: ApplicationRecorder) -> None:
        """Drop the entries of aggregates others wrote since the last catch-up (see above)."""
        top = recorder.max_notification_id() or 0
        with self._lock:
            synced = self._synced
            own = sum(1 for position in self._own if synced is not None and synced < position
                      <= top)
        if synced is None or top < synced or top - synced - own > FOREIGN_LIMIT:
            self.clear()  # the first catch-up, another store, or too much to read
        elif top - synced > own:  # someone else wrote (or a position was skipped)
            seen = recorder.select_notifications(synced + 1, limit=top - synced, stop=top)
            if any(n.topic == ERASURE_TOPIC and n.id not in self._own for n in seen):
                self.clear()  # decoded personal data of an erased customer may be anywhere
                seen = []
            with self._lock:
                for notification in seen:
                    if notification.id in self._own:
                        continue
                    aggregate_id = notification.originator_id
                    cached = self._items.get(aggregate_id)  # type: ignore[arg-type]
                    if cached is not None and (not cached or cached[-1].originator_version
                                               < notification.originator_version):
                        del self._items[aggregate_id]  # type: ignore[arg-type]
                        self._events -= len(cached)
        with self._lock:
            self._synced = top
            self._own = {position for position in self._own if position > top}

    def saved(self, new_events: Iterable[Any], positions: Sequence[int] | None = None) -> None:
        """Extend the cache with events just saved (only where they follow what is cached);
        ``positions``: where the store put them (a later catch-up does not count them as
        someone else's)."""
        by_aggregate: dict[UUID, list[Any]] = {}
        for event in new_events:
            by_aggregate.setdefault(event.originator_id, []).append(event)
        with self._lock:
            if positions and self._synced is not None:
                self._own.update(p for p in positions if p > self._synced)
        for aggregate_id, events in by_aggregate.items():
            with self._lock:
                cached = self._items.get(aggregate_id)
            if _follows(cached or (), events):
                self._put(aggregate_id, (*(cached or ()), *events))
            elif cached is not None:
                self.forget(aggregate_id)  # it missed an event: read it afresh

    def forget(self, aggregate_id: UUID) -> None:
        with self._lock:
            self._events -= len(self._items.pop(aggregate_id, ()))

    def clear(self) -> None:
        """Forget everything (after an erasure: decoded personal data leaves memory)."""
        with self._lock:
            self._items.clear()
            self._events = 0

    def _put(self, aggregate_id: UUID, events: tuple[Any, ...]) -> None:
        with self._lock:
            self._events += len(events) - len(self._items.get(aggregate_id, ()))
            self._items[aggregate_id] = events
            self._items.move_to_end(aggregate_id)
            while len(self._items) > self.maxsize or (
                    self._events > self.max_events and len(self._items) > 1):
                _, dropped = self._items.popitem(last=False)
                self._events -= len(dropped)


def _follows(cached: Sequence[Any], events: Sequence[Any]) -> bool:
    expected = cached[-1].originator_version + 1 if cached else 1
    return bool(events) and events[0].originator_version == expected
