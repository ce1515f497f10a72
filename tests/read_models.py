"""A store's events applied to read models both ways the product does: by a runner's batch
(``apply_batch``) and by a rebuild, for tests that want the two to agree."""

from __future__ import annotations

from pathlib import Path

from aftersales.bootstrap import store_reader
from aftersales_core.application.services import Services
from projections.apply import Delivery, apply_batch, ensure_schema
from projections.catalog import all_projections
from projections.db import ReadDatabase
from projections.rebuild import rebuild


def applied_by_a_runner(app: Services, db: ReadDatabase) -> None:
    """Every published event of the store in one runner batch (one partition, in store order)."""
    projections = all_projections()
    ensure_schema(db, projections)
    stored = store_reader(app)(0, 1_000_000)
    apply_batch(db, projections, [Delivery("case-events", 0, n, dict(e))
                                  for n, e in enumerate(stored)])


def rebuilt_from(app: Services, folder: Path, names: list[str]) -> ReadDatabase:
    """The named projections rebuilt from the store into a fresh SQLite file in ``folder``
    (the caller closes it)."""
    db = ReadDatabase(f"sqlite:///{folder / 'rebuilt.sqlite'}")
    rebuild(db, names, store_reader(app))
    return db
