"""The garbage collector's settings for the product's processes (every ``aftersales`` command:
the workers, ``serve``, ``submit``, ``ingest``, ``projections rebuild`` and ``catch-up``).

Python collects its youngest generation every 700 allocations by default. A process that
decodes, folds and encodes thousands of events a second allocates millions of short-lived,
acyclic objects (events, dicts, datetimes) that reference counting frees at once, and the
frequent collections (which also scan everything start-up loaded: modules, schemas, the
policy registry) cost it about a tenth of its CPU (``make bench``, issue 15). Here what
start-up loaded is moved out of the collector's sight (``gc.freeze``), and the young generation
is collected every 20,000 allocations: reference cycles are still collected, a little later,
and at most that many more objects wait for it."""

from __future__ import annotations

import gc

YOUNG = 20_000  # allocations between collections of the youngest generation
OLDER = 10  # collections of a generation between collections of the next


def tune_collector() -> None:
    gc.freeze()
    gc.set_threshold(YOUNG, OLDER, OLDER)
