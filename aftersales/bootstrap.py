"""The one composition root: builds the application's services over one store and one unit of
work, and its Kafka workers, lazily: the modules of the workers (kafka-python, psycopg for the
relay's leadership) are imported by the builders that make them, so a command that never
touches Kafka never loads it."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.persistence import IntegrityError, InternalError

from aftersales.settings import (
    DEFAULT_CASE_EVENT_MAX_BYTES,
    DEFAULT_DATABASE_URL,
    DEFAULT_RETENTION_DAYS,
    Settings,
    eventsourcing_env,
)
from aftersales.store_probe import probe_postgres
from aftersales_core.application.access import Access, DenialLog
from aftersales_core.application.complaints import ComplaintService
from aftersales_core.application.deadline_bookkeeping import DeadlineBookkeeping
from aftersales_core.application.deadlines import DeadlineService
from aftersales_core.application.logistics import LogisticsExceptions
from aftersales_core.application.policy_book_service import PolicyBookService
from aftersales_core.application.principals import (
    SYSTEM_PRINCIPALS,
    PrincipalService,
    principal_id_of,
)
from aftersales_core.application.privacy import PrivacyService
from aftersales_core.application.reads import ReadService
from aftersales_core.application.refunds import RefundService
from aftersales_core.application.resolutions import ResolutionService
from aftersales_core.application.returns import ReturnService
from aftersales_core.application.services import Services
from aftersales_core.application.store import Store
from aftersales_core.application.unit_of_work import UnitOfWork
from aftersales_core.application.upstream import UpstreamService
from aftersales_core.text import is_digits
from audit.denials import open_denial_log
from consumers import kafka_clients
from consumers.case_events import RelayableMapper, is_relayed, projected_event
from consumers.kafka_clients import KafkaConnection
from dispatch.tracing import TracingMapper
from privacy.kek import DEFAULT_FILE_NAME, KeyEncryptionKeys, load_keys
from privacy.key_tables import open_key_table
from privacy.keys import Keyring, KeyTable
from privacy.recorders import NotificationRow, with_recorders
from privacy.sealing import SealingMapper
from privacy.subjects import MemorySubjectIndex, SubjectIndex, open_subject_index
from projections.base import Event
from projections.db import DEFAULT_FOLDER, ReadDatabase, check_folder
from workers.error_policy import ErrorPolicy

if TYPE_CHECKING:  # the Kafka workers: imported by the builders that make them (kafka, psycopg)
    from consumers.case_states import CaseStatePublisher
    from consumers.inbound import InboundConsumer
    from consumers.projection_runner import ProjectionRunner
    from consumers.relay import Relay

_DEFAULTS = Settings.model_fields
TOPIC_PARTITIONS = {"orders": _DEFAULTS["orders_partitions"].default,  # settings' defaults
                    "shipments": _DEFAULTS["shipments_partitions"].default,
                    "case_events": _DEFAULTS["case_events_partitions"].default, "dlq": 1}
RECORD_OVERHEAD = 4 * 1024  # what a record batch adds around one message (headers, framing)


class NoStoreError(RuntimeError):
    """A command that only reads was pointed at a SQLite store that does not exist."""


def build_app(settings: Settings | None = None, *, reading: bool = False) -> Services:
    """The services over the configured store. ``reading``: the command only reads, so a
    local SQLite store that does not exist is an error (a mistyped path), not a new empty
    store that would answer "nothing here" and leave a stray file behind."""
    settings = settings or Settings.from_env()
    if reading:
        require_store(settings)
    env = eventsourcing_env(settings.database_url, settings.postgres_schema)  # a new file: private
    return open_app(env, max_event_bytes=settings.case_event_max_bytes,
                    retention_days=settings.retention_days)


def require_store(settings: Settings, read_database: bool = False) -> None:
    """For a command that only reads: ``NoStoreError`` when the store is a local SQLite file
    that does not exist, before anything (the store, its key, the read database) is created.
    ``read_database``: the command reads that too, and a mistyped folder in its URL (exit 2,
    a setting to correct) is said before a missing store (exit 5)."""
    read_url = settings.read_database_url
    if read_database and read_url.startswith("sqlite:///"):
        check_folder(Path(read_url.removeprefix("sqlite:///")), "AFTERSALES_READ_DATABASE_URL")
    url = settings.database_url
    path = Path(url.removeprefix("sqlite:///"))
    if url.startswith("sqlite:///") and not path.exists() and (
            path.parent.is_dir() or path.parent.absolute() == Path.cwd() / DEFAULT_FOLDER):
        named = ("the default store (AFTERSALES_DATABASE_URL is not set) is not under this "
                 "working directory: run where its var/ is, or set AFTERSALES_DATABASE_URL"
                 if url == DEFAULT_DATABASE_URL else
                 "AFTERSALES_DATABASE_URL names a file that does not exist")
        raise NoStoreError(f"no event store at {path}: {named} (a command that only reads "
                           "creates none)")


def open_app(env: dict[str, str], attempts: int = 8, *,
             max_event_bytes: int = DEFAULT_CASE_EVENT_MAX_BYTES,
             keks: KeyEncryptionKeys | None = None,
             retention_days: int | None = DEFAULT_RETENTION_DAYS,
             environ: Mapping[str, str] | None = None,
             store_class: type[Store] = Store) -> Services:
    """Open the store (creating its tables if needed) and compose the services over it; the
    store seals personal data with the data keys under ``keks`` (by default the configured
    key-encryption keys, from ``environ`` or the process environment: a wrong or missing one
    stops here, with the reason) and refuses any event whose message on the case-events topic
    would exceed ``max_event_bytes``.

    Several workers starting at once against one PostgreSQL database race on `CREATE TABLE
    IF NOT EXISTS` ("tuple concurrently updated", or a duplicate type): the loser simply tries
    again, by which time the tables exist."""
    env = with_recorders(env)
    probe_postgres(env)  # a wrong password or database said at once, not after the timeout
    for attempt in range(attempts):
        try:
            store = store_class(env=env)
            store.books.stopwatch = time.perf_counter  # `policy simulate` says how long it took
            table = open_key_table(store.recorder)
            keyring = Keyring(table, keks or configured_keks(env, table, environ))
            keyring.check()
            seal_personal_data(store, keyring)
            carry_trace_context(store)
            guard_event_size(store, max_event_bytes)
            subjects = open_subject_index(store.recorder, table)
            return compose(store, open_denial_log(store.recorder), keyring, subjects,
                           retention_days)
        except (InternalError, IntegrityError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def configured_keks(env: Mapping[str, str], table: KeyTable,
                    environ: Mapping[str, str] | None = None) -> KeyEncryptionKeys:
    """The key-encryption keys the settings name. With none configured: a key generated in
    memory for the in-memory store, the default key file beside a local SQLite store (created
    while the store holds no data key); a PostgreSQL store must be configured."""
    environ = os.environ if environ is None else environ
    module, name = env.get("PERSISTENCE_MODULE", ""), env.get("SQLITE_DBNAME", "")
    configured = any(environ.get(v) for v in ("AFTERSALES_KEK_FILE", "AFTERSALES_KEK"))
    if module == "eventsourcing.popo" and not configured:
        return KeyEncryptionKeys.generate()
    local = module == "eventsourcing.sqlite" and name and ":memory:" not in name \
        and "mode=memory" not in name
    default = Path(name).parent / DEFAULT_FILE_NAME if local else None
    return load_keys(environ, default, may_create=table.counts()["keys"] == 0)


def seal_personal_data(store: Store, keyring: Keyring) -> Store:
    """Put the sealing of personal data into the event store (privacy/sealing.py)."""
    mapper = SealingMapper(store.mapper, keyring)
    store.mapper = store.events.mapper = mapper
    store.batch_hooks.append(keyring)  # a batch's new data keys are written with it
    return store


def compose(store: Store, denials: DenialLog, keyring: Keyring,
            subjects: SubjectIndex | MemorySubjectIndex,
            retention_days: int | None = DEFAULT_RETENTION_DAYS) -> Services:
    """Every service over one store and one unit of work whose save steps are named here."""
    bookkeeping = DeadlineBookkeeping(store.find, store.rules_for)
    work = UnitOfWork(store, steps=[bookkeeping])
    access = Access(store, denials)
    refunds = RefundService(store, work, access)
    complaints = ComplaintService(store, work, access, refunds)
    logistics = LogisticsExceptions(store, complaints, refunds)
    return Services(
        store=store,
        work=work,
        access=access,
        returns=ReturnService(store, work, access),
        resolutions=ResolutionService(store, work, access, refunds),
        refunds=refunds,
        complaints=complaints,
        upstream=UpstreamService(store, work, access, refunds, logistics),
        deadlines=DeadlineService(store, work, access, bookkeeping, complaints),
        principals=PrincipalService(store, access),
        reads=ReadService(store, access),
        books=PolicyBookService(store.books, access),
        privacy=PrivacyService(store, work, access, keyring, subjects, retention_days),
    )


def carry_trace_context(store: Store) -> Store:
    """Store the trace context each event was caused under with it (dispatch/tracing.py)."""
    mapper = TracingMapper(store.mapper)
    store.mapper = store.events.mapper = mapper
    return store


def guard_event_size(store: Store, max_event_bytes: int) -> Store:
    """Put the size check into the event store (it measures each new event as the relay will
    publish it)."""
    mapper = RelayableMapper(store.mapper, max_event_bytes)
    store.mapper = store.events.mapper = mapper
    return store


def topic_partitions(settings: Settings) -> dict[str, int]:
    return {
        settings.orders_topic: settings.orders_partitions,
        settings.shipments_topic: settings.shipments_partitions,
        settings.case_events_topic: settings.case_events_partitions,
        settings.case_states_topic: settings.case_states_partitions,
        settings.dlq_topic: 1,
    }


def topic_configs(settings: Settings) -> dict[str, dict[str, str]]:
    """Configs of the topics the project creates: the case-events topic takes every event
    the store accepts; the case-states topic keeps the latest state of each case."""
    limit = settings.case_event_max_bytes + RECORD_OVERHEAD
    return {settings.case_events_topic: {"max.message.bytes": str(limit)},
            settings.case_states_topic: {"max.message.bytes": str(limit),
                                         "cleanup.policy": "compact"}}


def ensure_pipeline_topics(settings: Settings) -> list[str]:
    """Create the pipeline's topics that are missing, with their partitions and configs."""
    from aftersales.brokers.topics import ensure_topics

    return ensure_topics(_bootstrap(settings), topic_partitions(settings),
                         configs=topic_configs(settings))


