"""One command's changes, saved in one transaction after the steps every save runs.

A service loads, decides and changes aggregates, then commits them here. Before anything is
written the unit of work runs its named steps over the batch, in order (today one:
``deadlines``, the bookkeeping of domain/deadlines.py), so no service has to remember them and no
save can skip them. Then every pending event of the batch is saved atomically, or none is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from eventsourcing.domain import Aggregate

from aftersales_core.application.store import Effect, Store


class SaveStep(Protocol):
    """A step every save runs over its batch before writing (it may add events)."""

    name: str

    def before_save(self, batch: tuple[Aggregate, ...]) -> None: ...


class UnitOfWork:
    def __init__(self, store: Store, steps: Sequence[SaveStep] = ()) -> None:
        self.store = store
        self.steps = tuple(steps)

    @property
    def step_names(self) -> tuple[str, ...]:
        return tuple(step.name for step in self.steps)

    def commit(self, *aggregates: Aggregate, effects: Sequence[Effect] = ()) -> None:
        """Run the steps, then save; ``effects`` run in the save's transaction."""
        batch = tuple(aggregates)
        for step in self.steps:
            step.before_save(batch)
        self.store.save_atomically(*batch, effects=effects)
