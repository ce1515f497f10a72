"""Projection runners: consume aftersales.case-events.v1 in a consumer group and apply batches.

Each batch's rows and the positions it covers commit in one transaction in the read database.
On (re)assignment every partition is sought to the offset stored with the rows, so a crash
anywhere neither loses nor doubles an effect; Kafka's own committed offsets are written after
the database commit, for lag monitoring only. Several runners in one group split the
partitions and survive rebalances.

No single record stops a runner: a record that is not a case event, or an event a projection
cannot take, is left out (projections/apply.py), dead-lettered with headers naming where it
came from and why, and the positions move past it; the dead letter is acknowledged before the
batch commits. A batch that loses a deadlock with another runner is applied again at once
(apply_batch, up to five tries). Any other failure (the read database or the broker unreachable,
a race lost that often, a bug) follows the injected error policy (workers/error_policy.py): the
batch rolls back, the runner backs off, reconnects, re-joins and resumes at the stored
positions."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kafka import KafkaConsumer, KafkaProducer, OffsetAndMetadata, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.consumer.subscription_state import ConsumerRebalanceListener

from consumers.broker_watch import BrokerWatch
from consumers.dead_letters import DeadLetterWriter, Rejection
from consumers.topic_end import past_the_end
from consumers.undecodable import UNDECODABLE, find_undecodable
from projections import positions
from projections.apply import (
    Delivery,
    Failure,
    apply_batch,
    decode,
    ensure_schema,
    settle,
)
from projections.base import Projection
from projections.db import ReadDatabase
from workers.error_policy import ErrorPolicy, Streak

log = logging.getLogger(__name__)


@dataclass
class RunnerStats:
    events: int = 0
    applied: int = 0
    batches: int = 0
    skipped_bad: int = 0  # records that are not case events
    failed: int = 0  # (event, projection) applications left out
    dead_lettered: int = 0
    failures: int = 0  # sessions ended by a failure (outage, conflict, bug), then resumed
    assigned: tuple[int, ...] = ()


class _SeekToStored(ConsumerRebalanceListener):
    def __init__(self, runner: ProjectionRunner) -> None:
        self.runner = runner

    def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        log.info("projections: partitions revoked %s", sorted(p.partition for p in revoked))

    def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self.runner.seek_to_stored(assigned)
        self.runner.stats.assigned = tuple(sorted(p.partition for p in assigned))


class ProjectionRunner:
    def __init__(self, db: ReadDatabase, projections: Sequence[Projection],
                 make_consumer: Callable[[], KafkaConsumer], topic: str, *,
                 make_producer: Callable[[], KafkaProducer] | None = None,
                 dlq_topic: str | None = None, policy: ErrorPolicy | None = None,
                 dlq_limit: Callable[[], int | None] | None = None,
                 broker_watch: BrokerWatch | None = None) -> None:
        self.db, self.projections = db, list(projections)
        self.make_consumer, self.topic = make_consumer, topic
        self.make_producer, self.dlq_topic = make_producer, dlq_topic
        self.stats = RunnerStats()
        self.policy = policy or ErrorPolicy()
        self.streak = Streak()  # failures in a row, for its health
        self.broker_watch = broker_watch or BrokerWatch()  # no broker is a failure too
        self._consumer: KafkaConsumer | None = None
        self.dead_letters = (None if make_producer is None or dlq_topic is None
                             else DeadLetterWriter(make_producer, dlq_topic, dlq_limit))
        self._records: dict[tuple[str, int, int], ConsumerRecord] = {}  # the batch, for DLQ
        self._unchecked: dict[TopicPartition, int] = {}  # sought to, not yet checked
        ensure_schema(db, self.projections)

    def seek_to_stored(self, assigned: list[TopicPartition]) -> None:
        """Resume each partition after the lowest offset any projection has applied (inside
        the client's rebalance callback, which may not block on the broker: whether that
        offset is past the partition's end is checked by the next poll, _check_ends)."""
        assert self._consumer is not None
        with self.db.transaction() as tx:
            loaded = [positions.load(tx, p.name) for p in self.projections]
        for tp in assigned:
            offsets = [where.parts.get((tp.topic, tp.partition), (0, 0))[0] for where in loaded]
            start = min(offsets) if offsets else 0
            self._consumer.seek(tp, start)
            if start > 0:
                self._unchecked[tp] = start
            log.info("projections: %s[%d] resumes at offset %d", tp.topic, tp.partition, start)

    def _check_ends(self) -> None:
        """Partitions whose stored offset is past their end (the topic was re-created, or a
        broker that keeps it in memory restarted: nothing would ever be read there) are read
        again from their beginning; what was applied before is skipped by store position."""
        assert self._consumer is not None
        starts, self._unchecked = self._unchecked, {}
        held = self._consumer.assignment()
        gone = past_the_end(self._consumer, self.make_consumer,
                            {tp: start for tp, start in starts.items() if tp in held})
        for tp, first in gone.items():
            with self.db.transaction() as tx:
                positions.rewind(tx, tp.topic, tp.partition, first)
            self._consumer.seek(tp, first)
            log.warning(
                "projections: %s[%d]: the offset stored with the rows (%d) is beyond the "
                "partition's end: the topic was re-created or its broker lost it; read again "
                "from offset %d, skipping what was applied before by store position",
                tp.topic, tp.partition, starts[tp], first,
                extra={"topic": tp.topic, "partition": tp.partition, "offset": first})

    def run(self, stop: threading.Event) -> None:
        """Apply batches until ``stop`` is set; nothing is half-applied (batches are
        transactions), so after a failure the runner reconnects and resumes where the rows
        say it is."""
        self.policy.keep_running("projections", stop, self.poll_once, start=self._join,
                                 end=self._leave, failed=self._failed, streak=self.streak,
                                 answering=lambda: self.broker_watch.answering)
        if self.dead_letters is not None:
            self.dead_letters.close()

    def _join(self) -> None:
        # what a crash or a failure may have left between a batch and its settle step
        settle(self.db, self.projections)
        self.broker_watch.reset()
        self._consumer, self._unchecked = self.make_consumer(), {}
        self._consumer.subscribe([self.topic], listener=_SeekToStored(self))

    def _leave(self) -> None:
        if self._consumer is not None:
            consumer, self._consumer = self._consumer, None
            consumer.close(autocommit=False)

    def _failed(self, error: BaseException) -> None:
        """A new read-database connection (a PostgreSQL connection does not come back by
        itself); while the database is still down this raises, and the next round tries."""
        self.stats.failures += 1
        self.db.reconnect()

    def poll_once(self, timeout_ms: int = 200) -> int:
        assert self._consumer is not None
        if self._unchecked:
            self._check_ends()
        try:
            polled = self._consumer.poll(timeout_ms=timeout_ms, max_records=2000)
        except UNDECODABLE as error:
            return self._pass_undecodable(error)
        deliveries = []
        self._records = {}
        for tp, records in polled.items():
            for record in records:
                self._records[(tp.topic, tp.partition, record.offset)] = record
                try:
                    event = decode(record.value)
                except ValueError as error:
                    deliveries.append(Delivery(tp.topic, tp.partition, record.offset, None,
                                               f"not a case event: {error}"))
                    continue
                deliveries.append(Delivery(tp.topic, tp.partition, record.offset, event))
        if not deliveries:
            self.broker_watch.after_empty_poll(self._consumer)
            return 0
        self.broker_watch.saw_records()
        self.stats.applied += apply_batch(self.db, self.projections, deliveries,
                                          self._left_out)
        self.stats.events += len(deliveries)
        self.stats.batches += 1
        # the offsets that count are stored with the rows; Kafka's copy is for lag monitoring
        self._consumer.commit_async({tp: OffsetAndMetadata(records[-1].offset + 1, "", -1)
                                     for tp, records in polled.items()})
        return len(deliveries)

    def _pass_undecodable(self, error: Exception) -> int:
        """Leave out (and dead-letter by its place) the record the Kafka client cannot decode,
        as any record that is not a case event; ``error`` is raised when it cannot be found."""
        assert self._consumer is not None
        found = find_undecodable(self._consumer, self.make_consumer)
        if found is None:
            raise error
        tp, offset = found
        self._records = {(tp.topic, tp.partition, offset): ConsumerRecord(
            tp.topic, tp.partition, -1, offset, -1, -1, None, b"", [], None, -1, 0, -1)}
        problem = (f"not a case event: the Kafka client cannot decode the record batch that "
                   f"holds it ({type(error).__name__}: {error})")
        delivery = Delivery(tp.topic, tp.partition, offset, None, problem)
        self.stats.applied += apply_batch(self.db, self.projections, [delivery],
                                          self._left_out)
        self._consumer.seek(tp, offset + 1)
        return 1

    def _left_out(self, failures: list[Failure]) -> None:
        """Log and dead-letter what the batch leaves out (before the batch commits)."""
        by_delivery: dict[tuple[str, int, int], list[Failure]] = {}
        for failure in failures:
            d = failure.delivery
            by_delivery.setdefault((d.source, d.part, d.offset), []).append(failure)
        for found in by_delivery.values():
            delivery = found[0].delivery
            where = f"{delivery.source}[{delivery.part}]@{delivery.offset}"
            projections = ", ".join(f.projection for f in found)
            message = "; ".join(f"{f.projection}: {f.error}" for f in found)
            case_id = delivery.event.get("subject") if delivery.event is not None else None
            log.error("projections: %s left out of %s: %s", where, projections, message,
                      extra={"topic": delivery.source, "partition": delivery.part,
                             "offset": delivery.offset, "case_id": case_id})
            if delivery.event is None:
                self.stats.skipped_bad += 1
            else:
                self.stats.failed += len(found)
            kind = "not_a_case_event" if delivery.event is None else "unprojectable"
            self._dead_letter(delivery, Rejection(kind, message))

    def _dead_letter(self, delivery: Delivery, rejection: Rejection) -> None:
        if self.dead_letters is None:
            return
        original = self._records.get((delivery.source, delivery.part, delivery.offset))
        if original is None:
            return
        self.dead_letters.send(original, rejection)
        self.stats.dead_lettered += 1