def _bootstrap(settings: Settings) -> KafkaConnection:
    """Where and how every Kafka client connects (SASL, TLS: the settings)."""
    return settings.kafka()


def dlq_limit(settings: Settings) -> Callable[[], int | None]:
    """How to learn the dead-letter topic's max.message.bytes (None: the broker does not say),
    so that dead letters too large for it are cut to fit (consumers/dead_letters.py)."""
    from aftersales.brokers.topics import topic_config

    servers = _bootstrap(settings)

    def limit() -> int | None:
        found = topic_config(servers, settings.dlq_topic, "max.message.bytes")
        return int(found) if found and is_digits(found) else None

    return limit


def build_relay(app: Services, settings: Settings, policy: ErrorPolicy | None = None) -> Relay:
    from aftersales.brokers.topics import topic_config
    from consumers.leadership import relay_leadership
    from consumers.payloads import Payloads
    from consumers.relay import Relay

    servers = _bootstrap(settings)
    limit = settings.case_event_max_bytes

    def topic_limit() -> int | None:
        found = topic_config(servers, settings.case_events_topic, "max.message.bytes")
        return int(found) - RECORD_OVERHEAD if found and is_digits(found) else None

    return Relay(app.store.recorder, app.store.factory.tracking_recorder(),
                 partial(kafka_clients.producer, servers,
                         max_request_size=limit + RECORD_OVERHEAD),
                 settings.case_events_topic, max_message_bytes=limit, topic_limit=topic_limit,
                 leadership=relay_leadership(settings.database_url, settings.postgres_schema,
                                             settings.case_events_topic),
                 added=Payloads(app.store.recorder), policy=policy)


