"""The service API as a process (tests/api_server.py), once per module and store backend, with
a small world in it: two customers' delivered orders, and a return, a refund and a complaint
of customer c-1."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.api_server import ApiServer, drop_schema, make_server
from tests.factories import order_paid, order_placed, shipment

# The world's first day: recent, because the service API dates a customer's act when it arrives
# and nobody's later than it arrives (dispatch/timing.py); upstream facts may be in the past.
T0 = (datetime.now(UTC) - timedelta(days=6)).replace(microsecond=0)


def now() -> str:
    """The time of an act sent now (a network caller's ``at`` must be within minutes of it)."""
    return datetime.now(UTC).isoformat()


@dataclass
class World:
    """Ids of what the module's world holds (customer c-1 owns all the cases)."""

    order: str
    other_order: str
    return_case: str
    refund_case: str
    complaint_case: str


def deliver(server: ApiServer, order_id: str, customer: str) -> None:
    placed = order_placed(order_id, customer_id=customer, at=T0,
                          buyer_informed_of_return_cost=True)  # told before ordering
    with server.client("upstream-1") as upstream:
        for message in (placed, order_paid(placed),
                        shipment(order_id, "Delivered", T0 + timedelta(days=3))):
            done = upstream.post("/v1/upstream-events", json=message)
            assert done.status_code == 200, done.text


def command(client: httpx.Client, body: dict[str, Any], status: int = 200,
            **headers: str) -> dict[str, Any]:
    done = client.post("/v1/commands", json=body, headers=headers)
    assert done.status_code == status, done.text
    data: dict[str, Any] = done.json()
    return data


def populate(server: ApiServer) -> World:
    deliver(server, "o-1", "c-1")
    deliver(server, "o-2", "c-2")
    with server.client("customer-c-1") as customer, server.client("agent-1") as agent:
        returned = command(customer, {"command": "RequestReturn", "order_id": "o-1",
                                      "reason": "defective", "at": now(),
                                      "lines": [{"line_id": "2", "quantity": 1}]}, 201)
        refund = command(agent, {"command": "RequestRefund", "order_id": "o-1",
                                 "source": "goodwill", "reason": "late", "amount": "5.00",
                                 "at": now()}, 201)
        complaint = command(customer, {"command": "FileComplaint", "customer_id": "c-1",
                                       "order_id": "o-1", "channel": "email",
                                       "category": "damaged", "description": "broken lamp",
                                       "at": now()}, 201)
    return World("o-1", "o-2", returned["case_id"], refund["case_id"], complaint["case_id"])


def _backend(request: pytest.FixtureRequest) -> str:
    backend = str(request.param)
    if backend == "postgres" and not os.environ.get("AFTERSALES_TEST_POSTGRES_URL"):
        pytest.skip("AFTERSALES_TEST_POSTGRES_URL is not set")
    return backend


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[ApiServer]:
    """A running server over a fresh store of each backend (one per test module)."""
    server = make_server(tmp_path_factory.mktemp("api"), _backend(request))
    server.start()
    yield server
    server.stop()
    drop_schema(server)


@pytest.fixture(scope="module")
def world(api: ApiServer) -> World:
    return populate(api)
