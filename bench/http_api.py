"""The service API over real HTTP: `aftersales serve` (one worker) on a SQLite store, driven by
a load generator in this process (bench/http_client.py: asyncio, keep-alive connections,
requests prepared as bytes in advance).

Untimed: delivered orders ingested, the bench's staff and every buyer given an API key, the
server started and ready.

Timed, closed loop at 1, 16 and 64 concurrent clients: each client works through its own
orders (both orders of a buyer go to one client, so clients never touch one aggregate), each
order's 18 commands of the bench mix (bench/workload.py) in order, each as the principal who
would send it, with its API key; a client sends its next command when the previous one is
answered. Counted: commands answered 2xx per second of the run (anything else is counted and
named in the notes).

Baselines measured in the same run:

* the same server's **trivial endpoint** (``GET /healthz``: no authentication, no store) at the
  same concurrency, the ceiling of HTTP and the load generator on this machine;
* the **bare one-save-per-command** baseline of the commands benchmark: a plain
  ``eventsourcing`` Application on SQLite saving the same events (one save per command, the
  same aggregates and event sizes), without loading or deciding anything.

Latency at a steady 200 requests/s (open loop): goodwill ``RequestRefund`` commands sent each at
its own slot (start + i/200 s) whether or not earlier ones were answered; a command's latency
runs from its slot to its answer, so a server that falls behind shows it (no coordinated
omission). A warm-up second is not counted."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from aftersales.brokers.process import free_port
from aftersales_core.application.principals import principal_id_of
from aftersales_core.application.services import Services
from api.key_admin import KeyAdmin
from bench.commands import RecordingStore, _run_bare, _run_commands
from bench.context import Context
from bench.http_client import Answer, Connection, get, post_json
from bench.messages import DELIVERED_AFTER, customer_of
from bench.report import BenchResult, Figure, percentile, progress
from bench.workload import (
    ADMIN,
    STAFF,
    Command,
    _script,
    as_principal,
    ingest_orders,
    new_app,
)
from server.keys import ApiKeys

CONCURRENCY = (1, 16, 64)
RATE = 200.0  # requests per second of the latency run
WARM_UP_S = 1.0
REFUNDS_PER_ORDER = 5  # goodwill refunds of 5.00 on an order of 124.00
READY_S = 120.0
RECENT = timedelta(days=2) + DELIVERED_AFTER  # orders placed this long before the run


PACED_CONNECTIONS = 64  # connections of the open-loop run; a request waits for a free one
TRIVIAL = get("/healthz")


@dataclass
class Tally:
    done: int = 0
    failed: dict[str, int] = field(default_factory=dict)

    def count(self, answer: Answer) -> None:
        if answer.ok:
            self.done += 1
        else:
            kind = f"{answer.status} {answer.problem_type()}".strip()
            self.failed[kind] = self.failed.get(kind, 0) + 1


def _plain(value: Any) -> Any:
    if isinstance(value, (UUID, Decimal)):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _body(command: Command) -> dict[str, Any]:
    """A command as its sender posts it: a customer names the key of the case it opens, and no
    sender dates it (the service API dates an act when it arrives: dispatch/timing.py)."""
    body = {"command": command.name, **_plain(command.kwargs)}
    del body["at"]
    if command.idempotency_key is not None:
        del body["case_id"]
        body["idempotency_key"] = command.idempotency_key
    return body


class Setup:
    """The store, its orders, the principals' keys, and the server over them."""

    def __init__(self, ctx: Context, orders: int) -> None:
        self.ctx = ctx
        self.store_path = Path(f"{ctx.path('http-events')}.sqlite")
        self.app: Services = new_app(self.store_path)
        # delivered two days before the run: every return window is open when the commands,
        # dated as they arrive, are sent
        self.order_ids = ingest_orders(self.app, orders, start=datetime.now(UTC) - RECENT)
        self.keys: dict[str, str] = {}
        admin = KeyAdmin(self.app, ApiKeys(self.app.store.recorder))
        names = [*STAFF, *sorted({f"customer-{customer_of(i)}" for i in range(orders)})]
        for name in names:
            self.keys[name] = admin.issue(as_principal(ADMIN), name, datetime.now(UTC)).token
        self.names = {principal_id_of(name): name for name in names}
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    def script(self, index: int) -> list[bytes]:
        """Order ``index``'s 18 commands, as requests with their senders' keys."""
        commands = _script(self.app, self.order_ids[index], customer_of(index))
        return [post_json("/v1/commands", _body(c), self.keys[self.names[c.caller.principal_id]])
                for c in commands]

    def refund(self, index: int, number: int) -> bytes:
        return post_json("/v1/commands", {
            "command": "RequestRefund", "order_id": self.order_ids[index], "source": "goodwill",
            "reason": f"bench {number}", "amount": "5.00"}, self.keys["agent-3"])

    def start(self) -> None:
        self.port = port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
        env.update(AFTERSALES_DATABASE_URL=f"sqlite:///{self.store_path}",
                   AFTERSALES_READ_DATABASE_URL=f"sqlite:///{self.ctx.path('http-read')}.sqlite",
                   AFTERSALES_API_RATE="1000000", AFTERSALES_API_BURST="1000000")
        log = Path(f"{self.ctx.path('http-serve')}.log")
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "aftersales", "serve", "--port", str(port),
                 "--log-level", "warning"], env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + READY_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited ({self.process.returncode}): "
                                   f"{log.read_text()[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the server was not ready within {READY_S:.0f} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.app.close()