def build_case_states(app: Services, settings: Settings, policy: ErrorPolicy | None = None
                      ) -> CaseStatePublisher:
    """The publisher of each case's current state to the compacted case-states topic (one
    leads, like the relay)."""
    from consumers.case_states import CaseStatePublisher
    from consumers.leadership import relay_leadership

    servers = _bootstrap(settings)
    return CaseStatePublisher(
        app.store, partial(kafka_clients.producer, servers,
                           max_request_size=settings.case_event_max_bytes + RECORD_OVERHEAD),
        settings.case_states_topic,
        leadership=relay_leadership(settings.database_url, settings.postgres_schema,
                                    settings.case_states_topic), policy=policy)


def build_inbound(app: Services, settings: Settings, policy: ErrorPolicy | None = None
                  ) -> InboundConsumer:
    """The inbound consumer, acting as its principal (``AFTERSALES_INBOUND_PRINCIPAL``, by
    default the built-in ``system.upstream``, created on first use)."""
    from consumers.inbound import InboundConsumer

    servers = _bootstrap(settings)
    principal_id = inbound_principal(app, settings)
    return InboundConsumer(
        app,
        principal_id,
        partial(kafka_clients.consumer, servers, settings.inbound_group),
        partial(kafka_clients.producer, servers),
        orders_topic=settings.orders_topic,
        shipments_topic=settings.shipments_topic,
        dlq_topic=settings.dlq_topic,
        policy=policy,
        dlq_limit=dlq_limit(settings),
    )


