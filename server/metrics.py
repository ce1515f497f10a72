"""Prometheus metrics of the service API (``GET /metrics``).

With several worker processes, ``aftersales serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a
private directory before the workers start, and ``/metrics`` adds up every worker's figures."""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from aftersales_core.application.access import Denial, DenialLog

# The methods a request's metrics name; any other (a client may send any token) is "other", so
# that no caller, authenticated or not, can add series
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE",
                     "CONNECT"})
REQUESTS = Counter("aftersales_http_requests_total", "HTTP requests answered",
                   ["method", "route", "status"])
LATENCY = Histogram("aftersales_http_request_duration_seconds", "HTTP request latency",
                    ["method", "route"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
                             5, 10))
COMMANDS = Counter("aftersales_commands_total", "commands by outcome (done, refused, invalid, "
                   "not_found, conflict, precondition_failed, denied, unavailable, internal, "
                   "replayed)", ["command", "outcome"])
DENIALS = Counter("aftersales_denials_total", "operations the permission matrix denied (also "
                  "those answered 'not found')", ["operation", "rule"])
AUTH_FAILURES = Counter("aftersales_http_auth_failures_total", "requests without usable "
                        "credentials (401)", ["reason"])
RATE_LIMITED = Counter("aftersales_http_rate_limited_total", "requests answered 429",
                       ["kind"])
COMMIT_BATCH = Histogram("aftersales_store_commit_batch_commands", "commands per store "
                         "commit (one transaction, one fsync)",
                         buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256))


def method_label(method: str) -> str:
    """The request's method as the metrics name it: one of ``METHODS``, else "other"."""
    return method if method in METHODS else "other"


class CountingDenials:
    """The denial log, counting each denial as it is recorded."""

    def __init__(self, inner: DenialLog) -> None:
        self.inner = inner

    def record(self, denial: Denial) -> None:
        self.inner.record(denial)
        DENIALS.labels(denial.operation, denial.rule).inc()


def exposition() -> tuple[bytes, str]:
    """The metrics text: this process's, or every worker's when several run."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
