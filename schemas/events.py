"""The `data` of every event type published on aftersales.case-events.v1, as JSON Schema.

Generated from the domain's event classes (their fields and types, as the store writes them
and the relay unwraps them): decimals and amounts as decimal text, times as RFC 3339 text,
money as ``{"amount", "currency"}``, personal data as ``{"personal_data": "redacted",
"subject"}``. The relay adds what lets a consumer act alone (``refund`` on every refund
event, ``order_id`` on every order event, below); those are part of the schema too.

Each schema's id, ``urn:aftersales:schema:events:<type>.v<class version>``, is the
``dataschema`` of the CloudEvents carrying events of that class version."""

from __future__ import annotations

import dataclasses
import inspect
import sys
import types
import typing
from datetime import datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Annotated, Any, Literal
from uuid import UUID

from eventsourcing.domain import Aggregate, decorated_funcs
from eventsourcing.utils import get_topic
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, create_model

from aftersales_core.decisions import PolicyDecision
from aftersales_core.domain.complaints import ComplaintCase
from aftersales_core.domain.customer import Customer
from aftersales_core.domain.order import Order
from aftersales_core.domain.quota import BuyerQuota
from aftersales_core.domain.refunds import RefundCase
from aftersales_core.domain.returns import ReturnCase
from aftersales_core.money import Money
from aftersales_core.personal import PersonalData

SCHEMA_BASE = "urn:aftersales:schema:events:"
# Aggregates whose events are published (principals are not: identity and security data)
PUBLISHED = (Order, Customer, BuyerQuota, ReturnCase, RefundCase, ComplaintCase)
ENVELOPE_FIELDS = {"originator_id", "originator_version", "timestamp", "originator_topic"}
Decimals = Annotated[str, Field(pattern=r"^-?[0-9]+(\.[0-9]+)?$",
                                description="an exact decimal as text")]


class MoneyData(BaseModel):
    model_config = ConfigDict(title="Money")
    amount: Decimals
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217")


class DecisionData(BaseModel):
    """A recorded policy decision: its inputs, policy id and version, outcome and reasons."""

    model_config = ConfigDict(title="PolicyDecision", extra="allow")
    policy_id: str
    policy_version: int
    inputs: dict[str, Any]
    outcome: str
    reasons: list[str]
    rules: list[str]
    details: dict[str, Any]


class RedactedData(BaseModel):
    """Personal data never leaves the engine: only whose it is."""

    model_config = ConfigDict(title="RedactedPersonalData", extra="forbid")
    personal_data: Literal["redacted"]
    subject: str = Field(description=(
        "whose it is: the customer id, or `[order <order aggregate id>]` for the unknown "
        "fields of an upstream fact that came before its order's placement (the order's own "
        "key, erased with the buyer the placement names)"))


class RefundFacts(BaseModel):
    """What every refund event carries about its refund, so that a payments or notification
    service can act on any one of them alone."""

    model_config = ConfigDict(title="RefundFacts", extra="forbid")
    refund_id: str
    order_id: str
    source: str | None = Field(description="return, complaint or goodwill")
    source_case_id: str | None
    amount: Decimals | None = Field(description="the calculated total; null if not calculated")
    currency: str | None
    components: dict[str, Decimals] = Field(
        description="items, outbound_shipping, duties, taxes, restocking_fee, return_shipping, "
                    "goodwill: what the amount is made of")


ADDED: dict[str, dict[str, Any]] = {  # topic prefix -> fields the relay adds
    "aftersales.refund.": {"refund": (RefundFacts, ...)},
    "aftersales.order.": {"order_id": (str, Field(description="the upstream order id"))},
}


def _wire(tp: Any) -> Any:
    """The type a domain value has once stored and unwrapped to plain JSON."""
    origin = typing.get_origin(tp)
    if origin is Annotated:
        return _wire(typing.get_args(tp)[0])
    if origin in (types.UnionType, typing.Union):
        wired = tuple(_wire(a) for a in typing.get_args(tp))
        return typing.Union[wired]  # noqa: UP007 - built from a tuple of types
    if origin in (list, tuple, set, frozenset):
        args = typing.get_args(tp)
        return list[_wire(args[0]) if args else Any]  # type: ignore[misc]
    if origin is dict:
        _, value = typing.get_args(tp) or (str, Any)
        return dict[str, _wire(value)]  # type: ignore[misc]
    if origin is Literal:
        return tp
    if tp is Decimal:
        return Decimals
    if tp is datetime:
        return AwareDatetime
    if tp is UUID:
        return UUID
    if tp is Money:
        return MoneyData
    if tp is PolicyDecision:
        return DecisionData
    if tp is PersonalData:
        return RedactedData
    if isinstance(tp, type) and issubclass(tp, Enum):
        return str
    return tp


@cache
def _namespace() -> dict[str, Any]:
    """Where the domain's (string) annotations are evaluated: its modules' names."""
    names: dict[str, Any] = {}
    for module_name, module in list(sys.modules.items()):
        if module_name.startswith("aftersales_core.domain") and module is not None:
            names.update(vars(module))
    return names


def _defaulted(event_class: type) -> set[str]:
    """The arguments of an ``@event`` method that have a default: events stored before the
    argument was added lack it, so their data may too."""
    method = decorated_funcs.get(event_class)
    if method is None:
        return set()
    return {name for name, parameter in inspect.signature(method).parameters.items()
            if parameter.default is not inspect.Parameter.empty}


def _fields(event_class: type) -> dict[str, Any]:
    namespace = {**_namespace(), **vars(sys.modules[event_class.__module__])}
    defaulted = _defaulted(event_class)
    out: dict[str, Any] = {}
    for field in dataclasses.fields(event_class):
        if field.name in ENVELOPE_FIELDS:
            continue
        hint = eval(field.type, namespace) if isinstance(field.type, str) else field.type
        optional = (field.default is not dataclasses.MISSING
                    or field.default_factory is not dataclasses.MISSING
                    or field.name in defaulted)
        out[field.name] = (_wire(hint), None if optional else ...)
    return out


@cache
def event_classes() -> dict[str, type]:
    """Every published event type (its stable topic) and its class."""
    found = {}
    for aggregate in PUBLISHED:
        for value in vars(aggregate).values():
            if (isinstance(value, type) and issubclass(value, Aggregate.Event)
                    and dataclasses.is_dataclass(value)):
                topic = get_topic(value)
                if topic.startswith("aftersales."):
                    found[topic] = value
    return dict(sorted(found.items()))


def class_version(event_type: str) -> int | None:
    """The current class version of an event type (None for an unpublished type)."""
    event_class = event_classes().get(event_type)
    return None if event_class is None else int(getattr(event_class, "class_version", 1))


def schema_id(event_type: str, version: int) -> str:
    return f"{SCHEMA_BASE}{event_type}.v{version}"


def data_model(event_type: str) -> type[BaseModel]:
    """A pydantic model of the data of ``event_type``'s current class version."""
    event_class = event_classes()[event_type]
    fields = _fields(event_class)
    version = class_version(event_type) or 1
    if version > 1:
        fields["class_version"] = (Literal[version], ...)
    for prefix, added in ADDED.items():
        if event_type.startswith(prefix):
            fields.update(added)
    name = event_type.removeprefix("aftersales.").replace(".", "_")
    return create_model(name, __config__=ConfigDict(extra="forbid", title=event_type),
                        **fields)

