"""Deadlines as part of a case's state: scheduled when a state is entered, settled when it is
left, fired when they fall due while the state is still current.

Each aggregate says which deadlines its current state wants (``deadlines_wanted``: a name and the
moment the state began) and declares the three events with its own topics; this mixin does the
bookkeeping, so that every aggregate keeps the same rules:

* a deadline is *current* while its aggregate still wants it with the same start;
* leaving the state in time records ``DeadlineCancelled`` (reason ``met`` or ``cancelled``);
  leaving it after the due time records a ``DeadlineBreached`` with action ``late``;
* ``fire`` re-checks everything on the aggregate itself, so firing twice changes nothing.

A deadline is due at ``due_at`` and breached by anything after it: doing the work exactly at
``due_at`` is in time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from eventsourcing.domain import event

from aftersales_core.decisions import PolicyDecision
from aftersales_core.domain.actor import Actor
from aftersales_core.outcomes import BreachOutcome, DeadlineAction, DeadlineState


def is_deadline_decision(decision: PolicyDecision) -> bool:
    """Deadline bookkeeping (``deadlines``, ``deadlines.breach``) is recorded as events, but a
    case's ``decisions`` list (what its commands report) keeps only the decisions about it."""
    return decision.policy_id.split(".")[0] == "deadlines"


@dataclass(frozen=True)
class Deadline:
    """One deadline of a case, as the case's state holds it."""

    name: str
    due_at: datetime
    action: str
    since: datetime  # when the state it watches began: (name, since) identifies the deadline
    basis: str
    set_by: dict[str, Any] = field(default_factory=dict)
    state: DeadlineState = DeadlineState.OPEN
    closed_at: datetime | None = None
    outcome: str | None = None  # met/cancelled reason, or the action a breach took

    @property
    def is_open(self) -> bool:
        return self.state == DeadlineState.OPEN


@dataclass(frozen=True)
class Breach:
    """What the application decided a breach does: the decision, and any decision its action
    needs (the shipping decision of an automatic approval)."""

    decision: PolicyDecision
    support: PolicyDecision | None = None

    @property
    def outcome(self) -> BreachOutcome:
        return BreachOutcome(self.decision.outcome)


