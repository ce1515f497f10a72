"""What `aftersales run --metrics-port` tells about the deadline scheduler, on SQLite and
PostgreSQL: deadlines fired (by what the breach did), every breach the store recorded (fired,
or late: the state was left after its due time), and its commands' outcomes and commits.
(The inbound consumer's figures over a real broker: tests/e2e/test_observability.py.)"""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from prometheus_client import CollectorRegistry, generate_latest

from aftersales.bootstrap import scheduler_principal
from aftersales.observability import WorkerMetrics
from aftersales_core.application.services import Services
from scheduling.scheduler import Scheduler
from tests.factories import T0, caller, delivered_order

REQUESTED = T0 + timedelta(days=5)


def scrape(app: Services, scheduler: Scheduler) -> str:
    registry = CollectorRegistry()
    registry.register(WorkerMetrics(app, {"scheduler": scheduler}, lambda _: True, ""))
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
