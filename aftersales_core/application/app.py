"""The after-sales application: every command and upstream fact, one event store."""

from __future__ import annotations

from aftersales_core.application.returns import ReturnServices
from aftersales_core.application.upstream import UpstreamServices


class AfterSalesApp(ReturnServices, UpstreamServices):
    """Returns, refunds, complaints and upstream facts over one append-only store.

    Every method loads what it needs, evaluates the policies, and saves the changed aggregates
    (their events and the recorded decisions) in one transaction, or raises and saves nothing.
    """
