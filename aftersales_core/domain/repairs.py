"""A return resolved by repair, followed through: sent to the repairer, diagnosed, repaired or
not repairable, shipped back to the buyer; a repair that fails (not repairable, or the fault
comes back) records the ``repair.remedies`` decision of the market's ladder, and the buyer's
choice among its remedies resolves the return again (refund, price reduction, replacement) or
sends the goods to another repair.

The checks are plain methods of ``RepairRules`` (mixed into ReturnCase); the events are made by
``repair_events`` and declared in ReturnCase's body, as the deadline events are."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from eventsourcing.domain import event

from aftersales_core.decisions import PolicyDecision
from aftersales_core.domain.actor import Actor
from aftersales_core.domain.base import CaseRules
from aftersales_core.domain.return_status import ReturnStatus as S
from aftersales_core.errors import IllegalTransitionError, InvalidCommandError
from aftersales_core.personal import PersonalData, text_of

REMEDY_RESOLUTIONS = {"refund": "refund", "price_reduction": "price_reduction",
                      "replacement": "exchange"}


class RepairRules(CaseRules):
    """Mixed into ReturnCase, which holds this state and declares these event methods."""

    status: S
    customer_id: str
    resolution: dict[str, Any] | None
    repair: dict[str, Any]
    record_decision: Callable[..., None]
    latest: Callable[[str], PolicyDecision | None]
    _sent_to_repair: Callable[..., None]
    _repair_diagnosed: Callable[..., None]
    _repair_completed: Callable[..., None]
    _repaired_item_shipped: Callable[..., None]
    _repair_failed: Callable[..., None]

    def remedies(self) -> list[str]:
        """What the buyer may choose after a failed repair (the latest remedies decision)."""
        decision = self.latest("repair.remedies")
        if self.status != S.REPAIR_FAILED or decision is None:
            return []
        return list(decision.details.get("remedies", []))

    def failed_repairs(self, fault: str) -> tuple[int, int]:
        """The repairs that failed before, and how many of them failed of ``fault`` (the
        words compared here, so the ``repair.remedies`` decision records only the counts)."""
        earlier = [text_of(f) for f in self.repair.get("failed_faults", [])]
        return len(earlier), sum(1 for f in earlier if f == fault)

    def send_to_repair(self, actor: Actor, repairer: str, at: datetime) -> None:
        self._check_time(at)
        resolved_by_repair = (self.status == S.RESOLVED
                              and (self.resolution or {}).get("kind") == "repair")
        if not resolved_by_repair and self.status != S.REPAIR_FAILED:
            raise IllegalTransitionError(self.KIND, self.id, "send the goods to repair",
                                         self.status.value)
        if self.status == S.REPAIR_FAILED and "repair" not in self.remedies():
            raise IllegalTransitionError(
                self.KIND, self.id, "send the goods to another repair",
                f"{self.status.value}: the buyer may choose {' or '.join(self.remedies())}")
        self._sent_to_repair(by=actor.principal_id, role=actor.role, repairer=repairer,
                             attempt=int(self.repair.get("attempts", 0)) + 1, timestamp=at)

    def diagnose(
        self, actor: Actor, fault: str, repairable: bool, note: str, at: datetime
    ) -> None:
        self._check_time(at)
        self._require("diagnose the repair", (S.IN_REPAIR,))
        if not fault.strip():
            raise InvalidCommandError("fault: name the fault found")
        self._repair_diagnosed(by=actor.principal_id, role=actor.role, fault=fault,
                               repairable=repairable, note=note, timestamp=at)

    def complete_repair(self, actor: Actor, repaired: bool, note: str,
                        remedies: PolicyDecision | None, at: datetime) -> None:
        """Repaired, or not: a repair that failed records what the ladder opens."""
        self._check_time(at)
        self._require("complete the repair", (S.DIAGNOSED,))
        if not repaired and remedies is None:
            raise InvalidCommandError(f"return {self.id}: a failed repair needs its remedies")
        if repaired and self.repair.get("repairable") is False:
            raise IllegalTransitionError(self.KIND, self.id, "complete the repair as repaired",
                                         "diagnosed as not repairable")
        if remedies is not None and not repaired:
            self.record_decision(decision=remedies, timestamp=at)
        self._repair_completed(by=actor.principal_id, role=actor.role, repaired=repaired,
                               note=note, timestamp=at)

    def ship_repaired(
        self, actor: Actor, carrier: str, tracking_number: str, at: datetime
    ) -> None:
        self._check_time(at)
        self._require("ship the repaired goods back", (S.REPAIRED,))
        self._repaired_item_shipped(by=actor.principal_id, role=actor.role, carrier=carrier,
                                    tracking_number=tracking_number, timestamp=at)

    def report_repair_failed(self, actor: Actor, fault: str, remedies: PolicyDecision,
                             at: datetime) -> None:
        """The repaired goods came back to the buyer with the fault again."""
        self._check_time(at)
        self._require("report the repair failed", (S.REPAIR_SHIPPED,))
        if not fault.strip():
            raise InvalidCommandError("fault: name the fault that came back")
        self.record_decision(decision=remedies, timestamp=at)
        self._repair_failed(by=actor.principal_id, role=actor.role,
                            fault=PersonalData(self.customer_id, fault), timestamp=at)

    def check_remedy(self, remedy: str) -> str:
        """The resolution a chosen remedy becomes; refused unless the ladder offers it."""
        self._require("choose a remedy", (S.REPAIR_FAILED,))
        offered = self.remedies()
        if remedy not in offered:
            raise IllegalTransitionError(self.KIND, self.id, f"choose {remedy}",
                                         f"{self.status.value}: the remedies offered are "
                                         f"{' or '.join(offered)}")
        if remedy == "repair":
            raise InvalidCommandError("remedy: another repair is SendToRepair")
        return REMEDY_RESOLUTIONS[remedy]

    # ---- deadlines ---------------------------------------------------------------------------
    def repair_deadlines_wanted(self) -> dict[str, datetime]:
        if self.status in (S.IN_REPAIR, S.DIAGNOSED) and "started_at" in self.repair:
            return {"repair": datetime.fromisoformat(self.repair["started_at"])}
        if self.status == S.REPAIRED and "repaired_at" in self.repair:
            return {"repair_ship": datetime.fromisoformat(self.repair["repaired_at"])}
        return {}


def repair_events(prefix: str) -> tuple[Any, Any, Any, Any, Any]:
    """The repair events of a ReturnCase, under its topics: assign them in the class body."""

    @event("SentToRepair", topic=f"{prefix}.SentToRepair")
    def _sent_to_repair(self: Any, by: str, role: str, repairer: str, attempt: int,
                        timestamp: datetime) -> None:
        self.repair.update(attempts=attempt, repairer=repairer, started_at=timestamp.isoformat())
        self.repair.pop("repaired_at", None)

    @event("RepairDiagnosed", topic=f"{prefix}.RepairDiagnosed")
    def _repair_diagnosed(self: Any, by: str, role: str, fault: str, repairable: bool, note: str,
                          timestamp: datetime) -> None:
        self.repair.update(fault=fault, repairable=repairable)

    @event("RepairCompleted", topic=f"{prefix}.RepairCompleted")
    def _repair_completed(self: Any, by: str, role: str, repaired: bool, note: str,
                          timestamp: datetime) -> None:
        if repaired:
            self.repair["repaired_at"] = timestamp.isoformat()
        else:
            self.repair.setdefault("failed_faults", []).append(self.repair.get("fault", ""))

    @event("RepairedItemShipped", topic=f"{prefix}.RepairedItemShipped")
    def _repaired_item_shipped(self: Any, by: str, role: str, carrier: str, tracking_number: str,
                               timestamp: datetime) -> None:
        self.repair.update(carrier=carrier, tracking_number=tracking_number)

    @event("RepairFailed", topic=f"{prefix}.RepairFailed")
    def _repair_failed(  # the fault: the customer's words (a plain str in events stored before)
        self: Any, by: str, role: str, fault: PersonalData | str, timestamp: datetime
    ) -> None:
        self.repair["fault"] = fault
        self.repair.setdefault("failed_faults", []).append(fault)

    return (_sent_to_repair, _repair_diagnosed, _repair_completed, _repaired_item_shipped,
            _repair_failed)
