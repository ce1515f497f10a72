"""The relay: publish every stored event, in store order, to aftersales.case-events.v1.

Position is recorded in the store's tracking table after the broker acknowledged the batch, so a
crash re-sends at most one batch (harmless: consumers dedupe on the CloudEvents id) and never
skips one. Key = aggregate (case) id, so each case's events stay in order in one partition."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from eventsourcing.persistence import (
    ApplicationRecorder,
    PersistenceError,
    Tracking,
    TrackingRecorder,
)
from kafka import KafkaProducer
from kafka.errors import KafkaError

from consumers.case_events import encode

log = logging.getLogger(__name__)


@dataclass
class RelayStats:
    published: int = 0
    batches: int = 0
    position: int = 0
    failures: int = 0


class Relay:
    def __init__(self, recorder: ApplicationRecorder, tracking: TrackingRecorder,
                 make_producer: Callable[[], KafkaProducer], topic: str, *,
                 name: str = "relay", batch_size: int = 500, idle_sleep: float = 0.02,
                 send_timeout: float = 30.0) -> None:
        self.recorder, self.tracking = recorder, tracking
        self.make_producer, self.topic = make_producer, topic
        self.name = f"{name}:{topic}"
        self.batch_size, self.idle_sleep, self.send_timeout = batch_size, idle_sleep, send_timeout
        self.stats = RelayStats(position=self.position())
        self._producer: KafkaProducer | None = None

    def position(self) -> int:
        """The last store position the broker acknowledged (0 before the first)."""
        return self.tracking.max_tracking_id(self.name) or 0

    def run(self, stop: threading.Event) -> None:
        """Publish until ``stop`` is set; broker trouble is retried with back-off."""
        backoff = 0.5
        log.info("relay %s starting after position %d", self.name, self.stats.position)
        while not stop.is_set():
            try:
                if self.step() == 0:
                    stop.wait(self.idle_sleep)
                backoff = 0.5
            except (KafkaError, PersistenceError) as error:
                self.stats.failures += 1
                log.warning("relay %s: %s at position %d (%s); retrying in %.1fs", self.name,
                            type(error).__name__, self.stats.position, error, backoff)
                self._drop_producer()
                stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
        self._drop_producer()

    def step(self) -> int:
        """Publish the next batch; returns how many events it published."""
        start = self.stats.position + 1
        batch = self.recorder.select_notifications(start, self.batch_size)
        if not batch:
            return 0
        producer = self._get_producer()
        futures = []
        for notification in batch:
            key, value = encode(notification)
            futures.append(producer.send(self.topic, key=key, value=value))
        producer.flush(timeout=self.send_timeout)
        for future in futures:
            future.get(timeout=self.send_timeout)  # raises the send's KafkaError, if any
        last = batch[-1].id
        self.tracking.insert_tracking(Tracking(self.name, last))
        self.stats.position = last
        self.stats.published += len(batch)
        self.stats.batches += 1
        log.debug("relay %s: published positions %d..%d", self.name, batch[0].id, last)
        return len(batch)

    def _get_producer(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = self.make_producer()
        return self._producer

    def _drop_producer(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=1)
            except Exception:  # closing a broken client must not hide the original error
                log.debug("relay %s: closing the producer failed", self.name, exc_info=True)
            self._producer = None

