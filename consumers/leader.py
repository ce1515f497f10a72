"""Lead or stand by, for a publisher of which one runs at a time (the relay, the case-state
publisher): the one implementation of their turns over a ``Leadership`` lock
(consumers/leadership.py).

A publisher asks ``lead()`` before each round. Without a leadership it is the only one and
always leads. Otherwise it tries the lock until it holds it (``TOOK_OVER``: start after the
position the store tracked), then checks at most once per ``check_every`` seconds that it still
does (``LOST``: stop publishing, stand by and try again); ``check()`` asks the lock right away
(before publishing a batch)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from enum import Enum

from consumers.leadership import Leadership


class Turn(Enum):
    LEADS = "leads"  # as before
    TOOK_OVER = "took over"  # leads from now on: start after the position the store tracked
    STANDS_BY = "stands by"  # another process leads
    LOST = "lost"  # led until now: the lock may be another's


class Leader:
    def __init__(self, leadership: Leadership | None, check_every: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.leadership, self.check_every, self.clock = leadership, check_every, clock
        self.leading = leadership is None  # without a leadership it is the only one
        self._checked = 0.0

    def lead(self) -> Turn:
        """Lead, or stand by (trying the lock once, without waiting)."""
        if self.leadership is None:
            return Turn.LEADS
        if self.leading:
            if self.clock() - self._checked < self.check_every:
                return Turn.LEADS
            return self.check()
        if not self.leadership.acquire():
            return Turn.STANDS_BY
        self.leading, self._checked = True, self.clock()
        return Turn.TOOK_OVER

    def check(self) -> Turn:
        """Whether it still leads, asking the lock now: ``LEADS`` or ``LOST``."""
        if self.leadership is None:
            return Turn.LEADS
        self._checked = self.clock()
        if self.leadership.holds():
            return Turn.LEADS
        self.leading = False
        return Turn.LOST

    def rounds(self, stop: threading.Event, lead: Callable[[], bool], step: Callable[[], int],
               idle: float) -> Callable[[], None]:
        """A publisher's round, for its error policy to repeat: when ``lead()`` says it leads,
        ``step()`` (waiting ``idle`` seconds when it went past no stored event); otherwise
        stand by ``check_every`` seconds."""

        def publish_or_idle() -> None:
            if not lead():
                stop.wait(self.check_every)
            elif step() == 0:
                stop.wait(idle)

        return publish_or_idle

    def release(self) -> None:
        if self.leadership is not None:
            self.leadership.release()
            self.leading = False