async def _closed_loop(port: int, queues: Sequence[list[bytes]], seconds: float,
                       trivial: bool) -> tuple[float, Tally]:
    """Each queue is one client on its own connection sending its requests one after another
    until the queue is empty or ``seconds`` have passed; returns the elapsed time and what was
    answered."""
    tally = Tally()
    connections = [await Connection.open("127.0.0.1", port) for _ in queues]
    started = time.perf_counter()
    deadline = started + seconds

    async def run(connection: Connection, queue: list[bytes]) -> None:
        for request in queue:
            if time.perf_counter() >= deadline:
                return
            tally.count(await connection.send(TRIVIAL if trivial else request))

    try:
        await asyncio.gather(*(run(c, q) for c, q in zip(connections, queues, strict=True)))
        return time.perf_counter() - started, tally
    finally:
        for connection in connections:
            await connection.close()


async def _paced(port: int, requests: Sequence[bytes], rate: float
                 ) -> tuple[list[float], Tally, int]:
    """Send request i at start + i/rate (open loop) on the next free connection; latencies
    (ms) from the slot to the answer, so waiting for a connection counts."""
    tally = Tally()
    latencies: list[float] = []
    free: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(PACED_CONNECTIONS):
        free.put_nowait(await Connection.open("127.0.0.1", port))
    started = time.perf_counter()
    late = 0

    async def send(i: int, request: bytes) -> None:
        nonlocal late
        slot = started + i / rate
        wait = slot - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        elif wait < -1 / rate:
            late += 1
        connection = await free.get()
        try:
            tally.count(await connection.send(request))
        finally:
            free.put_nowait(connection)
        if i >= rate * WARM_UP_S:
            latencies.append((time.perf_counter() - slot) * 1000)

    await asyncio.gather(*(send(i, r) for i, r in enumerate(requests)))
    while not free.empty():
        await free.get_nowait().close()
    return latencies, tally, late


