"""Who may say when an act happened (dispatch/timing.py): on the service API and the desk nobody
dates an act later than the server's clock allows, and a customer none earlier; staff and
services may date one earlier; the operator CLI may date anything. Edges to the microsecond,
and a refused command stores nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from aftersales.bootstrap import open_app
from aftersales_core.application.access import Caller
from aftersales_core.application.services import Services
from aftersales_core.errors import InvalidFieldError
from dispatch.commands import submit
from dispatch.timing import CLOCK_SKEW
from dispatch.upstream import apply_upstream
from schemas.boundary import inbound
from tests.factories import T0, caller, delivered_order, shipment

ARRIVED = T0 + timedelta(days=5)  # when the request reached the entry point
TICK = timedelta(microseconds=1)


@pytest.fixture
def app() -> Services:
    services = open_app({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    delivered_order(services)  # o-1 of customer c-1, delivered on T0 + 3 days
    return services


def via(app: Services, name: str, entry: str) -> Caller:
    return replace(caller(app, name), via=entry, received_at=ARRIVED)


def complaint(at: datetime) -> dict[str, Any]:
    return {"command": "FileComplaint", "order_id": "o-1", "channel": "email",
            "category": "damaged", "description": "cracked", "at": at.isoformat()}


def stored(app: Services) -> int:
    return app.store.recorder.max_notification_id() or 0


@pytest.mark.parametrize("entry", ["http", "desk"])
@pytest.mark.parametrize("name", ["customer-c-1", "agent-1"])
def test_nobody_on_the_network_dates_an_act_later_than_the_clock_allows(
        app: Services, entry: str, name: str) -> None:
    who = via(app, name, entry)
    before = stored(app)
    with pytest.raises(InvalidFieldError) as refused:
        submit(app, who, complaint(ARRIVED + CLOCK_SKEW + TICK), ARRIVED)
    assert refused.value.fields[0][0] == "at"
    assert "can be dated in the future" in str(refused.value)
    assert stored(app) == before
    assert submit(app, who, complaint(ARRIVED + CLOCK_SKEW), ARRIVED).case_id


@pytest.mark.parametrize("entry", ["http", "desk"])
def test_a_customer_on_the_network_cannot_date_an_act_earlier(app: Services, entry: str) -> None:
    """The exploit: a return asked after its window closed, dated back inside it."""
    who = via(app, "customer-c-1", entry)
    before = stored(app)
    with pytest.raises(InvalidFieldError) as refused:
        submit(app, who, complaint(ARRIVED - CLOCK_SKEW - TICK), ARRIVED)
    assert refused.value.fields[0][0] == "at" and "leave at out" in str(refused.value)
    assert stored(app) == before
    assert submit(app, who, complaint(ARRIVED - CLOCK_SKEW), ARRIVED).case_id
    left_out = {k: v for k, v in complaint(ARRIVED).items() if k != "at"}
    assert submit(app, who, left_out, ARRIVED).case_id  # dated when it arrived


def test_staff_on_the_network_may_say_an_act_happened_earlier(app: Services) -> None:
    assert submit(app, via(app, "agent-1", "http"), complaint(T0 + timedelta(days=4)),
                  ARRIVED).case_id


@pytest.mark.parametrize("entry", ["cli", "test"])
def test_the_operator_s_entry_points_date_acts_as_they_are_told(app: Services,
                                                                entry: str) -> None:
    """The operator CLI holds the store (the demo replays years of history through it)."""
    who = via(app, "customer-c-1", entry)
    assert submit(app, who, complaint(T0 + timedelta(days=4)), ARRIVED).case_id
    assert submit(app, who, complaint(ARRIVED + timedelta(days=400)), ARRIVED).case_id


@pytest.mark.parametrize("entry", ["http", "kafka"])
def test_an_upstream_fact_from_the_network_cannot_happen_in_the_future(app: Services,
                                                                        entry: str) -> None:
    """Over HTTP and from Kafka: a fact dated in 2199 (an upstream's clock or unit gone wrong)
    would date its order there, and no act on it could be dated earlier."""
    who = via(app, "carrier-1", entry)
    later = inbound(shipment("o-1", "InTransit", ARRIVED + CLOCK_SKEW + TICK, direction="return"))
    before = stored(app)
    with pytest.raises(InvalidFieldError) as refused:
        apply_upstream(app, who, later)
    assert refused.value.fields[0][0] == "occurred_at" and stored(app) == before
    earlier = inbound(shipment("o-1", "InTransit", T0 + timedelta(days=4), direction="return"))
    assert apply_upstream(app, who, earlier).applied
