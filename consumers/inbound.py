"""Inbound consumers of orders.v1 and shipments.v1.

Each message is validated with the schemas, applied through the application (the store dedupes
on event_id), or sent unchanged to the dead-letter topic. Offsets are committed only after the
effect (or the dead letter) is durable, so a crash redelivers, and redelivery changes nothing.
Transient trouble (store or broker unavailable) stops the batch without committing."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

import orjson
from eventsourcing.persistence import PersistenceError
from kafka import KafkaConsumer, KafkaProducer, OffsetAndMetadata
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError
from pydantic import ValidationError

from aftersales_core.application.access import Caller
from aftersales_core.application.services import Services
from aftersales_core.errors import ConcurrentChangeError, DomainError
from consumers.dead_letters import Rejection, dead_letter, where
from dispatch.upstream import apply_upstream
from schemas.errors import describe_validation
from schemas.inbound import ORDER_EVENT, ORDER_TYPES, SHIPMENT_EVENT, SHIPMENT_TYPES, UpstreamEvent

log = logging.getLogger(__name__)
MAX_MESSAGE_BYTES = 256 * 1024
TRANSIENT = (KafkaError, PersistenceError, ConcurrentChangeError, OSError)


@dataclass
class InboundStats:
    applied: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


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
        """Handle one poll's records, then commit every partition past them in one request.

        A failure part-way leaves this poll uncommitted: its records come again and the
        store ignores the ones it applied already."""
        batches = consumer.poll(timeout_ms=timeout_ms)
        handled = 0
        for records in batches.values():
            for record in records:
                self.handle(record)
                handled += 1
        if batches:
            consumer.commit({partition: OffsetAndMetadata(records[-1].offset + 1, "", -1)
                             for partition, records in batches.items()})
        return handled

    def handle(self, record: ConsumerRecord) -> None:
        """Apply one record or dead-letter it; raises only for transient failures."""
        message_or_rejection = self.parse(record)
        if isinstance(message_or_rejection, Rejection):
            self.reject(record, message_or_rejection)
            return
        try:
            caller = Caller(self.principal_id, datetime.now(UTC), via="kafka")
            result = apply_upstream(self.app, caller, message_or_rejection)
        except TRANSIENT:
            raise  # store or broker trouble, or conflicts after retries: do not commit
        except DomainError as refused:
            self.reject(record, Rejection("refused", f"{type(refused).__name__}: {refused}"))
            return
        except Exception as error:  # a message the engine cannot handle must not stop it
            log.exception("%s: applying the message failed unexpectedly", where(record))
            self.reject(record, Rejection("internal_error", f"{type(error).__name__}: {error}"))
            return
        if result.applied:
            self.stats.applied += 1
            log.debug("%s: applied %s: %s", where(record), result.event_id,
                      "; ".join(result.effects))
        else:
            self.stats.duplicates += 1
            log.info("%s: event %s seen before, ignored", where(record), result.event_id)

    def parse(self, record: ConsumerRecord) -> UpstreamEvent | Rejection:
        value = record.value
        if value is None:
            return Rejection("not_json", "empty message (tombstone)")
        if len(value) > MAX_MESSAGE_BYTES:
            return Rejection("oversized", f"{len(value)} bytes, over {MAX_MESSAGE_BYTES}")
        try:
            data = orjson.loads(value)
        except orjson.JSONDecodeError as error:
            return Rejection("not_json", f"not JSON (UTF-8): {error}")
        on_orders = record.topic == self.orders_topic
        adapter = ORDER_EVENT if on_orders else SHIPMENT_EVENT
        event_type = data.get("event_type") if isinstance(data, dict) else None
        if event_type in (SHIPMENT_TYPES if on_orders else ORDER_TYPES):
            return Rejection("wrong_topic", f"a {event_type} event does not belong on "
                                            f"{record.topic}")
        try:
            message: UpstreamEvent = adapter.validate_python(data)
        except ValidationError as error:
            return Rejection("invalid", describe_validation(error))
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
        log.warning("%s: dead-lettered (%s): %s", where(record), rejection.kind,
                    rejection.message)