def _queues(setup: Setup, first: int, orders: int, clients: int) -> list[list[bytes]]:
    """Orders first .. first+orders-1 dealt to clients by buyer (two orders each)."""
    queues: list[list[bytes]] = [[] for _ in range(clients)]
    for index in range(first, first + orders):
        queues[(index // 2) % clients].extend(setup.script(index))
    return queues


def _failures(what: str, tally: Tally) -> list[str]:
    if not tally.failed:
        return []
    return [f"{what}: {sum(tally.failed.values())} answers were not 2xx: " + ", ".join(
        f"{n} of {kind}" for kind, n in sorted(tally.failed.items()))]


def run(ctx: Context) -> BenchResult:
    seconds = ctx.size(10, 2)
    per_run = ctx.size(256, 24)  # orders per concurrency: more than the clients get through
    paced_s = ctx.size(10, 3)
    paced = int(RATE * (paced_s + WARM_UP_S))
    paced_orders = -(-paced // REFUNDS_PER_ORDER)
    bench = BenchResult("http_api", params={
        "seconds_per_run": seconds, "concurrency": list(CONCURRENCY), "latency_rate": RATE,
        "latency_seconds": paced_s, "server_workers": 1})

    baseline_orders = ctx.size(100, 10)
    progress(f"http_api: bare baseline (the commands benchmark's, {baseline_orders} orders)")
    mix_seconds, mix_count, _, recorded = _run_commands(ctx, baseline_orders, recording=True)
    assert isinstance(recorded.store, RecordingStore)
    saves = recorded.store.saves
    _run_bare(ctx, saves)  # warm-up
    bare_seconds, _ = _run_bare(ctx, saves)
    bare = len(saves) / bare_seconds
    in_process = mix_count / mix_seconds

    total = per_run * len(CONCURRENCY) + paced_orders
    progress(f"http_api: ingesting {total} delivered orders and issuing keys (untimed)")
    setup = Setup(ctx, total)
    try:
        setup.start()
        progress(f"http_api: server ready on port {setup.port}")
        figures: list[Figure] = []
        rates: dict[str, list[float]] = {}
        for number, clients in enumerate(CONCURRENCY):
            queues = _queues(setup, number * per_run, per_run, clients)
            trivial_s, trivial = asyncio.run(_closed_loop(setup.port, queues, seconds, True))
            trivial_rate = trivial.done / trivial_s
            elapsed, tally = asyncio.run(_closed_loop(setup.port, queues, seconds, False))
            rate = tally.done / elapsed
            rates[f"commands_per_s_{clients}"] = [rate]
            rates[f"trivial_per_s_{clients}"] = [trivial_rate]
            progress(f"http_api: {clients} client(s): {rate:,.0f} commands/s; trivial "
                     f"endpoint {trivial_rate:,.0f} requests/s")
            figures += [
                Figure(f"http_api: commands, {clients} client(s)", rate, "commands/s", bare,
                       baseline_what="bare one-save-per-command saves/s (commands benchmark)",
                       target="—"),
                Figure(f"http_api: commands, {clients} client(s), vs GET /healthz", rate,
                       "commands/s", trivial_rate,
                       baseline_what="the same server's GET /healthz, same clients, "
                                     "requests/s", target="—"),
            ]
            bench.notes += _failures(f"{clients} client(s)", tally)
        first = len(CONCURRENCY) * per_run
        requests = [setup.refund(first + i % paced_orders, i // paced_orders)
                    for i in range(paced)]
        progress(f"http_api: {paced} RequestRefund at {RATE:.0f}/s (open loop)")
        latencies, tally, late = asyncio.run(_paced(setup.port, requests, RATE))
        rates["latency_ms"] = latencies
        figures += [
            Figure(f"http_api: latency at {RATE:.0f} requests/s, p50",
                   percentile(latencies, 50), "ms", higher_is_better=False, target="—"),
            Figure(f"http_api: latency at {RATE:.0f} requests/s, p99",
                   percentile(latencies, 99), "ms", higher_is_better=False, target="—"),
        ]
        bench.notes += _failures("latency run", tally)
        if late:
            bench.notes.append(f"latency run: {late} requests were sent more than one slot "
                               "late (the load generator fell behind)")
        bench.figures = figures
        bench.repeats = rates
        bench.notes.append(
            f"in-process reference: the same mix on Services without HTTP ran "
            f"{in_process:,.0f} commands/s in this run, one store transaction per command; "
            "the server commits the commands of concurrent requests together (GroupCommitter), "
            "and the load generator shares the machine's cores with it")
    finally:
        setup.stop()
    return bench
