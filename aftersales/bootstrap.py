"""The one composition root: builds the application and its Kafka workers, lazily."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

from eventsourcing.persistence import IntegrityError, InternalError

from aftersales.brokers.topics import ensure_topics, topic_config
from aftersales.settings import DEFAULT_CASE_EVENT_MAX_BYTES, Settings, eventsourcing_env
from aftersales_core.application.app import AfterSalesApp
from consumers import kafka_clients
from consumers.case_events import RelayableMapper, to_cloud_event
from consumers.inbound import InboundConsumer
from consumers.projection_runner import ProjectionRunner
from consumers.relay import Relay
from projections.base import Event
from projections.catalog import all_projections
from projections.db import ReadDatabase

TOPIC_PARTITIONS = {"orders": 3, "shipments": 3, "case_events": 6, "dlq": 1}
INBOUND_GROUP = "aftersales-inbound"
PROJECTIONS_GROUP = "aftersales-projections"
RECORD_OVERHEAD = 4 * 1024  # what a record batch adds around one message (headers, framing)


def build_app(settings: Settings | None = None) -> AfterSalesApp:
    settings = settings or Settings.from_env()
    return open_app(eventsourcing_env(settings.database_url, settings.postgres_schema),
                    max_event_bytes=settings.case_event_max_bytes)


def open_app(env: dict[str, str], attempts: int = 8, *,
             max_event_bytes: int = DEFAULT_CASE_EVENT_MAX_BYTES) -> AfterSalesApp:
    """Open the application, creating its tables if needed; it refuses to store any event
    whose message on the case-events topic would exceed ``max_event_bytes``.

    Several workers starting at once against one PostgreSQL database race on `CREATE TABLE
    IF NOT EXISTS` ("tuple concurrently updated", or a duplicate type): the loser simply tries
    again, by which time the tables exist."""
    for attempt in range(attempts):
        try:
            return guard_event_size(AfterSalesApp(env=env), max_event_bytes)
        except (InternalError, IntegrityError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def guard_event_size(app: AfterSalesApp, max_event_bytes: int) -> AfterSalesApp:
    """Put the size check into the application's event store (it measures each new event as
    the relay will publish it)."""
    mapper = RelayableMapper(app.mapper, max_event_bytes)
    app.mapper = app.events.mapper = mapper
    return app


def topic_partitions(settings: Settings) -> dict[str, int]:
    return {
        settings.orders_topic: TOPIC_PARTITIONS["orders"],
        settings.shipments_topic: TOPIC_PARTITIONS["shipments"],
        settings.case_events_topic: TOPIC_PARTITIONS["case_events"],
        settings.dlq_topic: TOPIC_PARTITIONS["dlq"],
    }


def topic_configs(settings: Settings) -> dict[str, dict[str, str]]:
    """Configs of the topics the project creates: the case-events topic takes every event
    the store accepts."""
    limit = settings.case_event_max_bytes + RECORD_OVERHEAD
    return {settings.case_events_topic: {"max.message.bytes": str(limit)}}


def ensure_pipeline_topics(settings: Settings) -> list[str]:
    """Create the pipeline's topics that are missing, with their partitions and configs."""
    return ensure_topics(_bootstrap(settings), topic_partitions(settings),
                         configs=topic_configs(settings))


def _bootstrap(settings: Settings) -> str:
    if not settings.kafka_bootstrap_servers:
        raise ValueError("KAFKA_BOOTSTRAP_SERVERS is not set")
    return settings.kafka_bootstrap_servers


def build_relay(app: AfterSalesApp, settings: Settings) -> Relay:
    servers = _bootstrap(settings)
    limit = settings.case_event_max_bytes

    def topic_limit() -> int | None:
        found = topic_config(servers, settings.case_events_topic, "max.message.bytes")
        return int(found) - RECORD_OVERHEAD if found and found.isdigit() else None

    return Relay(app.recorder, app.factory.tracking_recorder(),
                 partial(kafka_clients.producer, servers,
                         max_request_size=limit + RECORD_OVERHEAD),
                 settings.case_events_topic, max_message_bytes=limit, topic_limit=topic_limit)


def build_inbound(app: AfterSalesApp, settings: Settings) -> InboundConsumer:
    servers = _bootstrap(settings)
    return InboundConsumer(
        app,
        partial(kafka_clients.consumer, servers, INBOUND_GROUP),
        partial(kafka_clients.producer, servers),
        orders_topic=settings.orders_topic,
        shipments_topic=settings.shipments_topic,
        dlq_topic=settings.dlq_topic,
    )


def build_read_db(settings: Settings) -> ReadDatabase:
    return ReadDatabase(settings.read_database_url)


def build_projection_runner(settings: Settings) -> ProjectionRunner:
    servers = _bootstrap(settings)
    return ProjectionRunner(build_read_db(settings), all_projections(),
                            partial(kafka_clients.consumer, servers, PROJECTIONS_GROUP,
                                    max_poll_records=2000),
                            settings.case_events_topic,
                            make_producer=partial(kafka_clients.producer, servers),
                            dlq_topic=settings.dlq_topic)


def store_reader(app: AfterSalesApp) -> Callable[[int, int], list[Event]]:
    """Read the store's events after a position, as the envelopes projections apply."""

    def read(after: int, limit: int) -> list[Event]:
        return [to_cloud_event(n) for n in app.recorder.select_notifications(after + 1, limit)]

    return read
