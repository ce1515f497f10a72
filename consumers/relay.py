"""The relay: publish every stored event, in store order, to aftersales.case-events.v1.

Position is recorded in the store's tracking table after the broker acknowledged the events, so
a crash re-sends at most one batch (harmless: consumers dedupe on the CloudEvents id) and never
skips one. Key = aggregate (case) id, so each case's events stay in order in one partition.
Several relays may run: one leads (consumers/leader.py), the others stand by and take over
from the tracked position when it dies.

The relay never stalls silently. An event too large for the topic cannot be stored (the store
measures each event as the relay will encode it), but should the broker refuse one anyway (a
topic configured smaller, a broker policy), the relay publishes everything before it, records
its position, and reports the refused position loudly: an error in the log on every retry, a
``refused`` tracking record that `aftersales status` shows, with a non-zero exit code. It never
skips the event: that would break the order of its case. Large events are sent on their own,
after everything before them was acknowledged, so a refusal never lets a later event through.

Any other failure (broker or store unavailable, a bug) follows the injected error policy
(workers/error_policy.py): the relay drops its producer, backs off and starts again after its
recorded position."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import (
    ApplicationRecorder,
    Notification,
    Tracking,
    TrackingRecorder,
)
from kafka import KafkaProducer
from kafka.errors import KafkaError
from kafka.producer.future import FutureRecordMetadata

from consumers.case_events import HEADERS, encode, is_relayed
from consumers.leader import Leader, Turn
from consumers.leadership import Leadership
from workers.error_policy import ErrorPolicy, Streak

log = logging.getLogger(__name__)
ISOLATE_BYTES = 64 * 1024  # events larger than this are sent on their own


@dataclass
class RelayStats:
    published: int = 0
    batches: int = 0
    position: int = 0
    failures: int = 0
    refused_at: int | None = None  # the store position the broker refused, while it does
    refused_reason: str = ""


@dataclass
class _Outcome:
    acked: int  # how many events from the batch's start the broker acknowledged
    refused: Notification | None = None
    reason: str = ""
    error: KafkaError | None = None  # a retriable failure after the acknowledged ones


def refused_name(relay_name: str) -> str:
    """The tracking name under which a relay records the position the broker refused."""
    return f"{relay_name}:refused"


def relay_name(topic: str, name: str = "relay") -> str:
    return f"{name}:{topic}"


def refused_position(tracking: TrackingRecorder, topic: str) -> int | None:
    """The store position the relay of ``topic`` is stuck at, or None when it is not."""
    name = relay_name(topic)
    refused = tracking.max_tracking_id(refused_name(name)) or 0
    position = tracking.max_tracking_id(name) or 0
    return refused if refused > position else None


class Relay:
    def __init__(self, recorder: ApplicationRecorder, tracking: TrackingRecorder,
                 make_producer: Callable[[], KafkaProducer], topic: str, *,
                 name: str = "relay", batch_size: int = 500, idle_sleep: float = 0.02,
                 send_timeout: float = 30.0, max_message_bytes: int | None = None,
                 topic_limit: Callable[[], int | None] | None = None,
                 refused_retry: float = 30.0, leadership: Leadership | None = None,
                 standby_poll: float = 1.0,
                 added: Callable[[Notification], dict[str, Any]] | None = None,
                 policy: ErrorPolicy | None = None) -> None:
        self.recorder, self.tracking = recorder, tracking
        self.make_producer, self.topic = make_producer, topic
        self.name = relay_name(topic, name)
        self.batch_size, self.idle_sleep, self.send_timeout = batch_size, idle_sleep, send_timeout
        self.configured_limit = self.max_message_bytes = max_message_bytes
        self.topic_limit, self.refused_retry = topic_limit, refused_retry
        self.added = added  # what to add to each event's data (consumers/payloads.py)
        self.stats = RelayStats(position=self.position())
        self.policy = policy or ErrorPolicy()
        self.streak = Streak()  # failures in a row, for its health
        self._producer: KafkaProducer | None = None
        self._limit_known = False
        self._next_try = 0.0
        self.leader = Leader(leadership, standby_poll)
        self._standing_by = False

    def position(self) -> int:
        """The last store position the broker acknowledged (0 before the first)."""
        return self.tracking.max_tracking_id(self.name) or 0

    def run(self, stop: threading.Event) -> None:
        """Publish until ``stop`` is set; failures are retried as the error policy says."""
        log.info("relay %s starting after position %d", self.name, self.stats.position)
        self.policy.keep_running(f"relay {self.name}", stop,
                                 self.leader.rounds(stop, self._lead, self.step, self.idle_sleep),
                                 end=self._drop_producer, failed=self._failed,
                                 streak=self.streak)
        self.leader.release()

    def _failed(self, error: BaseException) -> None:
        self.stats.failures += 1
        log.warning("relay %s: stopped after position %d; it starts again from there",
                    self.name, self.stats.position)

    def _lead(self) -> bool:
        """Lead, or stand by; a new leader starts after the position the store tracked."""
        turn = self.leader.lead()
        if turn is Turn.LOST:
            return self._lost()
        if turn is Turn.STANDS_BY:
            if not self._standing_by:
                log.warning("relay %s stands by: another relay leads", self.name)
                self._standing_by = True
            return False
        if turn is Turn.LEADS:
            return True
        self._standing_by = False
        self.stats.position = self.position()
        self.stats.refused_at, self.stats.refused_reason = None, ""
        self._limit_known = False
        log.warning("relay %s leads now, publishing after store position %d", self.name,
                    self.stats.position)
        return True

    def _still_leading(self) -> bool:
        if self.leader.check() is Turn.LEADS:
            return True
        return self._lost()

    def _lost(self) -> bool:
        self._drop_producer()
        log.error("relay %s lost its leadership (its lock session ended); standing by",
                  self.name)
        return False

    def step(self) -> int:
        """Publish the next batch; returns how many store events it went past (published, or
        passed over as principals' events are)."""
        if self.stats.refused_at is not None and time.monotonic() < self._next_try:
            return 0
        self._learn_topic_limit()
        batch = self.recorder.select_notifications(self.stats.position + 1, self.batch_size)
        if not batch or not self._still_leading():  # never publish without the lock
            return 0
        outcome = self._publish(batch)
        if outcome.acked:
            last = batch[outcome.acked - 1].id  # passed-over private events count as acked
            self.tracking.insert_tracking(Tracking(self.name, last))
            self.stats.position = last
            # events sent to the topic: principals' events passed over are not published
            self.stats.published += sum(is_relayed(n.topic) for n in batch[:outcome.acked])
            self.stats.batches += 1
            log.debug("relay %s: published positions %d..%d", self.name, batch[0].id, last)
        if outcome.refused is not None:
            self._refused(outcome.refused, outcome.reason)
        elif self.stats.refused_at is not None and self.stats.position >= self.stats.refused_at:
            log.warning("relay %s: position %d was accepted at last; publishing again",
                        self.name, self.stats.refused_at)
            self.stats.refused_at, self.stats.refused_reason = None, ""
        if outcome.error is not None:
            raise outcome.error
        return outcome.acked

    def _publish(self, batch: Sequence[Notification]) -> _Outcome:
        producer = self._get_producer()
        pending: list[tuple[Notification, FutureRecordMetadata | None]] = []
        acked = 0
        for notification in batch:
            if not is_relayed(notification.topic):  # never leaves the engine
                pending.append((notification, None))
                continue
            key, value = encode(notification, self.added)
            size = len(key) + len(value)
            limit = self.max_message_bytes
            if limit is not None and size > limit:
                outcome = self._confirm(pending, acked)
                if outcome.refused is None and outcome.error is None:
                    outcome.refused = notification
                    outcome.reason = (f"a {size}-byte message, over the topic's limit of "
                                      f"{limit} bytes")
                return outcome
            if size > ISOLATE_BYTES and pending:  # everything before it first
                outcome = self._confirm(pending, acked)
                if outcome.refused is not None or outcome.error is not None:
                    return outcome
                acked, pending = outcome.acked, []
            try:
                pending.append((notification, producer.send(self.topic, key=key, value=value,
                                                            headers=list(HEADERS))))
            except KafkaError as error:  # refused by the client itself (e.g. too large)
                outcome = self._confirm(pending, acked)
                if outcome.refused is None and outcome.error is None:
                    if error.retriable:
                        outcome.error = error
                    else:
                        outcome.refused, outcome.reason = notification, _describe(error)
                return outcome
            if size > ISOLATE_BYTES:
                outcome = self._confirm(pending, acked)
                if outcome.refused is not None or outcome.error is not None:
                    return outcome
                acked, pending = outcome.acked, []
        return self._confirm(pending, acked)

    def _confirm(self, pending: list[tuple[Notification, FutureRecordMetadata | None]],
                 acked: int) -> _Outcome:
        """Wait for the sent events (None: passed over); the outcome counts the acknowledged
        prefix."""
        if pending:
            self._get_producer().flush(timeout=self.send_timeout)
        for notification, future in pending:
            if future is None:
                acked += 1
                continue
            try:
                future.get(timeout=self.send_timeout)
            except KafkaError as error:
                if error.retriable:
                    return _Outcome(acked, error=error)
                return _Outcome(acked, refused=notification, reason=_describe(error))
            acked += 1
        return _Outcome(acked)

    def _refused(self, notification: Notification, reason: str) -> None:
        first = self.stats.refused_at != notification.id
        self.stats.refused_at, self.stats.refused_reason = notification.id, reason
        name = refused_name(self.name)
        if (self.tracking.max_tracking_id(name) or 0) < notification.id:
            self.tracking.insert_tracking(Tracking(name, notification.id))
        self._next_try = time.monotonic() + self.refused_retry
        self._limit_known = False  # the topic may have been changed before the next try
        self._drop_producer()  # kafka-python's producer is unusable after such an error
        log.error("relay %s STUCK at store position %d (%s %s v%d): refused: %s. Everything "
                  "before it is published; it and everything after it wait, so that no case's "
                  "events are reordered. %s; trying again in %.0fs", self.name,
                  notification.id, notification.topic, notification.originator_id,
                  notification.originator_version, reason,
                  "Raise the topic's max.message.bytes (and the producer's limit)" if first
                  else "Still refused", self.refused_retry,
                  extra={"topic": self.topic, "case_id": str(notification.originator_id)})

    def _learn_topic_limit(self) -> None:
        """The topic's own limit, when the broker tells it and it is the smaller: at the start
        and before each new try of a refused event."""
        if self._limit_known or self.topic_limit is None:
            return
        self._limit_known = True
        found = self.topic_limit()
        self.max_message_bytes = self.configured_limit
        if found is not None and (self.max_message_bytes is None
                                  or found < self.max_message_bytes):
            log.warning("relay %s: the topic accepts messages of at most %d bytes, less than "
                        "the %s the store allows: larger events will wait until it is raised",
                        self.name, found, self.max_message_bytes)
            self.max_message_bytes = found

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


def _describe(error: KafkaError) -> str:
    return f"{type(error).__name__}: {error}"[:500]