class DeadlineRules:
    """Mixin of the deadline bookkeeping shared by every aggregate that has deadlines."""

    deadlines: dict[str, Deadline]
    modified_on: datetime
    id: Any

    # ---- what each aggregate provides (its rules, and its own event methods) ---------------
    deadlines_wanted: Callable[[], dict[str, datetime]]  # name -> when the state began
    record_decision: Callable[..., None]
    _deadline_scheduled: Callable[..., None]
    _deadline_cancelled: Callable[..., None]
    _deadline_breached: Callable[..., None]

    def _deadline_left(self, name: str) -> tuple[DeadlineState, str]:
        """Why a deadline stopped being current in time: (met or cancelled, detail)."""
        return DeadlineState.MET, "the case moved on"

    def _act_on_breach(
        self, deadline: Deadline, breach: Breach, actor: Actor, at: datetime
    ) -> None:
        """Carry out the breach's action on this aggregate (escalate, expire, approve...) as
        ``actor`` (the scheduler)."""

    # ---- queries --------------------------------------------------------------------------
    def open_deadlines(self) -> list[Deadline]:
        return sorted((d for d in self.deadlines.values() if d.is_open), key=lambda d: d.due_at)

    def is_current(self, deadline: Deadline) -> bool:
        return self.deadlines_wanted().get(deadline.name) == deadline.since

    def due_deadlines(self, now: datetime) -> list[Deadline]:
        """Open deadlines whose state is still current and whose due time has passed."""
        return [d for d in self.open_deadlines() if d.due_at < now and self.is_current(d)]

    def deadlines_to_schedule(self) -> dict[str, datetime]:
        """Wanted deadlines not scheduled yet for the current entry into their state."""
        return {
            name: since
            for name, since in self.deadlines_wanted().items()
            if name not in self.deadlines or self.deadlines[name].since != since
        }

    # ---- commands (plain methods: checks first, then events) ------------------------------
    def settle_deadlines(self, at: datetime) -> None:
        """Close every open deadline whose state was left: met or cancelled if in time, a late
        breach (action ``late``: the moment for acting has passed) if not."""
        for deadline in self.open_deadlines():
            if self.is_current(deadline):
                continue
            if at > deadline.due_at:
                self._deadline_breached(
                    name=deadline.name,
                    due_at=deadline.due_at,
                    fired_at=at,
                    action=DeadlineAction.LATE,
                    timestamp=at,
                )
            else:
                reason, detail = self._deadline_left(deadline.name)
                self._deadline_cancelled(
                    name=deadline.name, reason=reason, detail=detail, timestamp=at
                )

    def schedule_deadlines(self, decision: PolicyDecision, at: datetime) -> None:
        """Record the deadlines decision, then one DeadlineScheduled per deadline it set."""
        planned = decision.details.get("deadlines", [])
        if not planned:
            return
        self.record_decision(decision=decision, timestamp=at)
        set_by = {"policy_id": decision.policy_id, "policy_version": decision.policy_version}
        for item in planned:
            current = self.deadlines.get(item["name"])
            if current is not None and current.is_open:
                self._deadline_cancelled(
                    name=current.name,
                    reason=DeadlineState.CANCELLED,
                    detail="replaced by a new deadline",
                    timestamp=at,
                )
            self._deadline_scheduled(
                name=item["name"],
                due_at=datetime.fromisoformat(item["due_at"]),
                action=item["action"],
                basis=item["basis"],
                since=datetime.fromisoformat(item["since"]),
                set_by=set_by,
                timestamp=at,
            )

    def reopen_deadline(self, name: str, at: datetime) -> None:
        """A deadline settled when its state was left (met, cancelled, or breached ``late``)
        is owed again now that the aggregate wants it once more from the same start (what
        carried it fell through: a refund of a return rejected): scheduled again as it was,
        its due time, action and basis unchanged, so the term does not restart. A deadline
        still open, one whose breach acted (the escalation stands), or one wanted from
        another start (scheduled anew by the bookkeeping) is left as it is."""
        deadline = self.deadlines.get(name)
        if deadline is None or deadline.is_open:
            return
        acted = deadline.state not in (DeadlineState.MET, DeadlineState.CANCELLED) and \
            deadline.outcome != DeadlineAction.LATE
        if acted or self.deadlines_wanted().get(name) != deadline.since:
            return
        self._deadline_scheduled(
            name=name,
            due_at=deadline.due_at,
            action=deadline.action,
            basis=deadline.basis,
            since=deadline.since,
            set_by=dict(deadline.set_by),
            timestamp=at,
        )

    def fire(self, name: str, now: datetime, breach: Breach, actor: Actor) -> bool:
        """Record the breach of a due deadline and carry out its action as ``actor`` (the
        scheduler); False (and nothing recorded) when the deadline is not open, not due, or its
        state is no longer current."""
        deadline = self.deadlines.get(name)
        if deadline is None or not deadline.is_open or not deadline.due_at < now:
            return False
        if not self.is_current(deadline):
            return False
        at = max(now, self.modified_on)
        self.record_decision(decision=breach.decision, timestamp=at)
        self._deadline_breached(
            name=name, due_at=deadline.due_at, fired_at=now, action=breach.outcome, timestamp=at
        )
        self._act_on_breach(deadline, breach, actor, at)
        return True

    # ---- mutators' helpers (called from each aggregate's @event methods) ------------------
    def _apply_scheduled(
        self,
        name: str,
        due_at: datetime,
        action: str,
        basis: str,
        since: datetime,
        set_by: dict[str, Any],
    ) -> None:
        self.deadlines[name] = Deadline(
            name=name, due_at=due_at, action=action, since=since, basis=basis, set_by=dict(set_by)
        )

    def _close_deadline(
        self, name: str, state: DeadlineState, at: datetime, outcome: str
    ) -> None:
        self.deadlines[name] = replace(
            self.deadlines[name], state=state, closed_at=at, outcome=outcome
        )

    def _apply_breached(self, name: str, action: str, at: datetime) -> None:
        self._close_deadline(name, DeadlineState.after_breach(action), at, action)

    def _apply_cancelled(self, name: str, reason: str, at: datetime) -> None:
        met = reason == DeadlineState.MET
        self._close_deadline(name, DeadlineState.MET if met else DeadlineState.CANCELLED, at,
                             reason)


def deadline_events(prefix: str) -> tuple[Any, Any, Any]:
    """The three deadline events of an aggregate, under its own topics (``prefix`` is the
    aggregate's TOPIC): assign them in the class body as
    ``_deadline_scheduled, _deadline_cancelled, _deadline_breached = deadline_events(TOPIC)``."""

    @event("DeadlineScheduled", topic=f"{prefix}.DeadlineScheduled")
    def _deadline_scheduled(
        self: Any,
        name: str,
        due_at: datetime,
        action: str,
        basis: str,
        since: datetime,
        set_by: dict[str, Any],
        timestamp: datetime,
    ) -> None:
        self._apply_scheduled(name, due_at, action, basis, since, set_by)

    @event("DeadlineCancelled", topic=f"{prefix}.DeadlineCancelled")
    def _deadline_cancelled(
        self: Any, name: str, reason: str, detail: str, timestamp: datetime
    ) -> None:
        self._apply_cancelled(name, reason, timestamp)

    @event("DeadlineBreached", topic=f"{prefix}.DeadlineBreached")
    def _deadline_breached(
        self: Any,
        name: str,
        due_at: datetime,
        fired_at: datetime,
        action: str,
        timestamp: datetime,
    ) -> None:
        self._apply_breached(name, action, timestamp)

    return _deadline_scheduled, _deadline_cancelled, _deadline_breached


def decision_event(prefix: str) -> Any:
    """The DecisionRecorded event of a case aggregate: ``record_decision = decision_event(…)``.

    Deadline bookkeeping decisions stay in the events (and in each deadline's ``set_by``) but
    not in the case's ``decisions`` list, which holds the decisions about the case itself."""

    @event("DecisionRecorded", topic=f"{prefix}.DecisionRecorded")
    def record_decision(self: Any, decision: PolicyDecision, timestamp: datetime) -> None:
        if not is_deadline_decision(decision):
            self.decisions.append(decision)

    return record_decision
