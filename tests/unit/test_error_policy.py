"""The error policy every worker runs under (workers/error_policy.py): what is poison, how long
it waits, and that its loop survives any failure, closes each session and resumes."""

from __future__ import annotations

import sqlite3
import threading
import time
from random import Random

import psycopg
import pytest
from eventsourcing.persistence import OperationalError
from hypothesis import given
from hypothesis import strategies as st
from kafka.errors import KafkaConnectionError, KafkaTimeoutError

from aftersales_core.errors import (
    ConcurrentChangeError,
    IllegalTransitionError,
    InvalidCommandError,
    NotAuthorisedError,
)
from consumers.case_events import EventTooLargeError
from schemas.errors import InputRefused
from workers.error_policy import ErrorPolicy, Failure, Streak, classify


@pytest.mark.parametrize(("error", "kind"), [
    (InputRefused("not_json", "not JSON"), Failure.POISON),
    (InvalidCommandError("bad"), Failure.POISON),
    (IllegalTransitionError("return", "c-1", "close", "requested"), Failure.POISON),
    (NotAuthorisedError("denied"), Failure.POISON),
    (EventTooLargeError("too large"), Failure.POISON),
    (ConcurrentChangeError("again"), Failure.INFRASTRUCTURE),
    (OperationalError("server closed the connection"), Failure.INFRASTRUCTURE),
    (psycopg.OperationalError("connection refused"), Failure.INFRASTRUCTURE),
    (sqlite3.OperationalError("database is locked"), Failure.INFRASTRUCTURE),
    (KafkaConnectionError(), Failure.INFRASTRUCTURE),
    (KafkaTimeoutError(), Failure.INFRASTRUCTURE),
    (ConnectionResetError(), Failure.INFRASTRUCTURE),
    (KeyError("status"), Failure.OURS),
    (AttributeError("'NoneType' object has no attribute 'id'"), Failure.OURS),
    (ZeroDivisionError(), Failure.OURS),
])
def test_each_failure_is_poison_ours_or_the_infrastructures(error: Exception,
                                                            kind: Failure) -> None:
    assert classify(error) is kind
    assert ErrorPolicy().is_poison(error) is (kind is Failure.POISON)


@given(st.integers(1, 200), st.integers(0, 2**32))
def test_the_delay_doubles_up_to_the_cap_with_jitter_in_its_upper_half(failures: int,
                                                                       seed: int) -> None:
    policy = ErrorPolicy(first_delay=0.5, max_delay=10.0, rng=Random(seed))
    ceiling = min(10.0, 0.5 * 2 ** (failures - 1))
    assert ceiling / 2 <= policy.delay(failures) <= ceiling


def test_two_workers_failing_together_do_not_retry_in_step() -> None:
    one, two = ErrorPolicy(rng=Random(1)), ErrorPolicy(rng=Random(2))
    assert [one.delay(n) for n in range(1, 6)] != [two.delay(n) for n in range(1, 6)]


class Flaky:
    """A worker's step failing with each of ``errors`` in turn, then succeeding ``then`` times
    before it sets ``stop``; counts sessions opened and closed."""

    def __init__(self, errors: list[Exception], then: int, stop: threading.Event) -> None:
        self.errors, self.then, self.stop = list(errors), then, stop
        self.steps = self.starts = self.ends = 0
        self.heard: list[BaseException] = []

    def start(self) -> None:
        self.starts += 1

    def end(self) -> None:
        self.ends += 1
        raise RuntimeError("closing a broken client fails too")  # must not escape

    def step(self) -> None:
        self.steps += 1
        if self.errors:
            raise self.errors.pop(0)
        self.then -= 1
        if self.then <= 0:
            self.stop.set()


def test_the_loop_survives_bugs_and_outages_and_resumes_in_a_new_session() -> None:
    stop = threading.Event()
    errors: list[Exception] = [KeyError("bug"), OperationalError("down"), OperationalError("down"),
                               InvalidCommandError("poison the worker did not dead-letter")]
    flaky = Flaky(errors, then=3, stop=stop)
    policy = ErrorPolicy(first_delay=0.001, max_delay=0.002, rng=Random(0))
    policy.keep_running("test", stop, flaky.step, start=flaky.start, end=flaky.end,
                        failed=flaky.heard.append)
    assert flaky.steps == 4 + 3
    assert flaky.starts == flaky.ends == 5  # a fresh session after each failure
    assert [type(e).__name__ for e in flaky.heard] == [
        "KeyError", "OperationalError", "OperationalError", "InvalidCommandError"]


def test_a_failing_failure_hook_does_not_stop_the_loop() -> None:
    stop = threading.Event()
    flaky = Flaky([OperationalError("down")], then=1, stop=stop)

    def reconnect(error: BaseException) -> None:
        raise psycopg.OperationalError("still down")

    ErrorPolicy(first_delay=0.001, max_delay=0.001).keep_running(
        "test", stop, flaky.step, failed=reconnect)
    assert flaky.steps == 2


