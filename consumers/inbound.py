"""Inbound consumers of orders.v1 and shipments.v1.

Each message passes the validation boundary (schemas/boundary.py), is applied through the
application (the store dedupes on event_id), or is sent unchanged to the dead-letter topic. A
poll's messages are applied together and written in one transaction (dispatch/group_commit.py);
one the domain refuses is undone and dead-lettered alone.
Offsets are committed only after the effect (or the dead letter) is durable, so a crash
redelivers, and redelivery changes nothing. Transient trouble (store or broker unavailable)
stops the batch without committing.

No single message can stop the consumer or make it crash-loop: whatever the boundary refuses,
the domain refuses, or the application fails on is dead-lettered; a message that keeps failing
with "transient" errors while the store answers is dead-lettered after MAX_ATTEMPTS."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from uuid import UUID

from eventsourcing.persistence import PersistenceError
from kafka import KafkaConsumer, KafkaProducer, OffsetAndMetadata
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError

from aftersales_core.application.access import Caller
from aftersales_core.application.services import Services
from aftersales_core.application.upstream import UpstreamResult
from aftersales_core.errors import ConcurrentChangeError, DomainError
from consumers.case_events import EventTooLargeError
from consumers.dead_letters import Rejection, dead_letter, where
from dispatch.group_commit import Done, run_together
from dispatch.upstream import apply_upstream
from schemas.boundary import read_inbound
from schemas.errors import InputRefused
from schemas.inbound import UpstreamEvent

log = logging.getLogger(__name__)
TRANSIENT = (KafkaError, PersistenceError, ConcurrentChangeError, OSError)
MAX_ATTEMPTS = 5  # a message failing "transiently" this often while the store answers: poison


@dataclass
class InboundStats:
    applied: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


def _transient(error: Exception) -> bool:
    """Store or broker trouble (or conflicts after retries): wait, do not dead-letter."""
    return isinstance(error, TRANSIENT) and not isinstance(error, EventTooLargeError)


class InboundConsumer:
    def __init__(self, app: Services, principal_id: UUID,
                 make_consumer: Callable[[], KafkaConsumer],
                 make_producer: Callable[[], KafkaProducer], *, orders_topic: str,
                 shipments_topic: str, dlq_topic: str) -> None:
        self.app = app
        self.principal_id = principal_id  # every message is applied as this principal
        self.make_consumer, self.make_producer = make_consumer, make_producer
        self.orders_topic, self.shipments_topic = orders_topic, shipments_topic
        self.dlq_topic = dlq_topic
        self.stats = InboundStats()
        self._producer: KafkaProducer | None = None
        self._attempts: dict[tuple[str, int, int], int] = {}

    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set; on transient failure re-join and resume from the last
        committed offsets."""
        backoff = 0.5
        while not stop.is_set():
            consumer = self.make_consumer()
            try:
                consumer.subscribe([self.orders_topic, self.shipments_topic])
                while not stop.is_set():
                    self.poll_once(consumer)
                    backoff = 0.5
            except TRANSIENT as error:  # nothing was committed: resume where we left off
                log.warning("inbound: %s: %s; resuming from committed offsets in %.1fs",
                            type(error).__name__, error, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
            finally:
                consumer.close(autocommit=False)
        if self._producer is not None:
            self._producer.close(timeout=5)

    def poll_once(self, consumer: KafkaConsumer, timeout_ms: int = 200) -> int:
        """Handle one poll's records in one transaction (group commit), then commit every
        partition past them in one request.

        A failure part-way leaves this poll uncommitted: its records come again and the
        store ignores the ones it applied already."""
        batches = consumer.poll(timeout_ms=timeout_ms)
        records = [record for found in batches.values() for record in found]
        self.handle_all(records)
        if batches:
            consumer.commit({partition: OffsetAndMetadata(found[-1].offset + 1, "", -1)
                             for partition, found in batches.items()})
        return len(records)

    def handle(self, record: ConsumerRecord) -> None:
        """Apply one record or dead-letter it; raises only for transient failures."""
        self.handle_all([record])

    def handle_all(self, records: list[ConsumerRecord]) -> None:
        """Apply the records together (one transaction; each refused one alone) or
        dead-letter them; raises only for transient failures, and then before anything of
        the records is written or dead-lettered."""
        parsed = [(record, self._parsed(record)) for record in records]
        ready = [(record, m) for record, m in parsed if not isinstance(m, Rejection)]
        caller = Caller(self.principal_id, datetime.now(UTC), via="kafka")
        poisoned: set[int] = set()

        def abort(index: int, error: Exception) -> bool:  # a transient failure in the batch
            if not _transient(error):
                return False
            if self._poison(ready[index][0], error):
                poisoned.add(index)
                return False
            return True  # nothing of the poll is written: all of it comes again

        outcomes = run_together(self.app.store, [partial(apply_upstream, self.app, caller, m)
                                                 for _, m in ready], abort)
        for index, ((record, _), done) in enumerate(zip(ready, outcomes, strict=True)):
            if done.error is not None and _transient(done.error) and index not in poisoned:
                if not self._poison(record, done.error):
                    raise done.error  # the batch's write failed (an outage): none is durable
                poisoned.add(index)
        settled = iter(enumerate(outcomes))
        for record, message in parsed:  # reported in order, once the batch is durable
            if isinstance(message, Rejection):
                self.reject(record, message)
            else:
                index, done = next(settled)
                self._settle(record, done, index in poisoned)

    def _parsed(self, record: ConsumerRecord) -> UpstreamEvent | Rejection:
        try:
            return self.parse(record)
        except Exception as error:  # the boundary refuses with InputRefused; anything else too
            log.exception("%s: validating the message failed unexpectedly", where(record))
            return Rejection("internal_error", f"{type(error).__name__}")

    def _settle(self, record: ConsumerRecord, done: Done[UpstreamResult],
                poisoned: bool) -> None:
        """Count what was applied (durable by now) or dead-letter what failed."""
        error = done.error
        if isinstance(error, EventTooLargeError):
            self.reject(record, Rejection("oversized", str(error)))
            return
        if poisoned:
            self.reject(record, Rejection("unprocessable", f"failed {MAX_ATTEMPTS} times while "
                                          f"the store answered: {type(error).__name__}: {error}"))
            return
        if isinstance(error, DomainError):
            self.reject(record, Rejection("refused", f"{type(error).__name__}: {error}"))
            return
        if error is not None:  # a message the engine cannot handle must not stop it
            log.error("%s: applying the message failed unexpectedly", where(record),
                      exc_info=error)
            self.reject(record, Rejection("internal_error", f"{type(error).__name__}: {error}"))
            return
        result = done.value
        assert result is not None
        self._attempts.pop((record.topic, record.partition, record.offset), None)
        if result.applied:
            self.stats.applied += 1
            log.debug("%s: applied %s: %s", where(record), result.event_id,
                      "; ".join(result.effects))
        else:
            self.stats.duplicates += 1
            log.info("%s: event %s seen before, ignored", where(record), result.event_id)

    def _poison(self, record: ConsumerRecord, error: Exception) -> bool:
        """True when this record has now failed MAX_ATTEMPTS times with "transient" errors
        while the store answers: the message, not the store, is the trouble."""
        if isinstance(error, KafkaError):
            return False
        key = (record.topic, record.partition, record.offset)
        self._attempts[key] = attempts = self._attempts.get(key, 0) + 1
        if attempts < MAX_ATTEMPTS:
            return False
        try:
            self.app.store.recorder.max_notification_id()
        except Exception:  # the store does not answer: an outage, keep waiting
            return False
        del self._attempts[key]
        return True

    def parse(self, record: ConsumerRecord) -> UpstreamEvent | Rejection:
        if record.value is None:
            return Rejection("not_json", "empty message (tombstone)")
        try:
            message = read_inbound(record.value, "orders" if record.topic == self.orders_topic
                                   else "shipments")
        except InputRefused as refused:
            return Rejection(refused.kind, str(refused))
        if record.key is not None and record.key != message.order_id.encode():
            return Rejection("key_mismatch", f"key {record.key!r} is not the order_id "
                                             f"{message.order_id!r}")
        return message

    def reject(self, record: ConsumerRecord, rejection: Rejection) -> None:
        if self._producer is None:
            self._producer = self.make_producer()
        dead_letter(self._producer, self.dlq_topic, record, rejection)
        self.stats.dead_lettered += 1
        self.stats.by_kind[rejection.kind] = self.stats.by_kind.get(rejection.kind, 0) + 1
        self._attempts.pop((record.topic, record.partition, record.offset), None)
        log.warning("%s: dead-lettered (%s): %s", where(record), rejection.kind,
                    rejection.message)

