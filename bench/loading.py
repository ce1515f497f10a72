"""How the store loads aggregates (issue 12): the project's event cache against the library's
own aggregate cache with fast-forward, on the command mix of `bench/commands.py` (SQLite, one
process; every command loads its case, its order and its principal, decides and saves).

* ``event cache`` (what the store uses): recently read events per aggregate are kept; each load
  asks the store for newer events (``gt`` the cached version) and folds every event afresh.
* ``library cache``: ``AGGREGATE_CACHE_MAXSIZE`` with ``AGGREGATE_CACHE_FASTFORWARD`` (another
  process may write) and ``DEEPCOPY_FROM_AGGREGATE_CACHE`` (a command that fails half-way
  must not leave its changes in the cache): the cached aggregate is fast-forwarded with the
  newer events and deep-copied for the command.
* Baseline ``no cache``: every load reads and folds all of the aggregate's events.

The faster of the two caches is the store's one way to load (aftersales_core/application/
store.py); the other stays here only, to be measured again."""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from aftersales.bootstrap import open_app
from aftersales.settings import eventsourcing_env
from aftersales_core.application.store import Store, fold
from bench.context import Context
from bench.report import REPEATS, BenchResult, Figure, median, paired, progress
from bench.workload import command_mix, ingest_orders, with_staff


class _NoEvents:
    """An event cache that keeps nothing."""

    def events(self, store: Any, recorder: Any, aggregate_id: UUID, current: bool = False
               ) -> tuple[Any, ...]:
        return tuple(store.get(aggregate_id))

    def catch_up(self, recorder: Any) -> None:
        pass

    def saved(self, new_events: Any, positions: Any = None) -> None:
        pass

    def forget(self, aggregate_id: UUID) -> None:
        pass


class UncachedStore(Store):
    def __init__(self, env: dict[str, str]) -> None:
        super().__init__(env)
        self.cache = _NoEvents()  # type: ignore[assignment]


class LibraryCacheStore(UncachedStore):
    """Loads through the library's repository: cached aggregates, fast-forwarded, deep-copied."""

    def __init__(self, env: dict[str, str]) -> None:
        super().__init__({**env, "AGGREGATE_CACHE_MAXSIZE": "4096",
                          "AGGREGATE_CACHE_FASTFORWARD": "y",
                          "DEEPCOPY_FROM_AGGREGATE_CACHE": "y"})

    def load_any(self, aggregate_id: UUID) -> Aggregate | None:
        try:
            return self.repository.get(aggregate_id, projector_func=fold)
        except AggregateNotFoundError:
            return None


STORES: dict[str, type[Store]] = {
    "event cache": Store, "library cache": LibraryCacheStore, "no cache": UncachedStore}


LOAD_PASSES = 3


def _rates(ctx: Context, kind: type[Store], orders: int) -> tuple[float, float]:
    """On a fresh SQLite store of this kind: commands per second of the timed mix, then loads
    per second of every aggregate the store holds, loaded again and again (a loaded case that
    nobody changed meanwhile: a cache hit and one query for newer events; no disk writes)."""
    app = with_staff(open_app(eventsourcing_env(f"sqlite:///{ctx.path('loading')}.sqlite"),
                              store_class=kind))
    store = app.store
    commands = command_mix(app, ingest_orders(app, orders))
    started = time.perf_counter()
    for command in commands:
        command()
    command_seconds = time.perf_counter() - started
    stored = store.recorder.select_notifications(1, store.recorder.max_notification_id() or 0)
    ids = list(dict.fromkeys(UUID(str(n.originator_id)) for n in stored))
    started = time.perf_counter()
    for _ in range(LOAD_PASSES):
        for aggregate_id in ids:
            store.load_any(aggregate_id)
    load_seconds = time.perf_counter() - started
    app.close()
    return len(commands) / command_seconds, LOAD_PASSES * len(ids) / load_seconds


def run(ctx: Context) -> BenchResult:
    orders = ctx.size(60, 10)
    bench = BenchResult("loading", params={"orders": orders, "repeats": REPEATS})
    rates: dict[str, list[float]] = {name: [] for name in STORES}
    loads: dict[str, list[float]] = {name: [] for name in STORES}
    for kind in STORES.values():  # warm-up, untimed
        _rates(ctx, kind, max(3, orders // 10))
    names = list(STORES)
    for repeat in range(REPEATS):
        # interleaved, each first in turn, so drift and position hit all three alike
        for name in names[repeat % len(names):] + names[:repeat % len(names)]:
            command_rate, load_rate = _rates(ctx, STORES[name], orders)
            rates[name].append(command_rate)
            loads[name].append(load_rate)
        progress("loading: repeat {}/{}: {}".format(repeat + 1, REPEATS, "; ".join(
            f"{name} {rates[name][-1]:,.0f} commands/s, {loads[name][-1]:,.0f} loads/s"
            for name in STORES)))
    bench.repeats = {f"{name.replace(' ', '_')}_{what}_per_s": values[name]
                     for name in STORES for what, values in (("commands", rates),
                                                             ("loads", loads))}
    baseline = "no cache: every load reads and folds every event"
    bench.figures = []
    for name in ("event cache", "library cache"):
        bench.figures += [
            Figure(f"loading: commands with the {name}", median(rates[name]), "commands/s",
                   median(rates["no cache"]), baseline_what=baseline, target="—",
                   paired_ratio=paired(rates[name], rates["no cache"])),
            Figure(f"loading: loads with the {name}", median(loads[name]), "loads/s",
                   median(loads["no cache"]), baseline_what=baseline, target="—",
                   paired_ratio=paired(loads[name], loads["no cache"])),
        ]
    ratio = paired(loads["event cache"], loads["library cache"])
    bench.notes.append(f"loads: the event cache is {ratio:.2f}x the library cache's speed "
                       f"(paired); the store loads through the event cache")
    return bench
