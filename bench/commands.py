"""Command handling on SQLite, one process: load, decide, save with the decision (SPEC §6).

Timed: a realistic mix of 18 commands per delivered order (returns with their refund, a
goodwill refund, a complaint), interleaved across orders, called on Services.

Baseline: a plain ``eventsourcing.application.Application`` on a SQLite file (same settings)
saving the same events: one save per command, the same aggregates per save, the same number of
events per aggregate and the same stored event sizes, through a simple Aggregate with two
``@event`` methods, without loading anything or deciding anything."""

from __future__ import annotations

import cProfile
import pstats
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from aftersales.bootstrap import open_app
from aftersales.settings import eventsourcing_env
from aftersales_core.application.services import Services
from aftersales_core.application.store import Store
from bench.context import Context
from bench.report import REPEATS, BenchResult, Figure, median, paired, progress
from bench.workload import command_mix, ingest_orders, with_staff
from dispatch.group_commit import run_together

TARGET_RATE = 1500.0
TARGET_RATIO = 0.5
GROUP = 100  # commands per group commit
GROUP_TARGET_RATE = 3000.0


@dataclass(frozen=True)
class StoredShape:
    """One stored event of a save: whose, which version, how many bytes of state."""

    originator_id: UUID | str
    version: int
    size: int


class RecordingStore(Store):
    """The store, remembering what each save stored (used untimed, as the warm-up)."""

    def __init__(self, env: dict[str, str]) -> None:
        super().__init__(env=env)
        self.saves: list[list[StoredShape]] = []

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        recordings = super().save(*objs, **kwargs)
        self.saves.append([
            StoredShape(r.notification.originator_id, r.notification.originator_version,
                        len(r.notification.state))
            for r in recordings
        ])  # fmt: skip
        return recordings


class Thing(Aggregate):
    """The bare aggregate of the baseline: created, then noted."""

    @event("Opened")
    def __init__(self, payload: str) -> None:
        self.payload = payload

    @event("Noted")
    def note(self, payload: str) -> None:
        self.payload = payload


class BareApp(Application):
    name = "bare"


def _overheads(app: BareApp) -> tuple[int, int]:
    """Stored bytes of an Opened and of a Noted event with an empty payload."""
    thing = Thing(payload="")
    thing.note(payload="")
    opened, noted = thing.collect_events()
    return (len(app.mapper.to_stored_event(opened).state),
            len(app.mapper.to_stored_event(noted).state))


def _run_commands(
    ctx: Context, orders: int, recording: bool
) -> tuple[float, int, int, Services]:
    """Ingest (untimed), then run the mix (timed); returns seconds, commands, events, app."""
    env = eventsourcing_env(f"sqlite:///{ctx.path('commands')}.sqlite")
    app = with_staff(open_app(env, store_class=RecordingStore if recording else Store))
    store = app.store
    commands = command_mix(app, ingest_orders(app, orders))
    if isinstance(store, RecordingStore):
        store.saves.clear()
    before = store.recorder.max_notification_id() or 0
    started = time.perf_counter()
    for command in commands:
        command()
    seconds = time.perf_counter() - started
    events = (store.recorder.max_notification_id() or 0) - before
    return seconds, len(commands), events, app


def _run_grouped(ctx: Context, orders: int, group: int) -> tuple[float, int, int, int]:
    """The same mix, ``group`` commands per transaction (group commit); returns seconds,
    commands, events and how many failed (none should)."""
    env = eventsourcing_env(f"sqlite:///{ctx.path('grouped')}.sqlite")
    app = with_staff(open_app(env))
    store = app.store
    commands = command_mix(app, ingest_orders(app, orders))
    before = store.recorder.max_notification_id() or 0
    failed = 0
    started = time.perf_counter()
    for start in range(0, len(commands), group):
        outcomes = run_together(store, commands[start:start + group])
        failed += sum(done.error is not None for done in outcomes)
    seconds = time.perf_counter() - started
    events = (store.recorder.max_notification_id() or 0) - before
    app.store.close()
    return seconds, len(commands), events, failed


