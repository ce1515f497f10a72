"""What sealing personal data costs (issue 14): command handling on SQLite, one process, with
every ``PersonalData`` sealed (AES-256-GCM under the customer's data key, looked up in the key
table; a new key wrapped by the KEK on a customer's first datum) against the same run with
personal data stored in clear.

Timed: the mix of ``commands`` (18 commands per order; the return's note and evidence, the
complaint's description and messages are personal data), on fresh stores. Baseline: the same
mix in the same run, the store's mapper swapped for one that writes ``PersonalData`` as plain
JSON (the format before sealing; the bench is the only place it is still written). Both sides
run back to back in each repeat; the ratio shown is the median of the per-repeat ratios.
Also measured: reading (decoding) every stored event again, sealed against clear."""

from __future__ import annotations

import time
from typing import Any

from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    Transcoding,
    UUIDAsHex,
)

from aftersales.bootstrap import open_app
from aftersales.settings import eventsourcing_env
from aftersales_core.application.services import Services
from aftersales_core.application.transcodings import TRANSCODINGS
from aftersales_core.personal import PersonalData
from bench.context import Context
from bench.report import REPEATS, BenchResult, Figure, median, paired, progress
from bench.workload import command_mix, ingest_orders, with_staff
from consumers.case_events import RelayableMapper


class PersonalDataInClear(Transcoding):
    """The format before sealing, for the baseline only."""

    type = PersonalData
    name = "personal_data"

    def encode(self, obj: PersonalData) -> dict[str, str]:
        return {"subject": obj.subject, "value": obj.value}

    def decode(self, data: dict[str, str]) -> PersonalData:
        return PersonalData(data["subject"], data["value"])


def in_clear(app: Services) -> None:
    """Swap the store's sealing mapper for one writing personal data in clear (baseline)."""
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), *TRANSCODINGS,
                        PersonalDataInClear()):
        transcoder.register(transcoding)
    current = app.store.mapper
    limit = current.max_bytes if isinstance(current, RelayableMapper) else 1_000_000
    app.store.mapper = app.store.events.mapper = RelayableMapper(Mapper(transcoder), limit)


def _run(ctx: Context, orders: int, sealed: bool) -> tuple[float, int, int, int, float]:
    """Seconds for the mix, commands, events, events holding personal data, and seconds to
    decode every stored event again."""
    app = with_staff(open_app(eventsourcing_env(
        f"sqlite:///{ctx.path('sealed' if sealed else 'clear')}.sqlite")))
    try:
        if not sealed:
            in_clear(app)
        commands = command_mix(app, ingest_orders(app, orders))
        before = app.store.recorder.max_notification_id() or 0
        started = time.perf_counter()
        for command in commands:
            command()
        seconds = time.perf_counter() - started
        stored = app.store.recorder.select_notifications(before + 1, 10**9)
        personal = sum(b"personal_data" in n.state for n in stored)
        mapper: Any = app.store.mapper
        started = time.perf_counter()
        for notification in stored:
            mapper.to_domain_event(notification)
        decode = time.perf_counter() - started
        return seconds, len(commands), len(stored), personal, decode
    finally:
        app.close()


def run(ctx: Context) -> BenchResult:
    orders = ctx.size(200, 15)
    bench = BenchResult("encryption", params={"orders": orders, "repeats": REPEATS})
    progress(f"encryption: warm-up ({orders} orders, sealed and in clear)")
    _run(ctx, orders, sealed=True)
    _run(ctx, orders, sealed=False)
    sealed_rates, clear_rates, sealed_reads, clear_reads = [], [], [], []
    shares: list[float] = []
    count = 0
    for repeat in range(REPEATS):
        seconds, count, events, personal, decode = _run(ctx, orders, sealed=True)
        clear_seconds, _, clear_events, _, clear_decode = _run(ctx, orders, sealed=False)
        sealed_rates.append(count / seconds)
        clear_rates.append(count / clear_seconds)
        sealed_reads.append(events / decode)
        clear_reads.append(clear_events / clear_decode)
        shares.append(personal / events)
        progress(f"encryption: repeat {repeat + 1}/{REPEATS}: sealed {count / seconds:,.0f} "
                 f"commands/s, in clear {count / clear_seconds:,.0f} commands/s "
                 f"({personal} of {events} events hold personal data)")
    bench.repeats = {"sealed_commands_per_s": sealed_rates, "clear_commands_per_s": clear_rates,
                     "sealed_decoded_per_s": sealed_reads, "clear_decoded_per_s": clear_reads}
    bench.params["commands"] = count
    bench.figures = [
        Figure("encryption: commands with personal data sealed", median(sealed_rates),
               "commands/s", median(clear_rates),
               baseline_what="the same commands in the same run with personal data stored "
                             "in clear", target="—",
               paired_ratio=paired(sealed_rates, clear_rates)),
        Figure("encryption: stored events decoded again (sealed opened)", median(sealed_reads),
               "events/s", median(clear_reads), target="—",
               paired_ratio=paired(sealed_reads, clear_reads)),
        Figure("encryption: share of events holding personal data", 100 * median(shares), "%",
               target="—"),
    ]
    bench.notes.append("sealing looks up the customer's data key in personal_data_keys for "
                       "every event holding personal data (no key is cached between events, "
                       "so an erasure elsewhere counts at once); opening does the same")
    return bench