def test_stop_ends_the_wait_and_the_loop() -> None:
    stop = threading.Event()
    steps = []

    def always_down() -> None:
        steps.append(1)
        stop.set()  # set while failing: the long back-off must not be waited out
        raise OperationalError("down")

    thread = threading.Thread(target=ErrorPolicy(first_delay=3600, max_delay=3600).keep_running,
                              args=("test", stop, always_down))
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive() and steps == [1]


def test_keyboard_interrupt_is_not_swallowed() -> None:
    def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ErrorPolicy().keep_running("test", threading.Event(), interrupted)


def test_a_failed_session_is_closed_before_the_back_off() -> None:
    """A consumer left in its group while the worker waits would hold every other member's
    rebalance; the session ends first, then the failure is heard, then the wait."""
    happened: list[str] = []

    class Stop(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            happened.append("wait")
            self.set()
            return True

    def step() -> None:
        happened.append("step")
        raise OperationalError("down")

    ErrorPolicy(first_delay=5, max_delay=5).keep_running(
        "test", Stop(), step, start=lambda: happened.append("start"),
        end=lambda: happened.append("end"), failed=lambda error: happened.append("failed"))
    assert happened == ["start", "step", "end", "failed", "wait"]


def test_a_streak_counts_failures_in_a_row_and_ends_with_the_next_step_through() -> None:
    """What a worker's health reads: failing from the second failure in a row, until a step
    goes through; the error's type only (its text may quote a URL or a message)."""
    stop = threading.Event()
    streak = Streak()
    seen: list[tuple[int, bool, str]] = []

    def step() -> None:
        seen.append((streak.in_a_row, streak.failing, streak.error))
        if len(seen) <= 3:
            raise KafkaTimeoutError("Failed to update metadata after 10.0 secs")
        stop.set()

    ErrorPolicy(first_delay=0.001, max_delay=0.001).keep_running("test", stop, step,
                                                                 streak=streak)
    assert seen == [(0, False, ""), (1, False, "KafkaTimeoutError"),
                    (2, True, "KafkaTimeoutError"), (3, True, "KafkaTimeoutError")]
    assert (streak.in_a_row, streak.failing, streak.since, streak.error) == (0, False, None, "")


def test_a_consumer_failing_on_the_same_batch_after_empty_polls_keeps_failing() -> None:
    """A consumer's first polls after (re)joining come back empty, then the batch fails again
    (a read database whose disk is full): its health said "running" with "failure 1 in a row"
    for ever, and it retried at the first delay, because each empty poll ended the streak."""
    stop = threading.Event()
    streak = Streak()
    waits: list[float] = []
    polls = iter([0, 0, "fail"] * 4)

    class Policy(ErrorPolicy):
        def delay(self, failures: int) -> float:
            waits.append(super().delay(failures))
            return 0.0

    def poll() -> int:
        step = next(polls, None)
        if step is None:
            stop.set()
            return 0
        if step == "fail":
            raise sqlite3.OperationalError("database or disk is full")
        return 0

    Policy(first_delay=0.001, max_delay=1.0).keep_running("projections", stop, poll,
                                                          streak=streak)
    assert streak.in_a_row == 4 and streak.failing and streak.error == "OperationalError"
    assert waits == sorted(waits) and waits[-1] >= 0.004  # backing off: 1, 2, 4, 8 ms ceilings


def test_a_step_that_did_something_or_a_settled_idle_session_ends_the_streak() -> None:
    stop = threading.Event()
    streak = Streak()
    did = iter(["fail", "fail", 3, "fail", "fail", 0])
    seen: list[int] = []

    def step() -> int:
        seen.append(streak.in_a_row)
        now = next(did, None)
        if now is None:
            stop.set()
            return 0
        if now == "fail":
            raise OperationalError("down")
        return int(now)

    ErrorPolicy(first_delay=0.001, max_delay=0.001, settle=0.0).keep_running(
        "test", stop, step, streak=streak)
    assert seen == [0, 1, 2, 0, 1, 2, 0]  # 3 records, then an idle step once settled
    assert not streak.failing


@pytest.mark.parametrize(("answering", "in_a_row"), [(False, 3), (True, 1)])
def test_idle_steps_while_the_dependency_is_silent_do_not_end_the_failures_in_a_row(
        answering: bool, in_a_row: int) -> None:
    """Each session idles past ``settle`` and then fails (a consumer whose brokers never answer,
    raised by its broker watch): those idle steps prove nothing while ``answering`` says no, so
    the failures add up and the health says failing; idle steps while it says yes end them."""
    stop, streak, sessions = threading.Event(), Streak(), []

    def silent_then_failing() -> int:
        if len(sessions) == 4:  # after three failed sessions
            stop.set()
            return 0
        sessions[-1] += 1
        if sessions[-1] < 3:
            time.sleep(0.02)
            return 0  # an empty poll, past the settling time after the first
        raise ConnectionError("no coordinator answered")

    policy = ErrorPolicy(first_delay=0.001, max_delay=0.002, settle=0.01, rng=Random(0))
    policy.keep_running("test", stop, silent_then_failing, start=lambda: sessions.append(0),
                        streak=streak, answering=lambda: answering)
    assert streak.in_a_row == in_a_row
    assert streak.failing is (in_a_row >= 2)
