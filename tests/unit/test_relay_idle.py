"""How often an idle relay asks the store: soon after it last published, then less and less
often up to its idle_sleep, so a command that follows another is not kept waiting."""

from __future__ import annotations

import threading

from consumers.relay import FIRST_IDLE_S, Relay


class NoTracking:
    def max_tracking_id(self, name: str) -> int:
        return 0


class Scripted(Relay):
    """A relay whose steps publish the scripted counts, then stop it."""

    def __init__(self, script: list[int], stop: threading.Event) -> None:
        super().__init__(None, NoTracking(), lambda: None, "t", idle_sleep=0.02)  # type: ignore[arg-type]
        self.script, self.stop = list(script), stop

    def step(self) -> int:
        if not self.script:
            self.stop.set()
            return 1
        return self.script.pop(0)


class Waits(threading.Event):
    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        assert timeout is not None
        self.waits.append(round(timeout, 6))
        return self.is_set()


def test_an_idle_relay_asks_again_soon_then_backs_off_to_its_idle_sleep() -> None:
    stop = Waits()
    Scripted([5, 0, 0, 0, 0, 0, 0, 3, 0, 0], stop).run(stop)
    first = FIRST_IDLE_S
    assert stop.waits == [first, 2 * first, 4 * first, 8 * first, 0.02, 0.02,  # idle
                          first, 2 * first]  # it published: soon again


def test_a_relay_that_keeps_publishing_never_waits() -> None:
    stop = Waits()
    Scripted([500, 500, 12, 1], stop).run(stop)
    assert stop.waits == []
