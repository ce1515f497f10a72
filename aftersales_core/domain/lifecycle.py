"""A case's standing (its status, its latest escalation, whether it was answered) as a fold
over its events: the one transition table each case aggregate and the `cases` projection
fold with, so the queue can never drift from the case.

Each case aggregate declares its ``LIFECYCLE``: every event it has, by name, with the move it
makes (to a status, a status that depends on the event's data or the standing before, or none).
The aggregate's events derive from ``CaseEvent``, which applies the move after the event's own
mutator; the projection applies the same move to the row (projections/cases.py). An event
missing from the table is an error the moment it happens, in both.

The moves read only what every stored version of an event carries (``level``, ``accepted``,
``repaired``, ``direction``), so events stored long ago fold the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from eventsourcing.domain import Aggregate

Data = Mapping[str, Any]


@dataclass(frozen=True)
class Standing:
    """What the `cases` queue shows of a case besides its facts."""

    status: str
    escalation: str | None = None  # the level of the latest escalation
    answered: bool = False  # complaints: the customer has had a first response


Move = Callable[[Standing, Data], Standing]


@dataclass(frozen=True)
class Blind:
    """A move that does not read the standing before it: to a fixed status (or none), taking
    the event's ``level`` as the latest escalation or not. A read model can apply it without
    reading its row first."""

    status: StrEnum | None = None
    escalates: bool = False

    def __call__(self, standing: Standing, data: Data) -> Standing:
        return Standing(standing.status if self.status is None else self.status,
                        data["level"] if self.escalates else standing.escalation,
                        standing.answered)


def to(status: StrEnum) -> Move:
    """The event moves the case to ``status``."""
    return Blind(status)


stay: Move = Blind()  # the event leaves the status as it is (a decision, a deadline, a fact)


def escalated(status: StrEnum | None = None) -> Move:
    """An escalation: its level is the latest; a complaint also moves to ``escalated``."""
    return Blind(status, escalates=True)


class UnknownEventError(LookupError):
    """An event the case's lifecycle does not list (add it to the table)."""


@dataclass(frozen=True)
class Lifecycle:
    kind: str
    statuses: type[StrEnum]
    opening: str  # the event that opens a case
    moves: Mapping[str, Move]  # event name -> move; every event of the aggregate

    def opened(self, data: Data) -> Standing:
        """The standing of a case its opening event just opened."""
        return self.after(None, self.opening, data)

    def after(self, before: Standing | None, event: str, data: Data) -> Standing:
        """The standing after the named event (``before`` is None for the opening one)."""
        move = self.move(event)
        if before is None:
            if event != self.opening:
                raise UnknownEventError(f"a {self.kind} opens with {self.opening}, not {event}")
            before = Standing(status="")
        return move(before, data)

    def move(self, event: str) -> Move:
        try:
            return self.moves[event]
        except KeyError:
            raise UnknownEventError(f"{self.kind} event {event!r} is not in the {self.kind} "
                                    "lifecycle") from None

    def status(self, standing: Standing) -> StrEnum:
        return self.statuses(standing.status)


BLIND: Any = object()  # what a blind move needs of the case before the event: nothing


class CaseEvent(Aggregate.Event):
    """The base event of a case aggregate: after the event's own mutator, the case's status
    follows its lifecycle (mutators never set it themselves). The case hears of a status it
    entered (``entered``) only when the status changed: an escalation, a decision or a fact that
    leaves it where it was enters nothing."""

    def mutate(self, aggregate: Any) -> Any:
        before = self.standing_before(aggregate)
        return self.follow_lifecycle(before, super().mutate(aggregate))

    def standing_before(self, aggregate: Any) -> Any:
        """What the move needs of the case before the event's mutator runs: its standing,
        None before the opening event, or ``BLIND`` for a move that reads no standing (the
        status it leaves is its own, or the case's unchanged one)."""
        if aggregate is None:
            return None
        move = type(aggregate).LIFECYCLE.moves.get(type(self).__name__)
        return BLIND if type(move) is Blind else aggregate.standing

    def follow_lifecycle(self, before: Any, aggregate: Any) -> Any:
        """The case's status after the event (its mutator has run)."""
        lifecycle: Lifecycle = type(aggregate).LIFECYCLE
        name = type(self).__name__
        if before is BLIND:  # the status before is the case's own still (mutators never set it)
            move = lifecycle.move(name)
            assert type(move) is Blind
            changed = move.status is not None and move.status != aggregate.status
            if move.status is not None:
                aggregate.status = lifecycle.statuses(move.status)
        else:
            after = lifecycle.after(before, name, vars(self))
            aggregate.status = lifecycle.status(after)
            changed = before is None or after.status != before.status
        if changed:
            aggregate.entered(aggregate.status)
        return aggregate
