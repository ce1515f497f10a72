"""The logistics watchdog: an outbound parcel that goes silent, or sits at customs, for longer
than the policy allows gets a proactive complaint before the customer has to ask.

The Order aggregate keeps one deadline per outbound shipment, ``watchdog:<shipment id>``. Each
later scan moves it (the state it watches began again), delivery or loss ends it. When it fires,
the application evaluates ``logistics.exception`` (NoScan or CustomsHeld, with ``since``) and
opens the complaint under an id derived from the watch, so it is opened once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aftersales_core.domain.deadlines import DeadlineRules
from aftersales_core.outcomes import DeadlineState

WATCHDOG = "watchdog:"
WATCH_ENDS = frozenset({"Delivered", "Lost"})
EVENT_TYPE = {"no_scan": "NoScan", "customs_hold": "CustomsHeld"}


def watch(shipment: dict[str, Any]) -> tuple[str, datetime] | None:
    """(kind, since) of an outbound shipment's watch: ``customs_hold`` since the first
    CustomsHeld with no CustomsReleased after it, else ``no_scan`` since the latest scan; None
    once the parcel is delivered or lost (scans are taken in the order they happened)."""
    if shipment["direction"] != "outbound" or not shipment["scans"]:
        return None
    if any(s["scan"] in WATCH_ENDS for s in shipment["scans"]):
        return None  # delivered or lost, whenever (before any time is read)
    scans = sorted(
        ((datetime.fromisoformat(s["at"]), s["scan"]) for s in shipment["scans"]),
        key=lambda scan: scan[0],
    )
    held: datetime | None = None
    for at, scan in scans:
        if scan in WATCH_ENDS:
            return None
        if scan == "CustomsHeld" and held is None:
            held = at
        elif scan == "CustomsReleased":
            held = None
    return ("customs_hold", held) if held is not None else ("no_scan", scans[-1][0])


class OrderWatchdog(DeadlineRules):
    """The Order's deadline rules: a watch per outbound shipment of a placed, live order."""

    placed: bool
    cancelled_at: datetime | None
    shipments: dict[str, dict[str, Any]]
    order_id: str

    def watched(self, name: str) -> tuple[str, str, datetime] | None:
        """(shipment id, kind, since) of a watchdog deadline's current watch."""
        shipment_id = name.removeprefix(WATCHDOG)
        found = watch(self.shipments[shipment_id]) if shipment_id in self.shipments else None
        return None if found is None else (shipment_id, found[0], found[1])

    def deadlines_wanted(self) -> dict[str, datetime]:
        if not self.placed or self.cancelled_at is not None:
            return {}
        wanted = {}
        for shipment_id, shipment in self.shipments.items():
            found = watch(shipment)
            if found is not None:
                wanted[f"{WATCHDOG}{shipment_id}"] = found[1]
        return wanted

    def _deadline_left(self, name: str) -> tuple[DeadlineState, str]:
        scans = {s["scan"] for s in self.shipments[name.removeprefix(WATCHDOG)]["scans"]}
        if self.cancelled_at is not None:
            return DeadlineState.CANCELLED, "the order was cancelled"
        if "Lost" in scans:
            return DeadlineState.CANCELLED, "the parcel is lost: handled as a logistics exception"
        return DeadlineState.MET, "delivered" if "Delivered" in scans else "a later scan arrived"
