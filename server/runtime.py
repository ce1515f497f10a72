"""What one server process holds: the application's services over the store, the tables
beside it (API keys, idempotent answers), the authenticator, the rate limits, and read-database
connections (one per thread: a connection is used by one thread at a time).

``run_command`` and ``apply_upstream`` are the only ways requests add events to the store: the seam
where commands that arrive together can be decided and committed as one batch."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from aftersales.bootstrap import build_app
from aftersales.settings import Settings
from aftersales_core.application.access import Caller
from aftersales_core.application.results import CommandResult
from aftersales_core.application.upstream import UpstreamResult
from dispatch.commands import execute
from dispatch.group_commit import GroupCommitter
from dispatch.tracing import TraceContext, traced
from dispatch.upstream import apply_upstream
from projections.apply import ensure_schema
from projections.catalog import all_projections
from projections.db import ReadDatabase, is_outage
from scheduling.deadline_index import DeadlineIndex
from schemas.commands import AnyCommand
from schemas.inbound import UpstreamEvent
from server.auth import Authenticator
from server.guards import RateLimiter
from server.idempotency import IdempotentAnswers
from server.keys import ApiKeys
from server.metrics import COMMIT_BATCH, CountingDenials
from server.oidc import OidcVerifier
from server.settings import ApiSettings

T = TypeVar("T")


class Runtime:
    def __init__(self, settings: Settings, api: ApiSettings) -> None:
        self.settings, self.api = settings, api
        self.services = build_app(settings)
        self.services.access.denials = CountingDenials(self.services.access.denials)
        recorder = self.services.store.recorder
        self.keys = ApiKeys(recorder)
        self.answers = IdempotentAnswers(recorder, timedelta(hours=api.idempotency_hours))
        self.auth = Authenticator(self.services, self.keys,
                                  OidcVerifier(api) if api.oidc_enabled else None)
        self.principal_rate = RateLimiter(api.rate_per_second, api.rate_burst)
        self.failure_rate = RateLimiter(api.auth_failures_per_second,
                                        api.auth_failures_per_second * 4)
        self._local = threading.local()
        self._schema_ready = False
        self._deadlines: DeadlineIndex | None = None
        self._deadlines_lock = threading.Lock()
        # concurrent requests' commands are decided together and committed in one transaction
        self.committer = GroupCommitter(self.services.store, on_batch=COMMIT_BATCH.observe)

    def run_command(self, caller: Caller, command: AnyCommand, now: datetime,
                    trace: TraceContext | None = None) -> CommandResult:
        """Run one validated command as ``caller`` (its If-Match expectation included) in the
        next group commit (``GroupCommitter``): decided with the commands of other requests
        waiting then, committed in their one transaction; durable when this returns, and a
        refused or conflicting batch-mate never changes its outcome. The events it stores
        carry the request's ``trace`` context."""
        return self.committer.call(traced(trace, lambda: execute(self.services, caller,
                                                                 command, now)))

    def apply_upstream(self, caller: Caller, message: UpstreamEvent,
                       trace: TraceContext | None = None) -> UpstreamResult:
        """Apply one validated order or shipment fact; durable when this returns."""
        result = traced(trace, lambda: apply_upstream(self.services, caller, message))()
        COMMIT_BATCH.observe(1)
        return result

    def read(self, work: Callable[[ReadDatabase], T]) -> T:
        """Run ``work`` on this thread's read-database connection (a new one after an
        outage: a dropped connection does not come back by itself)."""
        db: ReadDatabase | None = getattr(self._local, "db", None)
        if db is None:
            db = ReadDatabase(self.settings.read_database_url)
            if not self._schema_ready:
                ensure_schema(db, all_projections())
                self._schema_ready = True
            self._local.db = db
        try:
            return work(db)
        except Exception as error:
            if is_outage(error):
                self._local.db = None
                db.close()
            raise

    def deadlines(self, work: Callable[[DeadlineIndex], T]) -> T:
        """Run ``work`` on the deadline index, brought up to date with the store first."""
        with self._deadlines_lock:
            if self._deadlines is None:
                store = self.services.store
                self._deadlines = DeadlineIndex(store.recorder, store.mapper)
            self._deadlines.catch_up()
            return work(self._deadlines)

    def ready(self) -> dict[str, Any]:
        """Whether the store and the read database answer (each: "ok" or what failed)."""
        found: dict[str, Any] = {}
        try:
            self.services.store.recorder.max_notification_id()
            found["store"] = "ok"
        except Exception as error:  # reported, never raised: this is the health check
            found["store"] = f"unavailable ({type(error).__name__})"
        try:
            self.read(lambda db: db.query("SELECT 1 AS one"))
            found["read_database"] = "ok"
        except Exception as error:  # reported, never raised: this is the health check
            found["read_database"] = f"unavailable ({type(error).__name__})"
        return found

    def close(self) -> None:
        self.committer.close()
        self.services.close()
