"""The one event store every service shares: the one way to read an aggregate (``history``:
its events through the event cache, and what the open batch staged; ``load`` folds them), and
the atomic save the unit of work ends with. Commands, deadline firings, principals, access
checks and case histories as of any moment all read through ``history``; `make bench`
(``loading``) measures this event cache against the library's own aggregate cache.

Group commit: inside ``batch()`` a save does not write; it checks and encodes the events and
stages them, and every load in the batch sees what the batch staged before (two commands on
one case apply in order). ``flush`` writes everything staged in one transaction (one fsync),
optimistic concurrency still guarding every aggregate. A command that fails inside the batch is
undone alone (``mark`` and ``undo``). The batch is the calling thread's own."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder, RecordConflictError, StoredEvent

from aftersales_core.application.event_cache import EventCache
from aftersales_core.application.policy_books import PolicyBooks
from aftersales_core.application.transcodings import TRANSCODINGS
from aftersales_core.domain.customer import Customer
from aftersales_core.domain.folding import fold
from aftersales_core.domain.ids import customer_aggregate_id, order_aggregate_id
from aftersales_core.domain.order import Order
from aftersales_core.domain.upstream_ids import UpstreamEventId  # noqa: F401  (readable anywhere)
from aftersales_core.errors import (
    ConcurrentChangeError,
    InvalidCommandError,
    UnknownCaseError,
    UnknownOrderError,
)
from aftersales_core.policybook.rulebook import Rules

A = TypeVar("A", bound=Aggregate)
Effect = Callable[[Any], None]  # work done in the transaction of a save (given its cursor)


def unknown_order(order_id: str) -> UnknownOrderError:
    """The one message for an order that is not there, or not the caller's to see."""
    return UnknownOrderError(f"order {order_id!r} is not known (no OrderPlaced yet)")


def check_opening(order: Order, at: datetime) -> None:
    """A case opened on an order cannot predate it (checked only once the caller may know the
    order exists: the message names when it was placed)."""
    if order.placed_at is not None and at < order.placed_at:
        raise InvalidCommandError(
            f"at: {at.isoformat()} is before order {order.order_id!r} was placed "
            f"({order.placed_at.isoformat()}): a case cannot open before its order")


def unknown_case(case_id: UUID) -> UnknownCaseError:
    """The one message for a case that is not there, or not the caller's to see."""
    return UnknownCaseError(f"no case {case_id}")


@dataclass
class Batch:
    """What a group of commands read and decided, not yet written."""

    read: dict[UUID, tuple[Any, ...]] = field(default_factory=dict)  # as stored at first read
    current: bool = False  # the event cache caught up at the batch's start
    staged: list[tuple[Any, StoredEvent]] = field(default_factory=list)  # in order
    by_aggregate: dict[UUID, list[Any]] = field(default_factory=dict)
    effects: list[tuple[int, Effect]] = field(default_factory=list)  # (staged before it, effect)

    def stage(self, encoded: list[tuple[Any, StoredEvent]]) -> None:
        self.staged.extend(encoded)
        for event, _ in encoded:
            self.by_aggregate.setdefault(event.originator_id, []).append(event)

    def undo(self, mark: int) -> None:
        self.effects = [(at, effect) for at, effect in self.effects if at < mark]
        while len(self.staged) > mark:  # newest first: each is the last of its aggregate's
            event, _ = self.staged.pop()
            events = self.by_aggregate[event.originator_id]
            events.pop()
            if not events:
                del self.by_aggregate[event.originator_id]

    def clear(self) -> None:
        self.read.clear()
        self.staged.clear()
        self.by_aggregate.clear()
        self.effects.clear()


class BatchHook(Protocol):
    """Work that joins each group-commit batch of a thread: told when it begins and ends, and
    asked at each flush for work to run in the batch's transaction (the data keys its events
    were sealed with)."""

    def begin(self) -> None: ...
    def effects(self) -> list[Effect]: ...
    def end(self) -> None: ...


def conflict() -> ConcurrentChangeError:
    return ConcurrentChangeError(
        "the case changed while this command ran; nothing was saved, try again")