def _run_bare(ctx: Context, saves: Sequence[Sequence[StoredShape]],
              group: int = 1) -> tuple[float, int]:
    """Replay the shape of the saves on a bare Application, ``group`` saves per transaction;
    returns seconds and events."""
    env = eventsourcing_env(f"sqlite:///{ctx.path(f'bare-{group}')}.sqlite")
    app = BareApp(env=env)
    opened_overhead, noted_overhead = _overheads(app)
    things: dict[UUID | str, Thing] = {}
    # Aggregates that existed before the timed commands (orders, customers) exist here too.
    for save in saves:
        for shape in save:
            if shape.version > 1 and shape.originator_id not in things:
                things[shape.originator_id] = Thing(payload="x" * 200)
    app.save(*things.values())
    plans: list[list[tuple[UUID | str, bool, str]]] = [
        [(s.originator_id, s.version == 1,
          "x" * max(0, s.size - (opened_overhead if s.version == 1 else noted_overhead)))
         for s in save]
        for save in saves
    ]  # fmt: skip
    events = sum(len(p) for p in plans)
    started = time.perf_counter()
    for start in range(0, len(plans), group):
        changed: dict[UUID | str, Thing] = {}
        for plan in plans[start:start + group]:
            for originator_id, opens, payload in plan:
                if opens:
                    thing = things[originator_id] = Thing(payload=payload)
                else:
                    thing = things[originator_id]
                    thing.note(payload=payload)
                changed[originator_id] = thing
        app.save(*changed.values())
    return time.perf_counter() - started, events


#: Pass-through frames that would fill the cumulative list without saying anything.
_WRAPPERS = ("bench/workload.py", "contextlib.py", "<built-in method builtins.next>")


