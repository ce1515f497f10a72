"""`aftersales serve`: the service API (api/) on granian, loopback by default.

Granian (a Rust HTTP server) reads headers under a deadline, so a client trickling a request
never holds a worker; the application refuses bodies over the limit and bodies that do not
arrive in time. SIGINT or SIGTERM stop it gracefully: workers finish the requests they hold
(up to 30 s), then exit. One server per port (aftersales/ports.py): a second one on a port
in use refuses to start (exit 5)."""

from __future__ import annotations

import ipaddress
import logging
import os
import shutil
import sys
import tempfile
from typing import Annotated, Any

import typer

from aftersales import exit_codes
from aftersales.logs import JsonLogFormatter, chosen
from aftersales.output import errors, fail
from aftersales.ports import PortClaimError, address_of, claim_port, url_of

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def serve(
    host: Annotated[str, typer.Option(help="the address to bind (loopback by default)")
                    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8080,
    workers: Annotated[int, typer.Option(min=1, max=64, help="worker processes")] = 1,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error")] = "info",
) -> None:
    """Serve every command and query over authenticated HTTP (OpenAPI at /v1/openapi.json),
    with /healthz, /readyz and Prometheus /metrics. Stops gracefully on SIGINT/SIGTERM."""
    from aftersales.settings import Settings
    from desk.settings import DeskSettings
    from server.settings import ApiSettings  # checked here: a bad setting is exit 2, not a crash

    Settings.from_env()  # every setting the application reads (api/app.py), checked before
    api = ApiSettings.from_env()  # serving: never a server that fails each request instead
    DeskSettings.from_env()
    if log_level not in ("debug", "info", "warning", "error"):
        raise typer.BadParameter("--log-level: debug, info, warning or error")
    try:
        address = address_of(host)
        claim = claim_port(address, port)  # held while serving: one server per port
    except PortClaimError as refused:
        fail(str(refused))
        raise typer.Exit(exit_codes.UNAVAILABLE if refused.in_use else exit_codes.INVALID
                         ) from None
    if not _loopback(address):
        errors.print(f"warning: binding {host}: the API is reachable beyond this machine; "
                     "put TLS in front of it", highlight=False)
    metrics_dir = None
    if workers > 1:  # every worker's metrics added up at /metrics
        metrics_dir = tempfile.mkdtemp(prefix="aftersales-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings
    from granian.server import Server

    server = Server(
        "api.app:create_app", address=address, port=port, interface=Interfaces.ASGI,
        factory=True, workers=workers, backlog=2048,
        http1_settings=HTTP1Settings(header_read_timeout=int(api.header_timeout * 1000),
                                     max_buffer_size=api.max_body_bytes + 64 * 1024),
        log_dictconfig=_logging(log_level.upper()), log_access=False,
        workers_kill_timeout=30, respawn_failed_workers=True,
    )
    serving = f"serving on {url_of(address, port)} ({workers} worker(s)); Ctrl-C stops"
    if chosen["format"] == "json":  # every line of the log one JSON object
        said = logging.LogRecord("aftersales.serve", logging.INFO, __file__, 0, serving, None,
                                 None)
        print(JsonLogFormatter().format(said), file=sys.stderr, flush=True)
    else:
        errors.print(serving, highlight=False)
    try:
        server.serve()
    except RuntimeError as refused:  # granian's bind: taken since the claim by another program
        if "os error" not in str(refused):
            raise
        fail(f"cannot listen on {url_of(address, port)}: {refused}")
        raise typer.Exit(exit_codes.UNAVAILABLE) from None
    finally:
        claim.release()
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _loopback(host: str) -> bool:
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _logging(level: str) -> dict[str, Any]:
    """Log lines on stderr, every configured secret scrubbed out, in the form `--log-format`
    chose (one JSON object per line, or text)."""
    line: dict[str, Any] = (
        {"()": "aftersales.logs.JsonLogFormatter"} if chosen["format"] == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"})
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"scrub": {"()": "aftersales.secrets.ScrubSecrets"}},
        "formatters": {"line": line},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "line",
                                "filters": ["scrub"], "stream": "ext://sys.stderr"}},
        "root": {"level": "WARNING", "handlers": ["stderr"]},
        "loggers": {
            "aftersales": {"level": level, "handlers": ["stderr"], "propagate": False},
            "_granian": {"level": level, "handlers": ["stderr"], "propagate": False},
            "granian.access": {"level": "WARNING", "handlers": ["stderr"], "propagate": False},
            "kafka": {"level": "CRITICAL"},
        },
    }