def build_read_db(settings: Settings) -> ReadDatabase:
    return ReadDatabase(settings.read_database_url)


def build_projection_runner(settings: Settings, policy: ErrorPolicy | None = None
                            ) -> ProjectionRunner:
    from consumers.projection_runner import ProjectionRunner
    from projections.catalog import all_projections

    servers = _bootstrap(settings)
    return ProjectionRunner(build_read_db(settings), all_projections(),
                            partial(kafka_clients.consumer, servers, settings.projections_group,
                                    max_poll_records=2000),
                            settings.case_events_topic,
                            make_producer=partial(kafka_clients.producer, servers),
                            dlq_topic=settings.dlq_topic, policy=policy,
                            dlq_limit=dlq_limit(settings))


def store_reader(app: Services) -> Callable[[int, int], list[Event]]:
    """Read the store's events after a position, as the envelopes projections apply."""

    recorder = app.store.recorder
    rows: Callable[[int, int], Sequence[NotificationRow]] = getattr(
        recorder, "notification_rows", None) or (lambda after, limit: [
            (n.id, str(n.originator_id), n.originator_version, n.topic, n.state)
            for n in recorder.select_notifications(after + 1, limit)])  # in-memory stores

    def read(after: int, limit: int) -> list[Event]:
        """Up to ``limit`` published events after ``after`` (empty at the store's end only)."""
        while page := rows(after, limit):
            events = [projected_event(*row) for row in page if is_relayed(row[3])]
            if events:
                return events
            after = page[-1][0]  # only private events here: read on
        return []

    return read


def inbound_principal(app: Services, settings: Settings) -> UUID:
    """The principal the inbound consumer acts as: a configured one must exist already; the
    built-in ``system.upstream`` is created the first time."""
    if settings.inbound_principal in SYSTEM_PRINCIPALS:
        return app.principals.ensure_system(settings.inbound_principal, datetime.now(UTC))
    return principal_id_of(settings.inbound_principal)


def scheduler_principal(app: Services) -> UUID:
    """The principal the deadline scheduler acts as: the built-in ``system.scheduler``."""
    return app.principals.ensure_system("system.scheduler", datetime.now(UTC))
