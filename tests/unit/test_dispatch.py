"""One typed path for every command: the table of dispatch/commands.py is complete."""

from __future__ import annotations

import inspect
from typing import get_args, get_type_hints

import pytest

from aftersales_core.application.upstream import UpstreamService
from aftersales_core.policies.access_matrix import ACCESS_V1
from dispatch import commands
from dispatch.commands import HANDLERS, handles
from schemas.commands import ACTOR_FIELDS, AnyCommand, RequestReturn
from schemas.inbound import OrderCancelled, OrderPaid, OrderPlaced, ShipmentEvent

UNION = get_args(AnyCommand)


def test_every_command_of_the_schema_union_has_exactly_one_handler() -> None:
    assert set(HANDLERS) == set(UNION) and len(HANDLERS) == len(UNION)
    handlers = [f for _, f in inspect.getmembers(commands, inspect.isfunction)
                if f in HANDLERS.values()]
    assert len(handlers) == len(set(handlers)) == len(UNION)


@pytest.mark.parametrize("command", UNION, ids=[c.__name__ for c in UNION])
def test_each_handler_takes_its_own_command_class(command: type) -> None:
    hints = get_type_hints(HANDLERS[command], vars(commands))
    assert hints["c"] is command


def test_a_second_handler_for_a_command_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="has a handler already"):
        handles(RequestReturn)(HANDLERS[RequestReturn])


@pytest.mark.parametrize("command", UNION, ids=[c.__name__ for c in UNION])
def test_every_command_has_a_row_in_the_permission_matrix(command: type) -> None:
    name = get_args(command.model_fields["command"].annotation)[0]
    assert name in ACCESS_V1.operations


@pytest.mark.parametrize("command", UNION, ids=[c.__name__ for c in UNION])
def test_no_command_names_its_actor(command: type) -> None:
    assert not set(command.model_fields) & {*ACTOR_FIELDS, "approver_role"}


@pytest.mark.parametrize(
    ("model", "method"),
    [(OrderPlaced, UpstreamService.order_placed), (OrderPaid, UpstreamService.order_paid),
     (OrderCancelled, UpstreamService.order_cancelled),
     (ShipmentEvent, UpstreamService.shipment_scanned)],
    ids=["OrderPlaced", "OrderPaid", "OrderCancelled", "ShipmentEvent"],
)
def test_every_field_of_an_upstream_event_is_a_parameter_of_its_service(
    model: type, method: object
) -> None:
    # the unknown fields (extra), and the delivery promise lifted from them
    parameters = set(inspect.signature(method).parameters) - {"self", "caller", "extra",
                                                              "estimated_delivery_at"}
    assert set(model.model_fields) - {"event_type"} | ({"event_type"} if model is ShipmentEvent
                                                        else set()) == parameters
