"""Running random sequences of commands and scheduler firings against one case, and judging the
deadlines it recorded against what the commands alone say should have happened."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import hypothesis

from aftersales.bootstrap import open_app
from aftersales_core.application.services import Services
from aftersales_core.errors import DomainError
from tests.factories import caller

MET, CANCELLED = "met", "cancelled"


def memory_app() -> Services:
    """The services over the library's in-memory store (a fast, pure run of the application)."""
    return open_app({"PERSISTENCE_MODULE": "eventsourcing.popo"})


@dataclass
class Log:
    """What happened, in order: (what, when). Refused commands are not in it."""

    entries: list[tuple[str, datetime]] = field(default_factory=list)
    fired: list[tuple[str, str, datetime]] = field(default_factory=list)  # name, action, at

    def add(self, what: str, at: datetime) -> None:
        self.entries.append((what, at))


def run(
    app: Services,
    case_id: UUID,
    log: Log,
    action: str,
    at: datetime,
    commands: dict[str, Callable[[datetime], Any]],
) -> None:
    """Fire (twice: the second must change nothing) or run one command, logging successes."""
    if action == "fire":
        fired = app.deadlines.fire(caller(app, "system.scheduler"), case_id, at)
        version = app.store.repository.get(case_id).version
        assert app.deadlines.fire(caller(app, "system.scheduler"), case_id, at) == []
        assert app.store.repository.get(case_id).version == version
        for item in fired:
            log.fired.append((item.name, item.action, at))
            log.add(f"fired:{item.name}:{item.action}", at)
        return
    try:
        commands[action](at)
    except DomainError:
        return
    log.add(action, at)


@dataclass
class Recorded:
    """A deadline as its events tell it: scheduled, then closed once (or still open)."""

    name: str
    since: datetime
    due: datetime
    closed_by: str | None = None  # DeadlineCancelled / DeadlineBreached
    closed_at: datetime | None = None
    reason: str | None = None  # the cancel reason, or the breach's action


def recorded_deadlines(app: Services, case_id: UUID) -> list[Recorded]:
    found: list[Recorded] = []
    for event in app.store.events.get(case_id):
        kind = type(event).__name__
        data: Any = event
        if kind == "DeadlineScheduled":
            found.append(Recorded(data.name, data.since, data.due_at))
        elif kind in ("DeadlineCancelled", "DeadlineBreached"):
            same = [r for r in found if r.name == data.name and r.closed_by is None]
            assert len(same) == 1, f"{kind} of {data.name} closes {len(same)} open deadlines"
            same[0].closed_by, same[0].closed_at = kind, event.timestamp
            same[0].reason = data.reason if kind == "DeadlineCancelled" else data.action
            if kind == "DeadlineBreached":
                assert data.fired_at > data.due_at, "a deadline is only breached after it"
    return found


def first_after(log: Log, since: datetime, leaving: dict[str, str]) -> tuple[str, datetime] | None:
    """The first logged thing after ``since`` that leaves the state: (met|cancelled, when)."""
    for what, at in log.entries:
        if at > since and what in leaving:
            return leaving[what], at
    return None


def judge(deadline: Recorded, left: tuple[str, datetime] | None, end: datetime) -> None:
    """A deadline is breached iff its state was still current at its due time; otherwise it is
    closed, when the state was left, as met or cancelled."""
    hypothesis.event(f"{deadline.name}: {deadline.closed_by or 'open'} {deadline.reason or ''}")
    if left is not None and left[1] <= deadline.due:
        assert deadline.closed_by == "DeadlineCancelled", deadline
        assert (deadline.reason, deadline.closed_at) == (left[0], left[1]), deadline
        return
    if deadline.due >= end:
        assert deadline.closed_by is None, deadline
        return
    assert deadline.closed_by == "DeadlineBreached", deadline
    assert deadline.closed_at is not None
    if left is not None:
        assert deadline.closed_at <= left[1], "breached no later than the state was left"
    if deadline.reason == "late":
        assert left is not None
        assert deadline.closed_at == left[1], "a late breach is recorded when the state is left"
