"""How every long-running worker meets a failure: one policy, injected into the inbound
consumer, the projection runner, the relay, the deadline scheduler and the auditor.

* **Poison**, a message that can never succeed (the validation boundary or the domain refuses
  it, it is too large, it is not a case event), is dead-lettered by the worker that met it,
  which goes on with the next one.
* **A failure of ours** (a bug, a bad deploy) **or of the infrastructure** (the store, the read
  database or the broker unreachable, a concurrent change that kept winning) is never
  dead-lettered: the worker stops where it is, having committed nothing past what is durable,
  backs off (doubling, capped, with jitter so that restarted workers do not retry in step) and
  starts again from its last durable position (committed offsets, stored positions, the
  relay's tracking record). A bug therefore halts a stream, loudly, instead of emptying it into
  the dead-letter topic; once fixed (or once the database is back) the worker resumes where it
  stopped and nothing is lost."""

from __future__ import annotations

import logging
import random
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from functools import partial

from eventsourcing.persistence import PersistenceError

from aftersales_core.errors import ConcurrentChangeError, DomainError
from projections.db import is_outage
from schemas.errors import InputRefused

log = logging.getLogger(__name__)


class Failure(Enum):
    POISON = "poison"  # the message: dead-letter it and go on
    OURS = "ours"  # a bug or a bad deploy: stop, back off, retry
    INFRASTRUCTURE = "infrastructure"  # store, read database, broker: stop, back off, retry


def classify(error: BaseException) -> Failure:
    """What kind of failure an exception is (the policy's default table)."""
    if isinstance(error, ConcurrentChangeError):  # kept losing a race: not the message's fault
        return Failure.INFRASTRUCTURE
    if isinstance(error, (InputRefused, DomainError)):
        return Failure.POISON
    kafka = sys.modules.get("kafka.errors")  # not loaded: no broker was ever asked
    if isinstance(error, (PersistenceError, OSError)) or is_outage(error) or (
            kafka is not None and isinstance(error, kafka.KafkaError)):
        return Failure.INFRASTRUCTURE
    return Failure.OURS


# a worker's step returns how much it did: 0 (or False) when it found nothing to do (an empty
# poll, nothing to publish), anything else (a count, None) when it went through
Step = Callable[[], object]
Hook = Callable[[], None]
FAILING_AFTER = 2  # failures in a row before a worker's health says it keeps failing


@dataclass
class Streak:
    """A worker's failures in a row, as its health shows them: how many since its last step
    that went through, since when (UTC, ISO 8601) and the last error's type (never its text,
    which may quote a message or a URL)."""

    in_a_row: int = 0
    since: str | None = None
    error: str = ""

    @property
    def failing(self) -> bool:
        """Has the worker failed FAILING_AFTER times in a row with no step through since? One
        failure retried with success (a broker's leader election) is not worth an alarm."""
        return self.in_a_row >= FAILING_AFTER

    def failed(self, error: BaseException) -> None:
        if self.in_a_row == 0:
            self.since = datetime.now(UTC).isoformat()
        self.in_a_row += 1
        self.error = type(error).__name__

    def succeeded(self) -> None:
        if self.in_a_row:
            self.in_a_row, self.since, self.error = 0, None, ""


@dataclass
class ErrorPolicy:
    """Poison or not, how long to wait, and the one loop every worker runs in."""

    first_delay: float = 0.5  # seconds before the first retry
    max_delay: float = 10.0  # the delay doubles up to this
    # an idle step (nothing to do) ends a streak of failures only this long into a session: a
    # consumer's first polls after (re)joining its group come back empty whatever is wrong, so
    # they prove nothing, and one failing on the same batch each time it gets it must be seen
    # failing (and back off longer), not reset by the empty polls in between
    settle: float = 30.0
    classify: Callable[[BaseException], Failure] = classify
    rng: random.Random = field(default_factory=random.Random)

    def is_poison(self, error: BaseException) -> bool:
        return self.classify(error) is Failure.POISON

    def delay(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th failure in a row: half the doubled delay
        fixed, the other half random ("equal jitter")."""
        ceiling = min(self.max_delay, self.first_delay * 2 ** min(failures - 1, 30))
        return self.rng.uniform(ceiling / 2, ceiling)

    def keep_running(self, name: str, stop: threading.Event, step: Step, *,
                     start: Hook | None = None, end: Hook | None = None,
                     failed: Callable[[BaseException], None] | None = None,
                     streak: Streak | None = None,
                     answering: Callable[[], bool] | None = None) -> None:
        """Run ``step`` until ``stop`` is set. ``start`` opens a session (joins the group,
        seeks to the stored positions), ``end`` closes it whether it failed or not; after a
        failure ``failed`` hears of it (count it, reconnect), then the policy waits and opens
        a new session. Nothing escapes but BaseException (KeyboardInterrupt, SystemExit).
        ``streak`` keeps the failures in a row for the worker's health (observability.py).
        A step that did something ends the failures in a row (and the back-off starts again
        from ``first_delay``); an idle one (``step`` returned 0) only ``settle`` seconds into
        its session, and only while ``answering()`` (when given) says what the worker depends
        on answers: an idle poll of a consumer whose brokers are silent proves nothing, and
        must not end the streak just before the silence is raised as the next failure.

        The session is closed before the wait: a consumer that stays in its group without
        polling would hold every other member's rebalance until the broker gives up on it."""
        failures = 0
        while not stop.is_set():
            error: Exception | None = None
            try:
                if start is not None:
                    start()
                opened = time.monotonic()
                while not stop.is_set():
                    did = step()
                    if (did is None or did) or (time.monotonic() - opened >= self.settle and (
                            answering is None or answering())):
                        failures = 0
                        if streak is not None:
                            streak.succeeded()
            except Exception as caught:
                error = caught
            finally:
                if end is not None:
                    _quietly(name, "closing", end)
            if error is not None:
                failures += 1
                if streak is not None:
                    streak.failed(error)
                wait = self.delay(failures)
                self._report(name, error, failures, wait)
                if failed is not None:
                    _quietly(name, "after a failure", partial(failed, error))
                stop.wait(wait)

    def _report(self, name: str, error: BaseException, failures: int, wait: float) -> None:
        kind = self.classify(error)
        what = f"{type(error).__name__}: {error}"[:500]
        if kind is Failure.INFRASTRUCTURE:
            log.warning("%s: %s (failure %d in a row); resuming from the last durable position "
                        "in %.1fs", name, what, failures, wait)
            return
        # ours, or poison the worker did not dead-letter: a bug either way, shown in full
        log.error("%s: STOPPED by a failure of ours (failure %d in a row): %s; nothing past "
                  "the last durable position is committed and nothing is dead-lettered; "
                  "trying again in %.1fs", name, failures, what, wait, exc_info=error)


def _quietly(name: str, what: str, hook: Hook) -> None:
    try:
        hook()
    except Exception:  # a broken client's close must not hide the failure that matters
        log.debug("%s: %s failed", name, what, exc_info=True)
