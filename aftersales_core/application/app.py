"""The after-sales application: every command and upstream fact, one event store."""

from __future__ import annotations

from aftersales_core.application.deadlines import DeadlineServices
from aftersales_core.application.resolutions import ResolutionServices
from aftersales_core.application.upstream import UpstreamServices


class AfterSalesApp(DeadlineServices, ResolutionServices, UpstreamServices):
    """Returns, refunds, complaints, upstream facts and deadlines over one append-only store.

    Every method loads what it needs, evaluates the policies, and saves the changed aggregates
    (their events, the recorded decisions and the deadlines their new states schedule) in one
    transaction, or raises and saves nothing.
    """
