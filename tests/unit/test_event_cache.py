"""The event cache's bounds and its catch-up with the store (pure: a fake store and recorder)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid4

from eventsourcing.utils import get_topic

from aftersales_core.application.event_cache import ERASURE_TOPIC, EventCache
from aftersales_core.domain.actor import Actor
from aftersales_core.domain.customer import Customer


@dataclass(frozen=True)
class Stored:
    originator_id: UUID
    originator_version: int


@dataclass(frozen=True)
class Note:
    id: int
    originator_id: UUID
    originator_version: int
    topic: str = "aftersales.case.Something"


class FakeStore:
    """Aggregates' events, and every write as a numbered notification (a store's positions)."""

    def __init__(self) -> None:
        self.events: dict[UUID, list[Stored]] = {}
        self.notes: list[Note] = []
        self.reads = 0

    def write(self, aggregate_id: UUID, count: int = 1) -> list[Stored]:
        found = self.events.setdefault(aggregate_id, [])
        new = [Stored(aggregate_id, len(found) + n + 1) for n in range(count)]
        found.extend(new)
        self.notes += [Note(len(self.notes) + 1, e.originator_id, e.originator_version)
                       for e in new]
        return new

    def get(self, aggregate_id: UUID, gt: int | None = None) -> list[Stored]:
        self.reads += 1
        return [e for e in self.events.get(aggregate_id, []) if gt is None
                or e.originator_version > gt]

    def max_notification_id(self) -> int:
        return len(self.notes)

    def select_notifications(self, start: int, limit: int, stop: int | None = None
                             ) -> list[Note]:
        return [n for n in self.notes if start <= n.id <= (stop or n.id)][:limit]


def test_the_cache_holds_at_most_max_events_in_all_least_recently_used_first() -> None:
    store, cache = FakeStore(), EventCache(maxsize=100, max_events=10)
    ids = [uuid4() for _ in range(4)]
    for aggregate_id in ids:
        store.write(aggregate_id, 4)
        cache.events(store, store, aggregate_id)
    kept = [a for a in ids if a in cache._items]
    assert kept == ids[-2:]  # 4 + 4 events fit, a third aggregate's would not
    assert cache._events == 8
    cache.events(store, store, ids[2])  # used again: the newest now
    store.write(ids[0], 2)  # 6 events: with the newest two that is 14, one must go
    cache.events(store, store, ids[0])
    assert [a for a in ids if a in cache._items] == [ids[0], ids[2]]
    assert cache._events == len(cache._items[ids[0]]) + 4


def test_an_aggregate_larger_than_the_bound_is_still_served_and_kept_alone() -> None:
    store, cache = FakeStore(), EventCache(max_events=3)
    big = uuid4()
    store.write(big, 5)
    assert len(cache.events(store, store, big)) == 5
    assert list(cache._items) == [big]


def test_a_catch_up_drops_what_another_writer_changed_and_keeps_the_rest() -> None:
    store, cache = FakeStore(), EventCache()
    mine, theirs, untouched = uuid4(), uuid4(), uuid4()
    for aggregate_id in (mine, theirs, untouched):
        store.write(aggregate_id)
    cache.catch_up(store)
    for aggregate_id in (mine, theirs, untouched):
        cache.events(store, store, aggregate_id, current=True)
    saved = store.write(mine)  # this process's own write, with its position
    cache.saved(saved, [store.max_notification_id()])
    store.write(theirs)  # another process's
    cache.catch_up(store)
    reads = store.reads
    assert len(cache.events(store, store, mine, current=True)) == 2
    assert len(cache.events(store, store, untouched, current=True)) == 1
    assert store.reads == reads  # both current: no query
    assert len(cache.events(store, store, theirs, current=True)) == 2
    assert store.reads == reads + 1  # dropped: read afresh


def test_a_catch_up_after_more_than_it_may_read_forgets_everything() -> None:
    store, cache = FakeStore(), EventCache()
    kept = uuid4()
    store.write(kept)
    cache.catch_up(store)
    cache.events(store, store, kept, current=True)
    store.write(uuid4(), 2001)
    cache.catch_up(store)
    assert not cache._items


def test_a_load_outside_a_batch_serves_what_it_holds_once_caught_up() -> None:
    store, cache = FakeStore(), EventCache()
    held, written = uuid4(), uuid4()
    store.write(held)
    store.write(written)
    cache.events(store, store, held)
    cache.events(store, store, written)
    reads = store.reads
    store.write(written)  # another process's write
    assert len(cache.events(store, store, held)) == 1 and store.reads == reads  # no query
    assert len(cache.events(store, store, written)) == 2  # dropped by the catch-up: read again
    assert store.reads == reads + 1


def test_an_erasure_another_process_recorded_drops_everything_decoded() -> None:
    store, cache = FakeStore(), EventCache()
    cases = [uuid4() for _ in range(3)]
    for case_id in cases:
        store.write(case_id)
        cache.events(store, store, case_id)
    customer = uuid4()
    store.notes.append(Note(len(store.notes) + 1, customer, 1, ERASURE_TOPIC))
    reads = store.reads
    cache.events(store, store, cases[0])
    assert list(cache._items) == [cases[0]] and store.reads == reads + 1  # read afresh


def test_the_erasure_topic_is_the_domains() -> None:
    customer = Customer(customer_id="c-1", timestamp=datetime(2026, 1, 1, tzinfo=UTC))
    customer.erase_personal_data(Actor("admin-1", "admin"), "DSR-1",
                                 datetime(2026, 1, 2, tzinfo=UTC))
    erased = customer.collect_events()[-1]
    assert get_topic(type(erased)) == ERASURE_TOPIC
