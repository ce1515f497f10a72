"""``logistics.exception``: does a shipment's trouble open a case for the customer, and which?

v2 (input ``delivered_parcels``: the order's other outbound shipments with a ``Delivered``
scan): a lost parcel refunds the whole order on policy only when no other parcel of the order
was delivered. The shipment facts (SPEC 4.1 ``shipments.v1``) do not say which lines a parcel
held, so when another parcel was delivered the refund (of what is left to refund) is opened for
a person: ``refund_review`` asks ``refund.approval`` (v4 ``review``) for a supervisor, with a
reason naming the delivered parcels, and an agent sets the lines. v1 refunded the whole order,
auto-approved under the threshold, though part of it had arrived.

v3 (input ``parcels_on_the_way``: the order's other outbound shipments with neither a
``Delivered`` nor a ``Lost`` scan): a lost parcel refunds the whole order on policy only when
the order has no other parcel delivered or still on its way. v2 looked at delivered parcels
only, so a ``Lost`` scan processed before a sibling parcel's ``Delivered`` refunded the whole
order on policy, the sibling's goods with it; the lines a parcel held being unknown, what is not
known delivered is not known lost either, so that refund too is opened for a supervisor; and a
lost parcel that was itself scanned ``Delivered`` (input ``delivered_at``, the time of that scan:
the goods may well be with the buyer) opens its refund for a supervisor's approval too (rule
``logistics.lost_after_delivery``, the reason naming the delivery scan's time), where v2
counted only the other parcels' deliveries and refunded the whole order on policy. A
customs hold or a silence says how long it lasted in hours, minutes and seconds ("72 hours 0
minutes 1 second, over the 72-hour limit"); v1 and v2 rounded it to hundredths of an hour, so
a breach just over the limit read "72 hours, over the 72-hour limit".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from aftersales_core.decisions import JSON, PolicyDecision, copy_json
from aftersales_core.outcomes import LogisticsException
from aftersales_core.policies.reading import Reader, iso
from aftersales_core.policies.registry import policy
from aftersales_core.policies.vocabulary import (
    FULFILMENTS,
    LOGISTICS_EVENT_TYPES,
    SHIPMENT_DIRECTIONS,
)

POLICY_ID = "logistics.exception"


@dataclass(frozen=True)
class LogisticsSettings:
    """Settings of logistics.exception v1."""

    customs_hold_limit_hours: int = 72
    no_scan_limit_hours: int = 120
    lost_parcel_remedy: Literal["refund", "reship"] = "refund"


SETTINGS_V1 = LogisticsSettings()


@dataclass(frozen=True)
class _Verdict:
    outcome: LogisticsException
    rule: str
    reason: str
    category: str | None = None
    refund: bool = False
    review: bool = False
    reship: bool = False
    limit_hours: int | None = None
    hours_over: float | None = None


def _hours(hours: float) -> str:
    return f"{hours:.2f}".rstrip("0").rstrip(".")


def _count(number: int, unit: str) -> str:
    return f"{number} {unit}{'' if number == 1 else 's'}"


def _span(span: timedelta) -> str:
    """A time span in hours, then the minutes and seconds past them when there are any, so a
    span just over a limit never reads as the limit: ``72 hours 0 minutes 1 second``."""
    hours, rest = divmod(span, timedelta(hours=1))
    if not rest:
        return _count(hours, "hour")
    minutes, rest = divmod(rest, timedelta(minutes=1))
    said = f"{_count(hours, 'hour')} {_count(minutes, 'minute')}"
    if not rest:
        return said
    if rest.microseconds:
        seconds = f"{rest.seconds}.{rest.microseconds:06d}".rstrip("0")
        return f"{said} {seconds} seconds"
    return f"{said} {_count(rest.seconds, 'second')}"


def _overdue(kind: str, start: datetime, now: datetime, limit: int, category: str,
             what: str, version: int) -> _Verdict:
    """A hold or a silence: a complaint once it lasts longer than the limit, else nothing yet
    (v3 says how long exactly; v1 and v2 rounded it to hundredths of an hour, so a hold of
    72 hours and 1 second read "72 hours, over the 72-hour limit")."""
    hours = (now - start) / timedelta(hours=1)
    said = _span(now - start) if version > 2 else f"{_hours(hours)} hours"
    rule = f"logistics.{kind}_{limit}h"
    if hours > limit:
        return _Verdict(LogisticsException.OPEN_COMPLAINT, rule,
                        f"{what} since {iso(start)}: {said}, over the {limit}-hour "
                        "limit, so a complaint is opened for the customer", category,
                        limit_hours=limit, hours_over=round(hours - limit, 2))
    return _Verdict(LogisticsException.NONE, rule,
                    f"{what} since {iso(start)}: {said}, within the {limit}-hour "
                    "limit", limit_hours=limit)


def _parcels(parcels: list[str]) -> str:
    return f"{'parcel' if len(parcels) == 1 else 'parcels'} {', '.join(parcels)}"


def _outbound(event: str, since: datetime | None, occurred_at: datetime,
              settings: LogisticsSettings, delivered: list[str],
              on_the_way: list[str], delivered_at: datetime | None,
              version: int) -> _Verdict:
    if event == "Lost":
        if settings.lost_parcel_remedy == "refund" and delivered_at is not None:
            return _Verdict(LogisticsException.OPEN_COMPLAINT_AND_REFUND,
                            "logistics.lost_after_delivery",
                            "the parcel to the customer is reported lost, but it was scanned "
                            f"Delivered at {iso(delivered_at)}: the goods may be with the buyer, "
                            "so open a complaint for them and a refund of what is left to "
                            "refund for a supervisor's approval", "logistics_delay",
                            refund=True, review=True)
        if settings.lost_parcel_remedy == "refund" and delivered:
            parcels = ", ".join(delivered)
            return _Verdict(LogisticsException.OPEN_COMPLAINT_AND_REFUND,
                            "logistics.lost_parcel_partly_delivered",
                            "the parcel to the customer is lost, but the order's "
                            f"{'parcel' if len(delivered) == 1 else 'parcels'} {parcels} "
                            f"{'was' if len(delivered) == 1 else 'were'} delivered and the "
                            "shipment facts do not say which lines each parcel held: open a "
                            "complaint for them and a refund of what is left to refund for a "
                            "supervisor's approval, an agent setting the lines that were lost",
                            "logistics_delay", refund=True, review=True)
        if settings.lost_parcel_remedy == "refund" and on_the_way:
            return _Verdict(LogisticsException.OPEN_COMPLAINT_AND_REFUND,
                            "logistics.lost_parcel_others_on_the_way",
                            "the parcel to the customer is lost, but the order's "
                            f"{_parcels(on_the_way)} "
                            f"{'is' if len(on_the_way) == 1 else 'are'} still on the way and the "
                            "shipment facts do not say which lines each parcel held: open a "
                            "complaint for them and a refund of what is left to refund for a "
                            "supervisor's approval, an agent setting the lines that were lost",
                            "logistics_delay", refund=True, review=True)
        if settings.lost_parcel_remedy == "refund":
            return _Verdict(LogisticsException.OPEN_COMPLAINT_AND_REFUND, "logistics.lost_parcel",
                            "the parcel to the customer is lost: open a complaint for them and "
                            "refund the order", "logistics_delay", refund=True)
        return _Verdict(LogisticsException.OPEN_COMPLAINT, "logistics.lost_parcel",
                        "the parcel to the customer is lost: open a complaint for them and ship "
                        "the order again", "logistics_delay", reship=True)
    if event == "Damaged":
        return _Verdict(LogisticsException.OPEN_COMPLAINT, "logistics.damaged_in_transit",
                        "the parcel was damaged in transit: open a complaint for the customer",
                        "damaged")
    if event == "DeliveryFailed":
        return _Verdict(LogisticsException.OPEN_COMPLAINT, "logistics.delivery_failed",
                        "delivery to the customer failed: open a complaint to arrange it",
                        "logistics_delay")
    if event == "CustomsHeld":
        return _overdue("customs_hold", since or occurred_at, occurred_at,
                        settings.customs_hold_limit_hours, "customs", "held at customs",
                        version)
    return _overdue("no_scan", since or occurred_at, occurred_at, settings.no_scan_limit_hours,
                    "logistics_delay", "no tracking scan", version)


def decide(inputs: JSON, settings: LogisticsSettings, version: int) -> PolicyDecision:
    read = Reader(POLICY_ID, inputs)
    event = read.text("event_type", LOGISTICS_EVENT_TYPES)
    direction = read.text("direction", SHIPMENT_DIRECTIONS)
    occurred_at = read.time("occurred_at")
    since = read.optional_time("since")
    read.market()
    read.text("fulfilment", FULFILMENTS)
    read.money("order_value", read.currency())
    if event == "NoScan" and since is None:
        raise read.error("since", "must give the time of the last scan for a NoScan event")
    if since is not None and since > occurred_at:
        raise read.error("since", f"{iso(since)} is after occurred_at {iso(occurred_at)}")
    delivered = sorted(set(read.strings("delivered_parcels"))) if version > 1 else []
    on_the_way = sorted(set(read.strings("parcels_on_the_way"))) if version > 2 else []
    delivered_at = read.optional_time("delivered_at") if version > 2 else None

    if direction == "outbound":
        verdict = _outbound(event, since, occurred_at, settings, delivered, on_the_way,
                            delivered_at, version)
    elif event == "Lost":
        verdict = _Verdict(LogisticsException.OPEN_COMPLAINT, "logistics.lost_return",
                           "the buyer's return parcel is lost: open a complaint so that the "
                           "desk settles the return without the goods", "logistics_delay")
    else:
        verdict = _Verdict(LogisticsException.NONE, "logistics.return_leg",
                           f"{event} on the return leg is a matter for the carrier and the "
                           "return case: no customer case is opened")
    details: JSON = {
        "complaint_category": verdict.category,
        "refund": verdict.refund,
        "reship": verdict.reship,
        "limit_hours": verdict.limit_hours,
        "hours_over_limit": verdict.hours_over,
    }
    if version > 1:
        details["refund_review"] = verdict.review
        details["delivered_parcels"] = list(delivered)
    if version > 2:
        details["parcels_on_the_way"] = list(on_the_way)
    return PolicyDecision(POLICY_ID, version, copy_json(inputs), verdict.outcome,
                          (verdict.reason,), (verdict.rule,), details)


@policy(POLICY_ID, 1, settings=SETTINGS_V1)
def logistics_exception_v1(inputs: JSON, settings: LogisticsSettings) -> PolicyDecision:
    return decide(inputs, settings, 1)


@policy(POLICY_ID, 2, settings=SETTINGS_V1)
def logistics_exception_v2(inputs: JSON, settings: LogisticsSettings) -> PolicyDecision:
    """v2: a lost parcel of an order another parcel of which was delivered opens its refund for
    a supervisor's review (``refund_review``) instead of refunding the whole order on policy."""
    return decide(inputs, settings, 2)


@policy(POLICY_ID, 3, settings=SETTINGS_V1)
def logistics_exception_v3(inputs: JSON, settings: LogisticsSettings) -> PolicyDecision:
    """v3: a lost parcel of an order another parcel of which is still on its way (neither
    delivered nor lost), or a lost parcel itself scanned delivered, also opens its refund for a
    supervisor's review; a hold or a silence
    says how long it lasted to the second (v2: "72 hours" for 72 hours and 1 second)."""
    return decide(inputs, settings, 3)
