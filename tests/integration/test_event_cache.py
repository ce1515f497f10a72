"""The event cache gives exactly the aggregates a fresh read of the store gives."""

from __future__ import annotations

from uuid import UUID

from aftersales_core.application.services import Services
from tests.integration.test_projections import busy_day


def test_cached_loads_equal_fresh_reads_of_the_store(app: Services) -> None:
    busy_day(app)  # many commands: the cache holds events read and events just saved
    ids = {n.originator_id for n in app.store.recorder.select_notifications(1, 100_000)}
    assert ids
    for aggregate_id in ids:
        fresh = app.store.repository.get(UUID(str(aggregate_id)))
        cached = app.store.load(type(fresh), UUID(str(aggregate_id)))
        assert cached == fresh
        again = app.store.load(type(fresh), UUID(str(aggregate_id)))
        assert again == fresh and again is not cached  # every load folds a new aggregate
