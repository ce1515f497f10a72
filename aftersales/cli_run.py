"""`aftersales run` (the pipeline's workers) and `aftersales broker` (a local broker)."""

from __future__ import annotations

import logging
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from aftersales import exit_codes
from aftersales.errors import classify
from aftersales.output import console, errors, fail
from workers.collector import tune_collector

if TYPE_CHECKING:
    from aftersales.brokers import BrokerProcess
    from aftersales.settings import Settings

log = logging.getLogger("aftersales.run")
Role = Literal["inbound", "relay", "projections", "scheduler", "auditor"]
ROLES: tuple[Role, ...] = ("inbound", "relay", "projections", "scheduler", "auditor")
KAFKA_ROLES: tuple[Role, ...] = ("inbound", "relay", "projections")  # scheduler, auditor: none
STORE_ROLES: tuple[Role, ...] = ("inbound", "relay", "scheduler", "auditor")  # runners: none


def run(
    role: Annotated[list[str] | None, typer.Option(
        "--role", help="run only these workers (repeat): inbound, relay, projections, "
                       "scheduler, auditor; default all")] = None,
    broker: Annotated[Literal["tansu", "kafka"], typer.Option(
        help="the local broker to start when KAFKA_BOOTSTRAP_SERVERS is not set")] = "tansu",
    create_topics: Annotated[bool, typer.Option(help="create missing topics first")] = True,
    seconds: Annotated[float | None, typer.Option(
        help="stop after this many seconds (for scripts); default: until Ctrl-C/SIGTERM")] = None,
    metrics_port: Annotated[int | None, typer.Option(
        min=1, max=65535, help="serve Prometheus metrics (/metrics) and the workers' health "
                               "(/healthz) on 127.0.0.1:PORT")] = None,
) -> None:
    """Run the inbound consumers, the relay and the projection runner (one process by default).

    Roles can run as separate processes on several machines; with KAFKA_BOOTSTRAP_SERVERS
    unset a local broker is started on 127.0.0.1 for the life of the process."""
    from aftersales.brokers import start_broker
    from aftersales.settings import Settings

    roles = [r for r in ROLES if not role or r in role]
    unknown = set(role or []) - set(ROLES)
    if unknown:
        raise typer.BadParameter(f"unknown role(s) {', '.join(sorted(unknown))}; "
                                 f"choose from {', '.join(ROLES)}")
    settings = Settings.from_env()
    local: BrokerProcess | None = None
    if not settings.kafka_bootstrap_servers and set(roles) & set(KAFKA_ROLES):
        local = start_broker(broker, Path(tempfile.mkdtemp(prefix=f"aftersales-{broker}-")))
        settings = settings.model_copy(update={"kafka_bootstrap_servers":
                                               local.bootstrap_servers})
        console.print(f"started a local {broker} broker on {local.bootstrap_servers}")
    try:
        _run_workers(settings, roles, create_topics, seconds, metrics_port)
    finally:
        if local is not None:
            local.stop()


def _run_workers(settings: Settings, roles: list[Role], create_topics: bool,
                 seconds: float | None, metrics_port: int | None = None) -> None:
    from aftersales.bootstrap import (
        build_app,
        build_case_states,
        build_inbound,
        build_projection_runner,
        build_relay,
        ensure_pipeline_topics,
        scheduler_principal,
    )
    from audit.auditor import Auditor
    from scheduling.scheduler import Scheduler
    from workers.error_policy import ErrorPolicy

    if create_topics and set(roles) & set(KAFKA_ROLES):
        ensure_pipeline_topics(settings)
    # a projection runner reads only the topic and writes only the read database: no store pool
    app = build_app(settings) if set(roles) & set(STORE_ROLES) else None
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    built: dict[str, Any] = {}
    policy = ErrorPolicy()  # one error policy for every worker (workers/error_policy.py)
    if "projections" in roles:
        built["projections"] = build_projection_runner(settings, policy)
    if app is not None:
        if "inbound" in roles:
            built["inbound"] = build_inbound(app, settings, policy)
        if "relay" in roles:
            built["relay"] = build_relay(app, settings, policy)
            built["case-states"] = build_case_states(app, settings, policy)
        if "scheduler" in roles:
            # fires due deadlines with the wall clock, as the built-in system.scheduler principal
            built["scheduler"] = Scheduler(app, scheduler_principal(app), policy=policy)
        if "auditor" in roles:
            # seals every few seconds
            built["auditor"] = Auditor(app.store.recorder, app.store.mapper, policy=policy)
    tune_collector()  # again: what the workers loaded since start-up is frozen too
    workers: dict[str, Callable[[threading.Event], None]] = {
        name: built[name].run for name in (*ROLES, "case-states") if name in built}
    failed: list[str] = []

    def guarded(name: str, work: Callable[[threading.Event], None]) -> None:
        try:
            work(stop)
        except Exception as problem:
            log.error("worker %s failed (%s); stopping the process", name,
                      classify(problem)[1])
            log.debug("worker %s failed", name, exc_info=True)
            failed.append(name)
            stop.set()

    running: dict[str, threading.Thread] = {}
    server = None
    if metrics_port is not None:  # listening first: a port it cannot have starts no worker
        from aftersales.observability import serve  # prometheus_client: only when serving
        from aftersales.ports import PortClaimError

        try:
            server = serve(metrics_port, app, built,
                           lambda name: name in running and running[name].is_alive()
                           and name not in failed, settings.read_database_url)
        except PortClaimError as refused:
            if app is not None:
                app.close()
            fail(str(refused))
            raise typer.Exit(exit_codes.UNAVAILABLE if refused.in_use else exit_codes.INVALID
                             ) from None
    threads = [threading.Thread(target=guarded, args=(n, w), name=n, daemon=True)
               for n, w in workers.items()]
    for thread in threads:
        thread.start()
    running.update((thread.name, thread) for thread in threads)
    console.print(f"running {', '.join(workers)} against "
                  f"{settings.kafka_bootstrap_servers or 'no broker (not needed)'}")
    deadline = None if seconds is None else time.monotonic() + seconds
    while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
        stop.wait(0.2)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    if server is not None:
        server.shutdown()
    if app is not None:
        app.close()
    if failed:
        errors.print(f"workers failed: {', '.join(failed)}")
        raise typer.Exit(exit_codes.UNAVAILABLE)


def broker(
    kind: Annotated[Literal["tansu", "kafka"], typer.Option(
        "--kind", help="tansu (instant, memory only) or kafka (Apache Kafka 4, Java 17)")
    ] = "tansu",
    port: Annotated[int | None, typer.Option(
        min=1, max=65535, help="port on 127.0.0.1; default: a free one")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="where the broker keeps its data")
                        ] = None,
) -> None:
    """Start a local broker on 127.0.0.1, print its bootstrap address, run until Ctrl-C."""
    from aftersales.brokers import start_broker

    directory = data_dir or Path(tempfile.mkdtemp(prefix=f"aftersales-{kind}-"))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with start_broker(kind, directory, port) as process:
        print(f"KAFKA_BOOTSTRAP_SERVERS={process.bootstrap_servers}", flush=True)
        errors.print(f"{kind} broker pid {process.pid}, log {process.log_path}; Ctrl-C stops it")
        while not stop.is_set() and process.is_running():
            stop.wait(0.5)