def profile(ctx: Context, orders: int, top: int = 10) -> dict[str, list[dict[str, Any]]]:
    """cProfile of the timed part only (the commands): top functions by cumulative time and by
    own time, as shares of the commands' total."""
    env = eventsourcing_env(f"sqlite:///{ctx.path('profile')}.sqlite")
    app = with_staff(open_app(env))
    commands = command_mix(app, ingest_orders(app, orders))
    profiler = cProfile.Profile()
    profiler.enable()
    started = time.perf_counter()
    for command in commands:
        command()
    total = time.perf_counter() - started
    profiler.disable()
    entries: dict[Any, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    rows = []
    for (filename, line, function), (_, calls, own, cumulative, _) in entries.items():
        where = filename.split("site-packages/")[-1].split("lib/python3.11/")[-1]
        name = f"{where}:{line}({function})" if line else function
        if any(w in name for w in _WRAPPERS):
            continue
        rows.append({"function": name, "calls": calls, "cumulative_s": round(cumulative, 4),
                     "own_s": round(own, 4), "cumulative_pct": round(100 * cumulative / total, 1),
                     "own_pct": round(100 * own / total, 1)})
    return {
        "by_cumulative": sorted(rows, key=lambda r: -r["cumulative_s"])[:top],
        "by_own_time": sorted(rows, key=lambda r: -r["own_s"])[:top],
    }


def run(ctx: Context) -> BenchResult:
    orders = ctx.size(200, 15)
    bench = BenchResult("commands", params={"orders": orders, "repeats": REPEATS})
    progress(f"commands: warm-up and shape recording ({orders} orders)")
    _, count, _, recorded = _run_commands(ctx, orders, recording=True)
    assert isinstance(recorded.store, RecordingStore)
    saves: list[list[StoredShape]] = recorded.store.saves
    if len(saves) != count:
        bench.notes.append(f"{len(saves)} saves for {count} commands (expected one each)")
    _run_bare(ctx, saves)  # warm-up of the baseline
    rates, event_rates, per_command, bare_rates, bare_event_rates = [], [], [], [], []
    for repeat in range(REPEATS):
        seconds, count, events, _ = _run_commands(ctx, orders, recording=False)
        rates.append(count / seconds)
        event_rates.append(events / seconds)
        per_command.append(events / count)
        bare_seconds, bare_events = _run_bare(ctx, saves)
        bare_rates.append(len(saves) / bare_seconds)
        bare_event_rates.append(bare_events / bare_seconds)
        progress(f"commands: repeat {repeat + 1}/{REPEATS}: {count / seconds:,.0f} commands/s "
                 f"({events} events); bare saves {len(saves) / bare_seconds:,.0f} saves/s")
    grouped_rates, bare_grouped_rates, failures = [], [], 0
    for repeat in range(REPEATS):
        seconds, count, events, failed = _run_grouped(ctx, orders, GROUP)
        failures += failed
        grouped_rates.append(count / seconds)
        bare_seconds, _ = _run_bare(ctx, saves, GROUP)
        bare_grouped_rates.append(len(saves) / bare_seconds)
        progress(f"commands: group commit {repeat + 1}/{REPEATS}: {count / seconds:,.0f} "
                 f"commands/s; bare saves in groups of {GROUP} "
                 f"{len(saves) / bare_seconds:,.0f} saves/s")
    if failures:
        bench.notes.append(f"group commit: {failures} commands failed (expected none)")
    bench.repeats = {"commands_per_s": rates, "events_per_s": event_rates,
                     "bare_saves_per_s": bare_rates, "bare_events_per_s": bare_event_rates,
                     "grouped_commands_per_s": grouped_rates,
                     "bare_grouped_saves_per_s": bare_grouped_rates}
    rate, bare = median(rates), median(bare_rates)
    ratio = paired(rates, bare_rates)
    bench.params["commands"] = count
    bench.figures = [
        Figure("commands: handled (load, decide, save)", rate, "commands/s", bare,
               baseline_what="bare eventsourcing Application on SQLite saving the same events "
                             "(one save per command, same aggregates and event sizes), "
                             "as saves/s",
               target="≥ 1,500/s and ≥ 50 % of bare",
               met=rate >= TARGET_RATE and ratio >= TARGET_RATIO, paired_ratio=ratio),
        Figure("commands: events stored", median(event_rates), "events/s",
               median(bare_event_rates), target="—",
               paired_ratio=paired(event_rates, bare_event_rates)),
        Figure("commands: events per command", median(per_command), "events/cmd", target="—"),
        Figure(f"commands: group commit ({GROUP} per transaction)", median(grouped_rates),
               "commands/s", bare, baseline_what="the bare one-save-per-command baseline above",
               target="≥ 3,000/s and ≥ 200 % of bare one save per command",
               met=median(grouped_rates) >= GROUP_TARGET_RATE
               and paired(grouped_rates, bare_rates) >= 2.0,
               paired_ratio=paired(grouped_rates, bare_rates)),
        Figure(f"commands: group commit vs bare saves in groups of {GROUP}",
               median(grouped_rates), "commands/s", median(bare_grouped_rates),
               baseline_what=f"bare Application saving the same events, {GROUP} saves per "
                             "transaction", target="≥ 50 % of bare in the same groups",
               met=paired(grouped_rates, bare_grouped_rates) >= 0.5,
               paired_ratio=paired(grouped_rates, bare_grouped_rates)),
    ]
    if ctx.profile:
        progress("commands: profiling one more run (cProfile, timed part only)")
        found = profile(ctx, orders)
        bench.params["profile"] = found
        for key, label in (("by_cumulative", "cumulative_pct"), ("by_own_time", "own_pct")):
            bench.notes.append(f"cProfile {key.replace('_', ' ')} (share of the commands' time): "
                               + "; ".join(f"{row['function']} {row[label]}%"
                                           for row in found[key]))
    bench.notes.append(
        f"mix per order: RequestReturn, IssueReturnLabel, ReceiveReturn, InspectReturn, "
        f"ResolveReturn (opens a refund), IssueRefund, ConfirmRefundSettled, CloseReturn, "
        f"goodwill RequestRefund, IssueRefund, ConfirmRefundSettled, FileComplaint, "
        f"AcknowledgeComplaint, AddComplaintMessage, ProposeResolution, RespondToProposal, "
        f"ResolveComplaint, CloseComplaint; {orders} orders interleaved, {count} commands")
    return bench
