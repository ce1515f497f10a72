"""The workers' metrics as Prometheus reads them (aftersales/observability.py): the values of
an `outcome` label are parts of one whole, so a sum over outcome counts nothing twice."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from aftersales.observability import WorkerMetrics
from consumers.projection_runner import RunnerStats


def scraped(workers: dict[str, Any]) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """{metric: {labels: value}} as one scrape collects them (no store: no lags)."""
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in WorkerMetrics(None, workers, lambda _: True, "sqlite://").collect():
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = \
                sample.value
    return found


def test_the_projection_runners_outcomes_are_parts_and_its_totals_metrics_of_their_own() -> None:
    """outcome="events" (every record) sat next to applied (per projection) and dead_lettered
    (per record): summing over outcome counted each record twice or more."""
    stats = RunnerStats(events=10, applied=25, failed=3, dead_lettered=2, skipped_bad=1)
    metrics = scraped({"projections": SimpleNamespace(stats=stats)})
    assert metrics["aftersales_projection_records_total"] == {(): 10.0}
    assert metrics["aftersales_projection_applications_total"] == {
        (("outcome", "applied"),): 25.0, (("outcome", "failed"),): 3.0}
    assert metrics["aftersales_projection_dead_letters_total"] == {(): 2.0}
    assert "aftersales_projection_events_total" not in metrics