class Store(Application):
    """The append-only store of every aggregate (cases, orders, customers, principals)."""

    name = "aftersales"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        for transcoding in TRANSCODINGS:
            transcoder.register(transcoding)

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self.cache = EventCache()
        self.books = PolicyBooks(self, self.save_atomically)
        self._rules_of: dict[int, tuple[weakref.ref[Order], Rules]] = {}
        self._local = threading.local()
        self.batch_hooks: list[BatchHook] = []

    def rules_for(self, order: Order | None) -> Rules:
        """The policy book an order's decisions follow: its merchant's (else the platform's).

        Resolved once per loaded order: a command decides every decision about an order by the
        same book version, and the next command (which loads the order afresh) reads the
        latest version again."""
        if order is None:
            return self.books.rules_for(None)
        found = self._rules_of.get(id(order))
        if found is not None and found[0]() is order:
            return found[1]
        rules = self.books.rules_for(getattr(order, "merchant_id", None))
        key = id(order)
        self._rules_of[key] = (weakref.ref(order, lambda _: self._rules_of.pop(key, None)),
                               rules)
        return rules

    # ---- group commit ---------------------------------------------------------------------
    @property
    def current_batch(self) -> Batch | None:
        batch: Batch | None = getattr(self._local, "batch", None)
        return batch

    @contextmanager
    def batch(self) -> Iterator[Batch]:
        """Stage every save of this thread until ``flush``; what is not flushed is dropped."""
        if self.current_batch is not None:
            raise RuntimeError("a batch is open already in this thread")
        self._local.batch = batch = Batch()
        for hook in self.batch_hooks:
            hook.begin()
        try:
            try:
                self.cache.catch_up(self.recorder)
                batch.current = True
            except Exception:  # the store does not answer: each read will ask it (and fail)
                batch.current = False
            yield batch
        finally:
            self._local.batch = None
            for hook in self.batch_hooks:
                hook.end()

    def mark(self) -> int:
        batch = self.current_batch
        return len(batch.staged) if batch is not None else 0

    def undo(self, mark: int) -> None:
        """Drop what was staged after ``mark`` (a command of the batch failed)."""
        batch = self.current_batch
        if batch is not None:
            batch.undo(mark)

    def flush(self) -> int:
        """Write everything the batch staged in one transaction; returns how many events."""
        batch = self.current_batch
        if batch is None or not batch.staged:
            return 0
        effects = [*(e for hook in self.batch_hooks for e in hook.effects()),
                   *(effect for _, effect in batch.effects)]
        try:
            positions = self.recorder.insert_events(
                [stored for _, stored in batch.staged],
                **({"effects": tuple(effects)} if effects else {}))
        except RecordConflictError as error:
            for event, _ in batch.staged:  # someone else wrote one of them: read afresh
                self.cache.forget(event.originator_id)
            raise conflict() from error
        self._run_effects_after(effects)
        self.cache.saved((e for e, _ in batch.staged), positions)
        count = len(batch.staged)
        batch.clear()
        return count

    def history(self, aggregate_id: UUID) -> tuple[Any, ...]:
        """The aggregate's events: stored (through the cache) and, in a batch, staged."""
        batch = self.current_batch
        if batch is None:
            return self.cache.events(self.events, self.recorder, aggregate_id)
        stored = batch.read.get(aggregate_id)
        if stored is None:
            stored = batch.read[aggregate_id] = self.cache.events(self.events, self.recorder,
                                                                  aggregate_id,
                                                                  batch.current)
        return (*stored, *batch.by_aggregate.get(aggregate_id, ()))

    # ---- loading --------------------------------------------------------------------------
    def load_any(self, aggregate_id: UUID) -> Aggregate | None:
        events = self.history(aggregate_id)
        return fold(None, events) if events else None

    def load(self, cls: type[A], aggregate_id: UUID) -> A:
        aggregate = self.load_any(aggregate_id)
        if aggregate is None:
            raise UnknownCaseError(f"no {cls.__name__} with id {aggregate_id}")
        if not isinstance(aggregate, cls):
            raise UnknownCaseError(
                f"{aggregate_id} is a {type(aggregate).__name__}, not a {cls.__name__}"
            )
        return aggregate

    def find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        found = self.load_any(aggregate_id)
        return found if isinstance(found, cls) else None

    def exists(self, aggregate_id: UUID) -> bool:
        return bool(self.history(aggregate_id))

    def placed_order(self, order_id: str, opening_at: datetime | None = None) -> Order:
        """The placed order; a case opened on it (``opening_at``) cannot predate it."""
        order = self.find(Order, order_aggregate_id(order_id))
        if order is None or not order.placed:
            raise unknown_order(order_id)
        if opening_at is not None:
            check_opening(order, opening_at)
        return order

    def customer(self, customer_id: str, at: datetime) -> Customer:
        found = self.find(Customer, customer_aggregate_id(customer_id))
        return found if found is not None else Customer(customer_id=customer_id, timestamp=at)

    def save_atomically(self, *aggregates: Aggregate, effects: Sequence[Effect] = ()) -> None:
        """Save all pending events of the aggregates in one transaction, or nothing at all (in
        a batch: stage them, checked against what the batch knows, for its one transaction).

        ``effects`` run in that transaction (the SQL stores' recorders hand them its cursor:
        an erasure's data keys are destroyed with the event that records it); a store whose
        recorder cannot (the in-memory one) runs them right after the save, with None."""
        if self.current_batch is not None:
            self._stage(aggregates, effects)
            return
        try:
            recordings = self.save(*aggregates, **({"effects": tuple(effects)} if effects else {}))
            self._run_effects_after(effects)
        except RecordConflictError as error:
            raise conflict() from error
        self.cache.saved((r.domain_event for r in recordings),
                         [r.notification.id for r in recordings])

    def _run_effects_after(self, effects: Sequence[Effect]) -> None:
        if effects and not getattr(self.recorder, "runs_effects", False):
            for effect in effects:
                effect(None)

    def _stage(self, aggregates: Iterable[Aggregate], effects: Sequence[Effect] = ()) -> None:
        batch = self.current_batch
        assert batch is not None
        batch.effects.extend((len(batch.staged), effect) for effect in effects)
        pending = [e for aggregate in aggregates for e in aggregate.collect_events()]
        versions: dict[UUID, int] = {}
        for event in pending:
            known = versions.get(event.originator_id)
            if known is None:
                history = self.history(event.originator_id)
                known = history[-1].originator_version if history else 0
            if event.originator_version != known + 1:
                raise conflict()  # decided on a state the batch has moved past
            versions[event.originator_id] = event.originator_version
        encoded = [(e, self.mapper.to_stored_event(e)) for e in pending]  # size checks here
        batch.stage(encoded)
