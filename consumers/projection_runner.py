"""Projection runners: consume aftersales.case-events.v1 in a consumer group and apply batches.

Each batch's rows and the positions it covers commit in one transaction in the read database.
On (re)assignment every partition is sought to the offset stored with the rows, so a crash
anywhere neither loses nor doubles an effect; Kafka's own committed offsets are written after
the database commit, for lag monitoring only. Several runners in one group split the
partitions and survive rebalances."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import orjson
from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import KafkaError

from projections import positions
from projections.apply import Delivery, apply_batch, ensure_schema, normalise, settle
from projections.base import Projection
from projections.db import ReadDatabase

log = logging.getLogger(__name__)


@dataclass
class RunnerStats:
    events: int = 0
    applied: int = 0
    batches: int = 0
    skipped_bad: int = 0
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
                 make_consumer: Callable[[], KafkaConsumer], topic: str) -> None:
        self.db, self.projections = db, list(projections)
        self.make_consumer, self.topic = make_consumer, topic
        self.stats = RunnerStats()
        self._consumer: KafkaConsumer | None = None
        ensure_schema(db, self.projections)
        settle(db, self.projections)  # what a crash may have left between a batch and its settle

    def seek_to_stored(self, assigned: list[TopicPartition]) -> None:
        """Resume each partition after the lowest offset any projection has applied."""
        assert self._consumer is not None
        with self.db.transaction() as tx:
            loaded = [positions.load(tx, p.name) for p in self.projections]
        for tp in assigned:
            offsets = [where.parts.get((tp.topic, tp.partition), (0, 0))[0] for where in loaded]
            start = min(offsets) if offsets else 0
            self._consumer.seek(tp, start)
            log.info("projections: %s[%d] resumes at offset %d", tp.topic, tp.partition, start)

    def run(self, stop: threading.Event) -> None:
        backoff = 0.5
        while not stop.is_set():
            self._consumer = self.make_consumer()
            try:
                self._consumer.subscribe([self.topic], listener=_SeekToStored(self))
                while not stop.is_set():
                    self.poll_once()
                    backoff = 0.5
            except KafkaError as error:  # nothing half-applied: batches are transactions
                log.warning("projections: %s; re-joining in %.1fs", error, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
            finally:
                self._consumer.close(autocommit=False)
                self._consumer = None

    def poll_once(self, timeout_ms: int = 200) -> int:
        assert self._consumer is not None
        polled = self._consumer.poll(timeout_ms=timeout_ms, max_records=2000)
        deliveries = []
        for tp, records in polled.items():
            for record in records:
                try:
                    event = normalise(orjson.loads(record.value))
                except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as error:
                    self.stats.skipped_bad += 1
                    log.error("projections: %s[%d]@%d is not a case event (%s); skipped",
                              tp.topic, tp.partition, record.offset, error)
                    continue
                deliveries.append(Delivery(tp.topic, tp.partition, record.offset, event))
        if not deliveries:
            return 0
        self.stats.applied += apply_batch(self.db, self.projections, deliveries)
        self.stats.events += len(deliveries)
        self.stats.batches += 1
        # the offsets that count are stored with the rows; Kafka's copy is for lag monitoring
        self._consumer.commit_async({tp: OffsetAndMetadata(records[-1].offset + 1, "", -1)
                                     for tp, records in polled.items()})
        return len(deliveries)
