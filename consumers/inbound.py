"""Inbound consumers of orders.v1 and shipments.v1.

Each message passes the validation boundary (schemas/boundary.py), is applied through the
application (the store dedupes on event_id), or is sent unchanged to the dead-letter topic. A
poll's messages are applied together and written in one transaction (dispatch/group_commit.py);
one the domain refuses is undone and dead-lettered alone.
Offsets are committed only after the effect (or the dead letter) is durable, so a crash
redelivers, and redelivery changes nothing. A message's W3C ``traceparent`` header goes with
the events it causes (dispatch/tracing.py).

Failures follow the injected error policy (workers/error_policy.py): poison (whatever the
boundary or the domain refuses, an event too large to store) is dead-lettered and the consumer
goes on; anything else (the store or the broker unavailable, a conflict that kept winning, a
bug) drops the whole poll unwritten and nothing of it dead-lettered, and the consumer backs off
and resumes from the committed offsets.

A record the Kafka client itself cannot decode (a header name that is not UTF-8, a batch
compressed with a codec this process lacks) makes every poll of its partition fail, before the
engine sees it: the consumer finds where it is (``find_undecodable``), dead-letters its place
(``undecodable``: the letter's value is empty, the record stays at the source offset) and commits
past it, instead of failing on it for ever. kafka-python reads a batch from its first record, so
the records a producer batched after such a record cannot be read either: each is
dead-lettered by its place the same way."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from uuid import UUID

import orjson
from kafka import KafkaConsumer, KafkaProducer, OffsetAndMetadata
from kafka.consumer.fetcher import ConsumerRecord

from aftersales_core.application.access import Caller
from aftersales_core.application.services import Services
from aftersales_core.application.upstream import UpstreamResult
from consumers.broker_watch import BrokerWatch
from consumers.case_events import EventTooLargeError
from consumers.dead_letters import UNDECODABLE as UNDECODABLE_KIND
from consumers.dead_letters import (
    DeadLetterWriter,
    Rejection,
    error_text,
    fields,
    quoted,
    where,
)
from consumers.undecodable import UNDECODABLE, find_undecodable
from dispatch.group_commit import Done, run_together
from dispatch.tracing import from_headers, traced
from dispatch.upstream import apply_upstream
from schemas.boundary import read_inbound
from schemas.errors import InputRefused
from schemas.inbound import SHIPMENT_TYPES, UpstreamEvent
from workers.counts import WorkCounts
from workers.error_policy import ErrorPolicy, Streak

log = logging.getLogger(__name__)



@dataclass
class InboundStats:
    applied: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    # (topic, outcome, error type) -> messages: applied, duplicate, dead_lettered
    by_topic: dict[tuple[str, str, str], int] = field(default_factory=dict)
    work: WorkCounts = field(default_factory=WorkCounts)  # facts as commands, commit batches

    def count(self, topic: str, outcome: str, kind: str = "") -> None:
        key = (topic, outcome, kind)
        self.by_topic[key] = self.by_topic.get(key, 0) + 1


class InboundConsumer:
    def __init__(self, app: Services, principal_id: UUID,
                 make_consumer: Callable[[], KafkaConsumer],
                 make_producer: Callable[[], KafkaProducer], *, orders_topic: str,
                 shipments_topic: str, dlq_topic: str, policy: ErrorPolicy | None = None,
                 dlq_limit: Callable[[], int | None] | None = None,
                 broker_watch: BrokerWatch | None = None) -> None:
        self.app = app
        self.principal_id = principal_id  # every message is applied as this principal
        self.make_consumer, self.make_producer = make_consumer, make_producer
        self.orders_topic, self.shipments_topic = orders_topic, shipments_topic
        self.dlq_topic = dlq_topic
        self.stats = InboundStats()
        self.policy = policy or ErrorPolicy()
        self.streak = Streak()  # failures in a row, for its health
        self.broker_watch = broker_watch or BrokerWatch()  # no broker is a failure too
        # dlq_limit: the dead-letter topic's max.message.bytes (None: the broker did not say)
        self.dead_letters = DeadLetterWriter(make_producer, dlq_topic, dlq_limit)
        self._consumer: KafkaConsumer | None = None

    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set; after a failure (not poison) re-join and resume from
        the last committed offsets, as the error policy says."""
        self.policy.keep_running("inbound", stop, self._poll, start=self._join, end=self._leave,
                                 streak=self.streak, answering=self._answering)
        self.dead_letters.close()

    def _join(self) -> None:
        self.broker_watch.reset()
        self._consumer = self.make_consumer()
        self._consumer.subscribe([self.orders_topic, self.shipments_topic])

    def _answering(self) -> bool:
        return self.broker_watch.answering

    def _poll(self) -> int:
        assert self._consumer is not None
        return self.poll_once(self._consumer)  # 0, an empty poll, is idle (error_policy.py)

    def _leave(self) -> None:
        if self._consumer is not None:
            consumer, self._consumer = self._consumer, None
            consumer.close(autocommit=False)

    def poll_once(self, consumer: KafkaConsumer, timeout_ms: int = 200) -> int:
        """Handle one poll's records in one transaction (group commit), then commit every
        partition past them in one request.

        A failure part-way leaves this poll uncommitted: its records come again and the
        store ignores the ones it applied already."""
        try:
            batches = consumer.poll(timeout_ms=timeout_ms)
        except UNDECODABLE as error:
            return self.pass_undecodable(consumer, error)
        if not batches:
            self.broker_watch.after_empty_poll(consumer)
            return 0
        self.broker_watch.saw_records()
        records = [record for found in batches.values() for record in found]
        self.handle_all(records)
        consumer.commit({partition: OffsetAndMetadata(found[-1].offset + 1, "", -1)
                         for partition, found in batches.items()})
        return len(records)

    def pass_undecodable(self, consumer: KafkaConsumer, error: Exception) -> int:
        """Dead-letter the place of the record the client cannot decode and commit past it;
        when it cannot be found, ``error`` is raised (retried as the broker's failure)."""
        found = find_undecodable(consumer, self.make_consumer)
        if found is None:
            raise error
        tp, offset = found
        record = ConsumerRecord(tp.topic, tp.partition, -1, offset, -1, -1, None, b"", [],
                                None, -1, 0, -1)  # empty: a record needs a key or a value
        self.stats.work.command("?", "invalid")
        self.reject(record, Rejection(
            UNDECODABLE_KIND, f"the Kafka client cannot decode the record batch that holds "
                              f"this record ({type(error).__name__}: {error}); the record is "
                              "not copied here"))
        consumer.commit({tp: OffsetAndMetadata(offset + 1, "", -1)})
        consumer.seek(tp, offset + 1)
        return 1

    def handle(self, record: ConsumerRecord) -> None:
        """Apply one record or dead-letter it (poison); any other failure raises."""
        self.handle_all([record])

    def handle_all(self, records: list[ConsumerRecord]) -> None:
        """Apply the records together (one transaction; each refused one alone) or
        dead-letter the poison among them. Any other failure (ours or the infrastructure's)
        raises before anything of the records is written or dead-lettered: all of them come
        again."""
        parsed = [(record, self.parse(record)) for record in records]
        ready = [(record, m) for record, m in parsed if not isinstance(m, Rejection)]
        caller = Caller(self.principal_id, datetime.now(UTC), via="kafka")

        def abort(index: int, error: Exception) -> bool:
            return not self.policy.is_poison(error)  # nothing of the poll is written

        outcomes = run_together(self.app.store, [
            traced(from_headers(record.headers or ()), partial(apply_upstream, self.app, caller, m))
            for record, m in ready], abort)
        for done in outcomes:
            if done.error is not None and not self.policy.is_poison(done.error):
                raise done.error  # the batch's write failed (an outage): none is durable
        self.stats.work.batch(len(ready))
        settled = iter(outcomes)
        for record, message in parsed:  # reported in order, once the batch is durable
            if isinstance(message, Rejection):
                self.stats.work.command(fact_type(record.value), "invalid")
                self.reject(record, message)
            else:
                self._settle(record, message.event_type, next(settled))

    def _settle(self, record: ConsumerRecord, command: str, done: Done[UpstreamResult]
                ) -> None:
        """Count what was applied (durable by now) or dead-letter the poison."""
        error = done.error
        if error is not None:
            kind = "oversized" if isinstance(error, EventTooLargeError) else "refused"
            detail = str(error) if kind == "oversized" else f"{type(error).__name__}: {error}"
            self.stats.work.command(command, "invalid" if kind == "oversized" else "refused")
            self.reject(record, Rejection(kind, detail))
            return
        result = done.value
        assert result is not None
        self.stats.work.command(command, "done" if result.applied else "duplicate")
        self.stats.count(record.topic, "applied" if result.applied else "duplicate")
        if result.applied:
            self.stats.applied += 1
            log.log(logging.INFO if result.held else logging.DEBUG, "%s: applied %s: %s",
                    where(record), result.event_id, "; ".join(result.effects),
                    extra=fields(record))
        else:
            self.stats.duplicates += 1
            log.info("%s: event %s seen before, ignored", where(record), result.event_id,
                     extra=fields(record))

    def parse(self, record: ConsumerRecord) -> UpstreamEvent | Rejection:
        if record.value is None:
            return Rejection("not_json", "empty message (tombstone)")
        try:
            message = read_inbound(record.value, "orders" if record.topic == self.orders_topic
                                   else "shipments")
        except InputRefused as refused:
            return Rejection(refused.kind, str(refused))
        if record.key is None:  # partitioned at random: the order's facts could reorder
            return Rejection("key_mismatch", "no key: the key must be the order_id "
                                             f"{quoted(message.order_id)}")
        if record.key != message.order_id.encode():  # both the sender's: quoted cut short
            return Rejection("key_mismatch", f"key {quoted(record.key)} is not the order_id "
                                             f"{quoted(message.order_id)}")
        return message

    def reject(self, record: ConsumerRecord, rejection: Rejection) -> None:
        self.dead_letters.send(record, rejection)
        self.stats.dead_lettered += 1
        self.stats.by_kind[rejection.kind] = self.stats.by_kind.get(rejection.kind, 0) + 1
        self.stats.count(record.topic, "dead_lettered", rejection.kind)
        log.warning("%s: dead-lettered (%s): %s", where(record), rejection.kind,
                    error_text(rejection.message), extra=fields(record))


FACT_TYPE_READ_MAX = 1 << 20  # a refused message is read again for its type up to this size
KNOWN_TYPES = frozenset({"OrderPlaced", "OrderPaid", "OrderCancelled", *SHIPMENT_TYPES})


def fact_type(value: bytes | None) -> str:
    """The ``event_type`` a refused message names, for the metrics' ``command`` label: one of
    the upstream facts (a label never takes a value a sender chose), ``?`` when the message
    names none or is unreadable."""
    if not value or len(value) > FACT_TYPE_READ_MAX:
        return "?"
    try:
        named = orjson.loads(value).get("event_type")
    except (orjson.JSONDecodeError, AttributeError):
        return "?"
    return named if isinstance(named, str) and named in KNOWN_TYPES else "?"
