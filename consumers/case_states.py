"""The case-state publisher: each case's current state on the compacted aftersales.cases.v1
topic, keyed by case id, so that a consumer can learn every case's state by reading the topic
from the start (compaction keeps the latest per case) without replaying its events.

It follows the store as the relay does: after each batch of stored events, every case the
batch touched is loaded and its state published; the store position is recorded in the
tracking table after the broker acknowledged them (a crash re-publishes at most one batch's
cases: harmless, a state replaces the one before). Personal data is redacted as on the
case-events topic. Run one publisher (as one relay)."""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Tracking
from kafka import KafkaProducer
from kafka.errors import KafkaError, MessageSizeTooLargeError

from aftersales_core.application.store import Store
from aftersales_core.personal import PersonalData
from consumers.case_events import REDACTED
from consumers.leader import Leader, Turn
from consumers.leadership import Leadership
from workers.error_policy import ErrorPolicy, Streak

log = logging.getLogger(__name__)
CASE_TOPICS = ("aftersales.return.", "aftersales.refund.", "aftersales.complaint.")
HEADERS = [("content-type", b"application/json")]


def _plain(value: Any) -> Any:
    """orjson's fallback: domain values as the case-events topic shows them."""
    if isinstance(value, PersonalData):
        return {"personal_data": REDACTED, "subject": value.subject}
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "to_json"):  # Money, PolicyDecision
        return value.to_json()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON")


def case_state(case: Aggregate, position: int) -> dict[str, Any]:
    """A case's current state message: what it is, its version and the store position the
    publisher had reached, and its public attributes."""
    state = {k: v for k, v in vars(case).items() if not k.startswith("_")}
    created: datetime = case.created_on
    modified: datetime = case.modified_on
    return {"case_id": str(case.id), "case_type": getattr(case, "KIND", "case"),
            "version": case.version, "position": position,
            "created_at": created.isoformat(), "updated_at": modified.isoformat(),
            "status": str(state.get("status", "")), "state": state}


def encode_state(case: Aggregate, position: int) -> bytes:
    return orjson.dumps(case_state(case, position), default=_plain,
                        option=orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS)


class CaseStatePublisher:
    def __init__(self, store: Store, make_producer: Callable[[], KafkaProducer], topic: str,
                 *, batch_size: int = 500, idle_sleep: float = 0.05,
                 send_timeout: float = 30.0, leadership: Leadership | None = None,
                 standby_poll: float = 1.0, policy: ErrorPolicy | None = None) -> None:
        self.store, self.make_producer, self.topic = store, make_producer, topic
        self.tracking = store.factory.tracking_recorder()
        self.name = f"states:{topic}"
        self.batch_size, self.idle_sleep, self.send_timeout = batch_size, idle_sleep, send_timeout
        self.position = self.tracking.max_tracking_id(self.name) or 0
        self.published = 0
        self._producer: KafkaProducer | None = None
        self.leader = Leader(leadership, standby_poll)
        self.policy = policy or ErrorPolicy()
        self.streak = Streak()  # failures in a row, for its health

    def run(self, stop: threading.Event) -> None:
        """Publish until ``stop`` is set; failures are retried as the error policy says, from
        the position the store tracked."""
        self.policy.keep_running(f"case states {self.topic}", stop,
                                 self.leader.rounds(stop, self._lead, self.step, self.idle_sleep),
                                 start=self._resume, end=self._drop_producer,
                                 streak=self.streak)
        self.leader.release()

    def _resume(self) -> None:
        self.position = self.tracking.max_tracking_id(self.name) or 0

    def _lead(self) -> bool:
        """Lead (as relays do: consumers/leader.py), or stand by; a new leader starts after
        the position the store tracked. Two publishers at once could publish an older state
        after a newer one, which compaction would then keep."""
        turn = self.leader.lead()
        if turn is Turn.LOST:
            self._drop_producer()
            log.error("case states %s lost its leadership; standing by", self.topic)
        if turn is not Turn.TOOK_OVER:
            return turn is Turn.LEADS
        self.position = self.tracking.max_tracking_id(self.name) or 0
        log.warning("case states %s: publishing from this process, after store position %d",
                    self.topic,
                    self.position)
        return True

    def step(self) -> int:
        """Publish the states of the cases the next batch of stored events touched; returns
        how many stored events it went past."""
        batch = self.store.recorder.select_notifications(self.position + 1, self.batch_size)
        if not batch:
            return 0
        touched = {UUID(str(n.originator_id)): n.id for n in batch
                   if n.topic.startswith(CASE_TOPICS)}
        if touched:
            if self._producer is None:
                self._producer = self.make_producer()
            futures = []
            for case_id in touched:
                case = self.store.load_any(case_id)
                if case is None:
                    continue
                value = encode_state(case, batch[-1].id)
                try:
                    futures.append((case_id, self._producer.send(
                        self.topic, key=str(case_id).encode(), value=value, headers=HEADERS)))
                except MessageSizeTooLargeError as error:
                    self._too_large(case_id, error)
            self._producer.flush(timeout=self.send_timeout)
            for case_id, future in futures:
                try:
                    future.get(timeout=self.send_timeout)
                except MessageSizeTooLargeError as error:
                    self._too_large(case_id, error)
        self.tracking.insert_tracking(Tracking(self.name, batch[-1].id))
        self.position = batch[-1].id
        self.published += len(touched)
        return len(batch)

    def _too_large(self, case_id: UUID, error: KafkaError) -> None:
        """Logged, not retried: the case-events topic still has every event of the case."""
        log.error("case states %s: the state of case %s is too large for the topic (%s); "
                  "its state there stays as it was until the case changes again", self.topic,
                  case_id, error)

    def _drop_producer(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=1)
            except Exception:  # closing a broken client must not hide the original error
                log.debug("case states %s: closing the producer failed", self.topic,
                          exc_info=True)
            self._producer = None
