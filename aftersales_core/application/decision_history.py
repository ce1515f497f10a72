"""Recorded decisions read back from the store, in store order: every policy decision an event
holds, the return each refund settles and how every scheduled deadline ended. What-if
simulation (policybook/simulate.py) evaluates them again under another book."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification

from aftersales_core.decisions import PolicyDecision
from aftersales_core.outcomes import DeadlineAction, DeadlineState
from aftersales_core.policybook.simulate import DeadlineEnd, Recorded

DECISION_MARK = b'"policy_decision"'  # in the stored state of every event holding a decision
_DEADLINE_TOPICS = (".DeadlineScheduled", ".DeadlineCancelled", ".DeadlineBreached")
_REFUND_OPENED = "aftersales.refund.Requested"  # names the return a refund settles


def recorded(recorder: ApplicationRecorder, mapper: Mapper[UUID], batch: int = 5000
             ) -> Iterator[tuple[Notification, Any]]:
    """Every stored event holding a decision or a deadline's life, and every refund's
    opening (the return it settles), in store order."""
    position = 1
    while True:
        page = recorder.select_notifications(position, batch)
        for item in page:
            if DECISION_MARK in item.state or item.topic.endswith(_DEADLINE_TOPICS) \
                    or item.topic == _REFUND_OPENED:
                yield item, mapper.to_domain_event(item)
        if len(page) < batch:
            return
        position = page[-1].id + 1


def history_of_decisions(recorder: ApplicationRecorder, mapper: Mapper[UUID],
                         merchant_id: str | None = None
                         ) -> tuple[list[Recorded], list[DeadlineEnd]]:
    """The recorded decisions (only those of ``merchant_id`` when given: memory grows with
    that merchant's history, not the store's) and how every deadline ended."""
    records: list[Recorded] = []
    ends = _DeadlineEnds()
    sources: dict[str, str] = {}  # refund case -> the return it settles
    for item, event in recorded(recorder, mapper):
        case_id = str(item.originator_id)
        if item.topic.endswith(_DEADLINE_TOPICS):
            ends.apply(case_id, item.topic, event)
        source = getattr(event, "source_case_id", None)
        if source:
            sources[case_id] = str(source)
        for decision in decisions_in(event):
            if merchant_id is None or (decision.book or {}).get("merchant_id") == merchant_id:
                records.append(Recorded(item.id, case_id, event.timestamp, decision,
                                        sources.get(case_id)))
    return records, ends.all()


def decisions_in(event: Any) -> list[PolicyDecision]:
    """Every policy decision an event holds (a decision, or a list of them)."""
    found: list[PolicyDecision] = []
    for value in vars(event).values():
        items = value if isinstance(value, (list, tuple)) else (value,)
        found += [item for item in items if isinstance(item, PolicyDecision)]
    return found


class _DeadlineEnds:
    """How each scheduled deadline ended, folded from the deadline events of every case."""

    def __init__(self) -> None:
        self.open: dict[tuple[str, str], DeadlineEnd] = {}
        self.closed: list[DeadlineEnd] = []

    def apply(self, case_id: str, topic: str, event: Any) -> None:
        key = (case_id, event.name)
        if topic.endswith(".DeadlineScheduled"):
            previous = self.open.pop(key, None)
            if previous is not None:
                self.closed.append(previous)
            self.open[key] = DeadlineEnd(case_id, event.name, event.since.isoformat(), "open",
                                         None)
            return
        current = self.open.pop(key, None)
        if current is None:
            return
        if topic.endswith(".DeadlineCancelled"):
            state = "met" if event.reason == DeadlineState.MET else "cancelled"
        else:
            state = "late" if event.action == DeadlineAction.LATE else "fired"
        at = event.fired_at if state == "fired" else event.timestamp
        self.closed.append(DeadlineEnd(case_id, current.name, current.since, state, at))

    def all(self) -> list[DeadlineEnd]:
        return [*self.closed, *self.open.values()]
