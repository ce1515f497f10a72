"""Group commit: commands (or upstream facts) that are ready together are decided one after the
other in memory, against what the store holds plus what the batch decided before them, and
written in one transaction: one fsync for the batch instead of one per command.

* Each is acknowledged only once its batch is durable (the results come back after ``flush``).
* A refused, denied or invalid command is undone alone and never affects its batch-mates; two
  commands on one case apply in order (the second sees the first).
* Optimistic concurrency still guards every aggregate: when another process changed one the
  batch decided on, the write fails as a whole (nothing of the batch was written) and the batch
  runs again, on fresh state (it starts by dropping what others wrote from the event cache);
  after three such losses each command of the last attempt that had succeeded runs again on its
  own.
* A store outage fails the whole batch: none of it is durable, each command gets the error.
  Any other failure to write the batch while the store answers (an event it refuses) runs the
  batch's commands one by one too, so the one at fault fails alone.

``run_together`` serves one thread with its jobs at hand (``aftersales submit FILE``, ``aftersales
ingest FILE``, a poll of the inbound consumer); ``GroupCommitter`` serves concurrent callers
(the service API's requests): each call waits for the batch its job joined."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from aftersales_core.application.store import Store
from aftersales_core.errors import ConcurrentChangeError

T = TypeVar("T")
MAX_BATCH = 500
ATTEMPTS = 3  # batches lost to another process's write before the commands run one by one


@dataclass(frozen=True)
class Done(Generic[T]):
    """A job's outcome: its value, or the error it failed with (then it stored nothing)."""

    value: T | None = None
    error: Exception | None = None


def _alone(job: Callable[[], T]) -> Done[T]:
    try:
        return Done(job())
    except Exception as error:
        return Done(error=error)


def _answers(store: Store) -> bool:
    try:
        store.recorder.max_notification_id()
    except Exception:
        return False
    return True


def run_together(store: Store, jobs: Sequence[Callable[[], T]],
                 abort: Callable[[int, Exception], bool] | None = None,
                 attempts: int = ATTEMPTS) -> list[Done[T]]:
    """Run the jobs in order as one batch, in one transaction; their outcomes in order.

    ``abort(index, error)``, when given, is asked about each job that fails in the batch: True
    drops the whole batch unwritten and raises that error (the Kafka consumer, on a transient
    failure, has every message of the poll delivered again)."""
    for _ in range(attempts):
        outcomes, how = _attempt(store, jobs, abort)
        if how != "conflict":
            break
        # another process wrote an aggregate of the batch: nothing of it is durable; the next
        # batch starts by dropping what others wrote, so it decides again on fresh state
    if how in ("written", "outage"):  # durable, or every command failed with the outage
        return outcomes
    return [done if done.error is not None else _alone(job)
            for done, job in zip(outcomes, jobs, strict=True)]


Outcome = Literal["written", "conflict", "outage", "refused"]


def _attempt(store: Store, jobs: Sequence[Callable[[], T]],
             abort: Callable[[int, Exception], bool] | None) -> tuple[list[Done[T]], Outcome]:
    """One batch: its outcomes, and whether it was written (else why not)."""
    outcomes: list[Done[T]] = []
    with store.batch():
        for index, job in enumerate(jobs):
            mark = store.mark()
            try:
                outcomes.append(Done(job()))
            except Exception as error:
                if abort is not None and abort(index, error):
                    raise
                store.undo(mark)
                outcomes.append(Done(error=error))
        try:
            store.flush()
            return outcomes, "written"
        except ConcurrentChangeError:
            return outcomes, "conflict"
        except Exception as error:  # nothing of the batch is durable
            if not _answers(store):  # an outage
                return [done if done.error is not None else Done(error=error)
                        for done in outcomes], "outage"
            # the store answers: one event of the batch is what it refuses: one by one
            return outcomes, "refused"


class GroupCommitter:
    """Batches the jobs of concurrent callers: whatever is waiting when the previous batch is
    durable forms the next one (up to ``max_batch``), so a lone caller waits for nobody."""

    def __init__(self, store: Store, max_batch: int = MAX_BATCH,
                 on_batch: Callable[[int], object] | None = None) -> None:
        self.store, self.max_batch, self.on_batch = store, max_batch, on_batch
        self._queue: queue.Queue[tuple[Callable[[], object], Future[object]] | None] = (
            queue.Queue())
        self._thread = threading.Thread(target=self._work, name="group-commit", daemon=True)
        self._thread.start()

    def call(self, job: Callable[[], T]) -> T:
        """Run ``job`` in the next batch; returns once that batch is durable (or raises the
        job's own error)."""
        future: Future[object] = Future()
        self._queue.put((job, future))
        return future.result()  # type: ignore[return-value]  # the job's own value

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _work(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            waiting = [first]
            while len(waiting) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # close after this batch
                    break
                waiting.append(item)
            outcomes = run_together(self.store, [job for job, _ in waiting])
            if self.on_batch is not None:
                self.on_batch(len(waiting))  # e.g. the API's commit batch size histogram
            for (_, future), done in zip(waiting, outcomes, strict=True):
                if done.error is not None:
                    future.set_exception(done.error)
                else:
                    future.set_result(done.value)
