"""The one retry of concurrent changes: run a piece of work again on fresh state when another
writer changed an aggregate it loaded (optimistic concurrency, README "Scale-out")."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from aftersales_core.errors import ConcurrentChangeError

T = TypeVar("T")
ATTEMPTS = 5  # work that keeps losing races this often raises ConcurrentChangeError


def on_fresh_state(attempt: Callable[[], T], attempts: int = ATTEMPTS) -> T:
    """Run ``attempt`` (load, decide, save); when another writer changed an aggregate it
    loaded, run it again on fresh state, up to ``attempts`` times in all (commands, upstream
    facts, deadline firings, policy book versions)."""
    for _ in range(attempts - 1):
        try:
            return attempt()
        except ConcurrentChangeError:
            continue
    return attempt()
