"""What every case state machine checks, whatever the aggregate: refused commands change nothing,
accepted ones append consecutive events, every status change is in the written-down ALLOWED set,
terminal states accept nothing, time never runs backwards, and replay rebuilds the same case."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Any, ClassVar

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from aftersales_core.errors import DomainError
from tests.unit.domain.builders import T0, replay, snapshot

MACHINE_SETTINGS = settings(max_examples=100, stateful_step_count=40, deadline=None)

offsets = st.sampled_from([0, 60, -300, 480, 330, 545]).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


class CaseMachine(RuleBasedStateMachine):
    """Subclasses set ``STATUS``, ``ALLOWED`` and ``TERMINAL`` and create ``self.case``."""

    STATUS: ClassVar[type[StrEnum]]
    ALLOWED: ClassVar[frozenset[tuple[Any, Any]]]
    TERMINAL: ClassVar[frozenset[Any]]

    def __init__(self) -> None:
        super().__init__()
        self.now: datetime = T0
        self.case: Any = None
        self.events: list[Any] = []
        self.transitions: list[tuple[Any, Any]] = []
        self.last_error: DomainError | None = None
        self.last_modified: datetime = T0

    # ---- driving -----------------------------------------------------------------------------
    def start(self, case: Any) -> None:
        self.case = case
        self.events = list(case.collect_events())
        assert len(self.events) == 1

    def attempt(self, action: Callable[[], object]) -> bool:
        """Run one command; a refusal must leave the case exactly as it was."""
        before = snapshot(self.case)
        status = self.case.status
        self.last_error = None
        try:
            action()
        except DomainError as error:
            self.last_error = error
            assert self.case == before, "a refused command changed the case"
            assert self.case.version == before.version
            assert self.case.status == status
            assert not self.case.pending_events
            return False
        assert status not in self.TERMINAL, f"{status} accepted a command"
        new = list(self.case.collect_events())
        assert new, "an accepted command recorded no event"
        assert [e.originator_version for e in new] == list(
            range(before.version + 1, self.case.version + 1)
        )
        self.events.extend(new)
        if self.case.status != status:
            transition = (status, self.case.status)
            assert transition in self.ALLOWED, f"transition {transition} is not allowed"
            self.transitions.append(transition)
        return True

    def in_the_past(self) -> datetime:
        return self.case.modified_on - timedelta(seconds=1)

    @rule(minutes=st.integers(min_value=0, max_value=3 * 24 * 60), tz=offsets)
    def time_passes(self, minutes: int, tz: timezone) -> None:
        self.now = (self.now + timedelta(minutes=minutes)).astimezone(tz)

    # ---- invariants ------------------------------------------------------------------------------
    @invariant()
    def status_is_one_of_the_declared_statuses(self) -> None:
        if self.case is not None:
            assert isinstance(self.case.status, self.STATUS)

    @invariant()
    def business_time_never_runs_backwards(self) -> None:
        if self.case is not None:
            assert self.case.modified_on >= self.last_modified
            self.last_modified = self.case.modified_on

    @invariant()
    def replaying_the_events_rebuilds_an_equal_case(self) -> None:
        if self.case is not None:
            assert self.case.version == len(self.events)
            assert replay(self.events) == self.case


Command = Callable[[Any, datetime], object]


def explore(
    start: Any, commands: dict[str, Command], key: Callable[[Any], Hashable]
) -> set[tuple[Any, Any]]:
    """Every status change reachable from ``start`` by the given commands, breadth first.

    Cases are told apart by ``key`` (status plus whatever flag changes what is allowed next);
    each command runs on a copy, an hour after the case's last change.
    """
    transitions: set[tuple[Any, Any]] = set()
    seen = {key(start)}
    queue = [start]
    while queue:
        case = queue.pop(0)
        for command in commands.values():
            moved = snapshot(case)
            try:
                command(moved, moved.modified_on + timedelta(hours=1))
            except DomainError:
                continue
            if moved.status != case.status:
                transitions.add((case.status, moved.status))
            if key(moved) not in seen:
                seen.add(key(moved))
                queue.append(moved)
    return transitions
