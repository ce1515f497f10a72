"""Inbound topics orders.v1 and shipments.v1 (SPEC §4.1): one event per message, key = order_id."""

from __future__ import annotations

from decimal import (
    Context,
    Decimal,
    DecimalException,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    localcontext,
)
from typing import Annotated, Literal, get_args

from pydantic import Field, TypeAdapter, model_validator

from schemas.categories import Category
from schemas.common import (
    Amount,
    Currency,
    CustomerId,
    Detail,
    Flag,
    Ident,
    Market,
    MerchantId,
    Open,
    Place,
    Quantity,
    Timestamp,
    TimeZone,
)

EXACT = Context(prec=60, traps=[Inexact, Overflow, InvalidOperation, DivisionByZero])


class InboundEvent(Open):
    event_id: Ident
    occurred_at: Timestamp
    order_id: Ident


class OrderLine(Open):
    line_id: Ident
    sku: Ident
    category: Category
    quantity: Quantity
    unit_price: Amount


class OrderPlaced(InboundEvent):
    event_type: Literal["OrderPlaced"]
    customer_id: CustomerId
    market: Market
    currency: Currency
    fulfilment: Literal["bonded", "direct_mail", "domestic"]
    lines: Annotated[list[OrderLine], Field(min_length=1, max_length=2000)]
    shipping_fee: Amount
    duties: Amount
    taxes: Amount
    discount: Amount = Decimal(0)
    total: Amount
    merchant_id: MerchantId | None = None
    channel: Ident | None = None
    buyer_timezone: TimeZone | None = Field(
        None, description="the buyer's IANA time zone (e.g. Europe/Berlin): return periods end "
                          "at the end of a calendar day there; else the market's default zone")
    buyer_informed_of_return_cost: Flag | None = Field(
        None, description="the storefront told the buyer before the order that they bear the "
                          "cost of sending back goods returned without a fault (in the EU and "
                          "the UK the buyer pays it only then); left out: nobody assumes so")

    @model_validator(mode="after")
    def _total_is_the_sum(self) -> OrderPlaced:
        seen: set[str] = set()
        for line in self.lines:
            if line.line_id in seen:
                raise ValueError(f"line_id {line.line_id!r} appears on two lines")
            seen.add(line.line_id)
        try:  # exact: amounts are bounded, and anything inexact is an error, not a rounding
            with localcontext(EXACT):
                items = sum((line.unit_price * line.quantity for line in self.lines), Decimal(0))
                expected = items + self.shipping_fee + self.duties + self.taxes - self.discount
        except DecimalException as error:
            raise ValueError(f"the order's amounts cannot be added up exactly ({error!r})"
                             ) from None
        if expected != self.total:
            raise ValueError(
                f"total {self.total} is not the sum of lines {items} + shipping_fee "
                f"{self.shipping_fee} + duties {self.duties} + taxes {self.taxes} - discount "
                f"{self.discount} = {expected}"
            )
        return self


class OrderPaid(InboundEvent):
    event_type: Literal["OrderPaid"]
    payment_id: Ident
    method: Ident
    amount: Amount
    currency: Currency


class OrderCancelled(InboundEvent):
    event_type: Literal["OrderCancelled"]
    reason: Detail = ""


ShipmentEventType = Literal[
    "Dispatched",
    "CustomsReleased",
    "CustomsHeld",
    "InTransit",
    "OutForDelivery",
    "Delivered",
    "DeliveryFailed",
    "Lost",
    "Damaged",
]


class ShipmentEvent(InboundEvent):
    event_type: ShipmentEventType
    shipment_id: Ident
    carrier: Ident
    direction: Literal["outbound", "return"]
    location: Place | None = None
    detail: Detail | None = None


ORDER_TYPES = frozenset({"OrderPlaced", "OrderPaid", "OrderCancelled"})
SHIPMENT_TYPES = frozenset(get_args(ShipmentEventType))

OrderEvent = Annotated[OrderPlaced | OrderPaid | OrderCancelled, Field(discriminator="event_type")]
ORDER_EVENT: TypeAdapter[OrderPlaced | OrderPaid | OrderCancelled] = TypeAdapter(OrderEvent)
SHIPMENT_EVENT: TypeAdapter[ShipmentEvent] = TypeAdapter(ShipmentEvent)

UpstreamEvent = OrderPlaced | OrderPaid | OrderCancelled | ShipmentEvent
ORDERS_TOPIC = "orders.v1"
SHIPMENTS_TOPIC = "shipments.v1"
ANY_INBOUND: TypeAdapter[UpstreamEvent] = TypeAdapter(
    Annotated[UpstreamEvent, Field(discriminator="event_type")]
)
