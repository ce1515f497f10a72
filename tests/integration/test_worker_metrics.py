"""What `aftersales run --metrics-port` tells about the deadline scheduler, on SQLite and
PostgreSQL: deadlines fired (by what the breach did), every breach the store recorded (fired,
or late: the state was left after its due time), and its commands' outcomes and commits.
(The inbound consumer's figures over a real broker: tests/e2e/test_observability.py.)"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from uuid import uuid4

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from aftersales.bootstrap import scheduler_principal
from aftersales.observability import WorkerMetrics
from aftersales_core.application.services import Services
from consumers import kafka_clients
from consumers.relay import Relay
from scheduling.scheduler import Scheduler
from tests.crash_helpers import private_positions, read_to_end
from tests.factories import T0, caller, delivered_order
from tests.kafka_fixtures import TestBroker

REQUESTED = T0 + timedelta(days=5)


def scrape(app: Services, worker: object, name: str = "scheduler") -> str:
    registry = CollectorRegistry()
    registry.register(WorkerMetrics(app, {name: worker}, lambda _: True, ""))
    return generate_latest(registry).decode()


def test_deadlines_fired_and_breached_and_the_scheduler_s_commands(app: Services) -> None:
    delivered_order(app, "o-1", delivered=T0 + timedelta(days=3))
    late, fired = uuid4(), uuid4()
    for case_id in (late, fired):
        app.complaints.file(caller(app, "customer-c-1"), case_id, "email", "service", "slow",
                            REQUESTED, customer_id="c-1", order_id="o-1")
    # its first response was due a day after filing: answered an hour late while no
    # scheduler ran, a late breach
    app.complaints.acknowledge(caller(app, "agent-1"), late, REQUESTED + timedelta(hours=25))
    scheduler = Scheduler(app, scheduler_principal(app))
    assert scheduler.fire_due(REQUESTED + timedelta(hours=26))
    text = scrape(app, scheduler)
    labels = 'action="{}",case_type="complaint",deadline="first_response"'
    assert f"aftersales_deadlines_fired_total{{{labels.format('escalate')}}} 1.0" in text
    assert f"aftersales_deadlines_fired_total{{{labels.format('late')}}}" not in text
    for action in ("escalate", "late"):  # one fired, one late: both breaches
        assert f"aftersales_deadlines_breached_total{{{labels.format(action)}}} 1.0" in text
    assert 'aftersales_commands_total{command="FireDeadlines",outcome="done"} 1.0' in text
    assert 'aftersales_store_commit_batch_commands_bucket{le="1.0"} 1.0' in text
    assert 'aftersales_store_commit_batch_commands_count 1.0' in text
    assert scheduler.fire_due(REQUESTED + timedelta(hours=26)) == []  # nothing twice
    assert 'aftersales_deadlines_fired_total{' + labels.format("escalate") + '} 1.0' in scrape(
        app, scheduler)


@pytest.mark.kafka
def test_the_relay_counts_as_published_only_the_events_it_sent(
        app: Services, kafka_broker: TestBroker, topic_prefix: str) -> None:
    """Principals' events stay in the store: passed over, never sent. They were counted in
    aftersales_relay_published_total, which then said more than the topic held."""
    delivered_order(app, "o-1")
    stored = app.store.recorder.max_notification_id() or 0
    private = private_positions(app, stored)
    assert private, "the store holds principals' events (the callers of the commands)"
    topic = f"{topic_prefix}-case-events"
    relay = Relay(app.store.recorder, app.store.factory.tracking_recorder(),
                  partial(kafka_clients.producer, kafka_broker.bootstrap_servers), topic)
    while relay.step():
        pass
    sent = len(read_to_end(kafka_broker.bootstrap_servers, topic))
    assert relay.stats.position == stored and sent == stored - len(private)
    assert f"aftersales_relay_published_total {float(sent)}" in scrape(app, relay, "relay")


def test_a_watchdog_s_deadlines_count_under_their_kind_never_per_parcel(app: Services) -> None:
    """The logistics watchdog's deadline is named after its parcel (a shipment id the upstream
    chose): as a label it would make one series per parcel, for ever. It counts as watchdog."""
    from tests.factories import ingest, order_paid, order_placed, shipment

    for order_id in ("o-1", "o-2"):
        placed = order_placed(order_id)
        ingest(app, placed, order_paid(placed),
               shipment(order_id, "Dispatched", T0 + timedelta(days=1)))
    scheduler = Scheduler(app, scheduler_principal(app))
    assert scheduler.fire_due(T0 + timedelta(days=20))
    text = scrape(app, scheduler)
    assert "watchdog:" not in text
    for metric in ("fired", "breached"):
        assert (f'aftersales_deadlines_{metric}_total{{action="open_complaint",'
                f'case_type="order",deadline="watchdog"}} 2.0') in text, text


def test_a_scrape_while_the_store_is_away_answers_the_workers_own_metrics(
        pg_schema: tuple[str, str], caplog: pytest.LogCaptureFixture) -> None:
    """The event store unreachable (connections cut and refused): a scrape leaves out what
    needs the store, says so in one log line, and still answers the workers' own metrics
    (worker_up, failures in a row), the ones an operator needs most then; no traceback."""
    from urllib.parse import urlsplit, urlunsplit

    from aftersales.bootstrap import open_app
    from aftersales.settings import eventsourcing_env
    from tests.tcp_proxy import TcpProxy

    url, schema = pg_schema
    parts = urlsplit(url)
    assert parts.hostname and parts.port
    proxy = TcpProxy(parts.hostname, parts.port)
    proxy.up()
    netloc = parts.netloc.rsplit(":", 1)[0] + f":{proxy.port}"
    app = open_app(eventsourcing_env(urlunsplit(parts._replace(netloc=netloc)), schema))
    try:
        scheduler = Scheduler(app, scheduler_principal(app))
        assert "aftersales_store_position" in scrape(app, scheduler)
        proxy.down()
        with caplog.at_level("WARNING", logger="aftersales.observability"):
            text = scrape(app, scheduler)
        assert 'aftersales_worker_up{worker="scheduler"} 1.0' in text
        assert "aftersales_deadlines_total" in text
        assert "aftersales_store_position" not in text
        assert any("the event store cannot be read" in r.getMessage() for r in caplog.records)
        proxy.up()
        assert "aftersales_store_position" in scrape(app, scheduler)
    finally:
        proxy.down()
        app.close()
