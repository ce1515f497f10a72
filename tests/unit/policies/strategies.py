"""Hypothesis strategies that draw valid JSON inputs for every policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import strategies as st

from aftersales_core.decisions import JSON
from aftersales_core.money import MINOR_UNITS
from aftersales_core.policies.vocabulary import (
    APPROVER_ROLES,
    COMPLAINT_CATEGORIES,
    COMPLAINT_CHANNELS,
    FULFILMENTS,
    INSPECTION_GRADES,
    LOGISTICS_EVENT_TYPES,
    NON_RETURNABLE_CATEGORIES,
    REFUND_SOURCES,
    REGIMES,
    RETURN_REASONS,
    SHIPMENT_DIRECTIONS,
    SHIPPING_PAYERS,
    WANTED_OUTCOMES,
)

CURRENCIES = ["CNY", "EUR", "GBP", "USD", "BRL", "JPY", "KWD", "SEK"]
MARKETS = ["CN", "DE", "FR", "IE", "GB", "US", "BR", "JP"]
ZONES = [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))]
BUYER_ZONES = ["Europe/Berlin", "Asia/Shanghai", "America/New_York", "Pacific/Kiritimati",
               "Pacific/Pago_Pago", "Australia/Lord_Howe", "America/Santiago", "Asia/Kathmandu"]


def sorted_choice(values: frozenset[str]) -> st.SearchStrategy[str]:
    return st.sampled_from(sorted(values))


def text_of(units: int, currency: str) -> str:
    """An amount of ``units`` minor units as a decimal string ("1250" EUR cents -> "12.50")."""
    exponent = MINOR_UNITS[currency]
    return str(Decimal(units).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent)))


def amount(currency: str, most: int = 100_000) -> st.SearchStrategy[str]:
    return st.integers(0, most).map(lambda units: text_of(units, currency))


def moments() -> st.SearchStrategy[datetime]:
    return st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2028, 1, 1),
                        timezones=st.sampled_from(ZONES))


@st.composite
def order_lines(draw: st.DrawFn, currency: str, most: int = 4) -> list[JSON]:
    categories = sorted(NON_RETURNABLE_CATEGORIES | {"cosmetics", "apparel", "toys", "newspapers",
                                                     "Custom-made", "digital_downloads",
                                                     "audio_video_software", "widgets"})
    count = draw(st.integers(1, most))
    return [{"line_id": f"L{i}", "sku": f"SKU-{i}", "category": draw(st.sampled_from(categories)),
             "quantity": draw(st.integers(1, 5)), "unit_price": draw(amount(currency, 50_000))}
            for i in range(count)]


@st.composite
def eligibility_inputs(draw: st.DrawFn) -> JSON:
    currency = draw(st.sampled_from(CURRENCIES))
    delivered = draw(moments())
    lines = draw(order_lines(currency))
    ids = [line["line_id"] for line in lines]
    return {
        "market": draw(st.sampled_from(MARKETS)), "fulfilment": draw(sorted_choice(FULFILMENTS)),
        "currency": currency, "reason": draw(sorted_choice(RETURN_REASONS)),
        "wanted_outcome": draw(sorted_choice(WANTED_OUTCOMES)),
        "requested_at": (delivered + draw(st.timedeltas(timedelta(0), timedelta(days=60))))
        .isoformat(),
        "delivered_at": draw(st.none() | st.just(delivered.isoformat())),
        "customs_released_at": draw(st.none() | st.just(
            (delivered - draw(st.timedeltas(timedelta(0), timedelta(days=10)))).isoformat())),
        "lines": lines,
        "non_returnable_line_ids": draw(st.lists(st.sampled_from(ids), unique=True)),
        "goods_intact": draw(st.none() | st.booleans()),
        "buyer_timezone": draw(st.none() | st.sampled_from(BUYER_ZONES)),
        "already_returned": [
            {"line_id": line["line_id"], "ordered": line["quantity"] + extra,
             "returned": draw(st.integers(0, line["quantity"] + extra))}
            for line in lines if (extra := draw(st.integers(0, 3))) >= 0 and draw(st.booleans())
        ],
    }


@st.composite
def abuse_inputs(draw: st.DrawFn) -> JSON:
    return {"customer_id": "cust-1", "recent_orders": draw(st.integers(0, 20)),
            "recent_returns": draw(st.integers(0, 25))}


@st.composite
def shipping_inputs(draw: st.DrawFn) -> JSON:
    currency = draw(st.sampled_from(CURRENCIES))
    return {
        "market": draw(st.sampled_from(MARKETS)), "fulfilment": draw(sorted_choice(FULFILMENTS)),
        "currency": currency, "reason": draw(sorted_choice(RETURN_REASONS)),
        "regime": draw(st.none() | sorted_choice(REGIMES)),
        "item_value": draw(amount(currency)),
        "return_shipping_estimate": draw(st.none() | amount(currency, 20_000)),
        "buyer_informed_of_return_cost": draw(st.booleans()),
        "wanted_outcome": draw(sorted_choice(WANTED_OUTCOMES)),
    }


@st.composite
def refund_inputs(draw: st.DrawFn) -> JSON:
    currency = draw(st.sampled_from(CURRENCIES))
    lines = draw(order_lines(currency))
    exponent = MINOR_UNITS[currency]
    lines_units = sum(int(Decimal(line["unit_price"]).scaleb(exponent)) * line["quantity"]
                      for line in lines)
    discount = draw(st.integers(0, lines_units))
    fees = [draw(st.integers(0, 5_000)) for _ in range(3)]
    paid = draw(st.integers(0, lines_units - discount + sum(fees) + 1_000))
    picked = draw(st.lists(st.sampled_from(lines), unique_by=lambda line: line["line_id"]))
    return {
        "source": draw(sorted_choice(REFUND_SOURCES)), "market": draw(st.sampled_from(MARKETS)),
        "currency": currency, "fulfilment": draw(sorted_choice(FULFILMENTS)),
        "regime": draw(st.none() | sorted_choice(REGIMES)),
        "merchant_fault": draw(st.booleans()), "is_withdrawal": draw(st.booleans()),
        "order_lines": lines,
        "refund_lines": [{"line_id": line["line_id"],
                          "quantity": draw(st.integers(1, line["quantity"]))} for line in picked],
        "amount": draw(st.none() | amount(currency, 30_000)),
        "shipping_fee": text_of(fees[0], currency), "duties": text_of(fees[1], currency),
        "taxes": text_of(fees[2], currency), "discount": text_of(discount, currency),
        "paid": text_of(paid, currency),
        "already_refunded": text_of(draw(st.integers(0, paid)), currency),
        "tax_refundable": draw(st.booleans()),
        "inspection_grade": draw(st.none() | sorted_choice(INSPECTION_GRADES)),
        "return_shipping_payer": draw(st.none() | sorted_choice(SHIPPING_PAYERS)),
        "return_shipping_cost": draw(st.none() | amount(currency, 5_000)),
        "goodwill": draw(st.none() | amount(currency, 5_000)),
        "already_refunded_by_component": draw(refunded_before(currency, lines, paid)),
    }


@st.composite
def refunded_before(draw: st.DrawFn, currency: str, lines: list[JSON], paid: int) -> JSON:
    """What earlier refunds took of each component: any amount up to what was paid, any units
    up to those ordered (recorded ledgers need not agree with the total: v1 and v2 recorded
    capped refunds' components uncapped)."""
    return {name: {"amount": text_of(draw(st.integers(0, paid)), currency),
                   "units": [{"line_id": line["line_id"],
                              "quantity": draw(st.integers(1, line["quantity"]))}
                             for line in draw(st.lists(st.sampled_from(lines),
                                                       unique_by=lambda x: x["line_id"]))]}
            for name in ("items", "outbound_shipping", "duties", "taxes")}


@st.composite
def approval_inputs(draw: st.DrawFn) -> JSON:
    currency = draw(st.sampled_from(CURRENCIES))
    return {"amount": draw(amount(currency, 500_000)), "currency": currency,
            "order_refunded": draw(amount(currency, 500_000)),
            "requested_by": draw(st.sampled_from(["ann", "bob"])),
            "approver": draw(st.none() | st.sampled_from(["ann", "bob", "cy"])),
            "approver_role": draw(st.none() | sorted_choice(APPROVER_ROLES)),
            "review": draw(st.none() | st.just("parcel s-2 was delivered"))}


@st.composite
def triage_inputs(draw: st.DrawFn) -> JSON:
    currency = draw(st.none() | st.sampled_from(CURRENCIES))
    return {
        "channel": draw(sorted_choice(COMPLAINT_CHANNELS)),
        "category": draw(sorted_choice(COMPLAINT_CATEGORIES)),
        "filed_at": draw(moments()).isoformat(),
        "market": draw(st.none() | st.sampled_from(MARKETS)),
        "order_value": None if currency is None else draw(st.none() | amount(currency)),
        "currency": currency, "prior_complaints": draw(st.integers(0, 10)),
        "buyer_timezone": draw(st.none() | st.sampled_from(BUYER_ZONES)),
    }


@st.composite
def logistics_inputs(draw: st.DrawFn) -> JSON:
    currency = draw(st.sampled_from(CURRENCIES))
    occurred = draw(moments())
    event = draw(sorted_choice(LOGISTICS_EVENT_TYPES))
    since = occurred - draw(st.timedeltas(timedelta(0), timedelta(days=10)))
    return {
        "event_type": event, "direction": draw(sorted_choice(SHIPMENT_DIRECTIONS)),
        "occurred_at": occurred.isoformat(),
        "since": since.isoformat() if event == "NoScan" else draw(
            st.none() | st.just(since.isoformat())),
        "market": draw(st.sampled_from(MARKETS)), "fulfilment": draw(sorted_choice(FULFILMENTS)),
        "currency": currency, "order_value": draw(amount(currency)),
        "delivered_parcels": draw(st.lists(st.sampled_from(["s-2", "s-3"]), unique=True,
                                           max_size=2)),
        "parcels_on_the_way": draw(st.lists(st.sampled_from(["s-4", "s-5"]), unique=True,
                                            max_size=2)),
        "delivered_at": draw(st.none() | st.just(since.isoformat())),
    }


@st.composite
def disposition_inputs(draw: st.DrawFn) -> JSON:
    return {"grade": draw(sorted_choice(INSPECTION_GRADES)),
            "reason": draw(sorted_choice(RETURN_REASONS)),
            "wanted_outcome": draw(sorted_choice(WANTED_OUTCOMES))}
