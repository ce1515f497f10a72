"""Tamper-evident audit of the append-only store (SPEC §1 auditors, §6, §7).

A hash chain over the store's notification log, in position order::

    h_0 = SHA-256("aftersales audit chain v1")
    h_n = SHA-256(h_{n-1} ‖ position ‖ len ‖ originator_id ‖ version ‖ len ‖ topic ‖ state)

Position and version are 8-byte big-endian integers, each length a 4-byte one; the originator
id is the UTF-8 of its stored text form (32 hex digits for a UUID, on both backends), the topic
its UTF-8, the state the stored bytes.

``seal`` extends the chain from the last checkpoint to the store's end and inserts one row per
batch (``batch_size`` events, plus the head) into ``audit_checkpoints``, a table of its own in
the event store's database (SQLite file or PostgreSQL schema), like the deadline index: the
batch's last position, the position of the checkpoint before it, its event count, the chain
hash there, the wall-clock time of sealing and, per event, its position, the first 8 bytes of
its chain hash and CRC-32s of its identity (id, version, topic) and of its state, so that
``verify`` can name the first position that changed and what changed there. Rows are only
inserted; a seal that finds the head moved (another auditor sealed meanwhile) starts again.

``verify`` recomputes the chain from position 1 and compares it with every checkpoint: an event
changed (state, topic, id, version), deleted (a missing position, a head beyond the store's
end) or inserted out of order gives a finding at the first position where the chain diverges;
each batch is then checked again from its own checkpoint, so several tamperings are each
named. Events after the last checkpoint are "not yet sealed", which is not tampering.

Limits: events changed before they were first sealed cannot be told apart; someone who can
rewrite the checkpoints as well can rebuild a consistent chain, or drop the last checkpoints
(their events then show as not yet sealed): keep the head printed by ``seal`` elsewhere and
pass it to ``verify`` as an anchor. A SQLite ``VACUUM`` may renumber
the store's rowids (the store's positions) and is then reported as tampering.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    Mapper,
)

from aftersales_core import policies
from audit.chain import (
    _END,
    _ENTRY,
    GENESIS,
    OnProgress,
    Row,
    _identity_crc,
    _sealed_entries,
    _state_crc,
    chain,
    link,
)
from audit.checkpoints import (
    _Database,
    _HeadMovedError,
    _Pages,
)
from audit.decisions import Rerun, rerun_decisions
from audit.reports import (
    Checkpoint,
    Finding,
    SealResult,
    VerifyReport,
)
from workers.error_policy import ErrorPolicy, Streak

log = logging.getLogger(__name__)


class Auditor:
    """Seals the store's notification log into a hash chain and verifies it."""

    def __init__(
        self,
        recorder: ApplicationRecorder,
        mapper: Mapper[UUID],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        rerun: Rerun = policies.rerun,
        batch_size: int = 1000,
        page_size: int = 10_000,
        interval: float = 5.0,
        policy: ErrorPolicy | None = None,
    ) -> None:
        if batch_size < 1 or page_size < 1:
            raise ValueError("batch_size and page_size must be positive")
        self.mapper, self.clock, self.interval = mapper, clock, interval
        self.rerun = rerun
        self.batch_size, self.page_size = batch_size, page_size
        self.db = _Database(recorder)
        self.policy = policy or ErrorPolicy()
        self.streak = Streak()  # failures in a row, for its health

    # -- sealing ---------------------------------------------------------------------------

    def seal(self, now: datetime) -> SealResult:
        """Chain every event after the last checkpoint; one checkpoint per batch and head."""
        started, sealed_at = time.perf_counter(), now.astimezone(UTC).isoformat()
        page = self.batch_size * max(1, self.page_size // self.batch_size)
        events = checkpoints = 0
        head, h = self.db.head()
        while True:
            rows = self.db.rows(head, _END, page)
            if not rows:
                break
            batches: list[tuple[Checkpoint, bytes]] = []
            previous, next_h = head, h
            for start in range(0, len(rows), self.batch_size):
                batch = rows[start : start + self.batch_size]
                next_h, entries = _sealed_entries(next_h, batch)
                cp = Checkpoint(batch[-1][0], previous, len(batch), next_h, sealed_at)
                batches.append((cp, entries))
                previous = cp.position
            try:
                self.db.append(head, batches)
            except (_HeadMovedError, IntegrityError):
                log.info("audit: another auditor sealed past position %d; reading on", head)
                head, h = self.db.head()
                continue
            head, h = previous, next_h
            events, checkpoints = events + len(rows), checkpoints + len(batches)
            if len(rows) < page:
                break
        return SealResult(
            events, checkpoints, head, h.hex(), sealed_at, time.perf_counter() - started
        )

    def run(self, stop: threading.Event) -> None:
        """Seal every ``interval`` seconds until ``stop`` is set; a failure is retried as the
        error policy says (sealing is idempotent: it starts again from the sealed head)."""
        log.info("auditor starting: sealed up to position %d", self.db.head()[0])

        def cycle() -> None:
            done = self.seal(self.clock())
            if done.events:
                log.info("audit: sealed %d events up to position %d (%s)", done.events,
                         done.head, done.chain_hash)
            stop.wait(self.interval)

        self.policy.keep_running("auditor", stop, cycle, streak=self.streak)

    # -- verifying -------------------------------------------------------------------------

    def verify(
        self,
        *,
        decisions: bool = False,
        anchors: Sequence[tuple[int, str]] = (),
        progress: OnProgress | None = None,
    ) -> VerifyReport:
        """Recompute the chain from position 1 and compare it with every checkpoint."""
        started = time.perf_counter()
        report = VerifyReport(store_end=self.db.end(), decisions_checked=0 if decisions else None)
        checkpoints = self.db.checkpoints()
        pages, h, previous = _Pages(self.db, self.page_size), GENESIS, 0
        for cp in checkpoints:
            parts = pages.upto(cp.position)
            computed, count = h, 0
            for part in parts:
                computed, count = chain(computed, part), count + len(part)
                if decisions:
                    rerun_decisions(self.mapper, part, report, self.rerun)
            report.events += count
            if cp.previous != previous:
                report.findings.append(
                    Finding(
                        cp.position,
                        "checkpoint",
                        f"the checkpoint at {cp.position} follows "
                        f"{cp.previous}, but the one before it is at {previous}: checkpoints "
                        "were deleted or altered",
                        cp.position,
                    )
                )
            elif computed != cp.chain_hash or count != cp.events:
                report.findings.append(self._diagnose(h, parts, cp, report.store_end))
            h, previous = cp.chain_hash, cp.position
            if progress is not None:
                progress(cp.position, report.store_end)
        for part in pages.upto(_END):
            report.unsealed += len(part)
            report.first_unsealed = report.first_unsealed or part[0][0]
            if decisions:
                rerun_decisions(self.mapper, part, report, self.rerun)
        if checkpoints:
            last = checkpoints[-1]
            report.checkpoints, report.sealed_head = len(checkpoints), last.position
            report.head_hash, report.last_sealed_at = last.chain_hash.hex(), last.sealed_at
        self._check_anchors(anchors, {cp.position: cp for cp in checkpoints}, report)
        report.seconds = time.perf_counter() - started
        if progress is not None:
            progress(report.store_end, report.store_end)
        return report

    def _diagnose(self, h: bytes, parts: list[list[Row]], cp: Checkpoint, end: int) -> Finding:
        """Walk the batch event by event against its entries: the first difference."""
        rows = [row for part in parts for row in part]
        index = 0
        for position, prefix, identity, state in _ENTRY.iter_unpack(self.db.entries(cp.position)):
            row = rows[index] if index < len(rows) else None
            if row is not None and row[0] < position:
                return Finding(
                    row[0],
                    "inserted",
                    f"position {row[0]} holds an event that "
                    "was not there when the store was sealed",
                    cp.position,
                    _found(row),
                )
            if row is None or row[0] > position:
                why = (
                    f": the store ends at {end}, but it was sealed up to {cp.position}"
                    if end < position
                    else ""
                )
                return Finding(
                    position,
                    "deleted",
                    f"the event sealed at position {position} is missing{why}",
                    cp.position,
                )
            h = link(h, *row)
            if h[:8] != prefix:
                if _identity_crc(row) != identity:
                    what = "its originator id, version or topic changed"
                elif _state_crc(row) != state:
                    what = "its state changed"
                else:
                    what = "its content no longer matches its sealed hash"
                return Finding(
                    row[0],
                    "changed",
                    f"the event at position {row[0]} differs from the sealed one: {what}",
                    cp.position,
                    _found(row),
                )
            index += 1
        if index < len(rows):
            row = rows[index]
            return Finding(
                row[0],
                "inserted",
                f"position {row[0]} holds an event that was not there when the store was sealed",
                cp.position,
                _found(row),
            )
        return Finding(
            cp.position,
            "checkpoint",
            f"the checkpoint at {cp.position} does not "
            "match the events it lists: the checkpoint row was altered",
            cp.position,
        )

    def _check_anchors(
        self,
        anchors: Sequence[tuple[int, str]],
        by_position: dict[int, Checkpoint],
        report: VerifyReport,
    ) -> None:
        """Heads kept outside the store: the chain must pass through each of them."""
        for position, expected in anchors:
            cp = by_position.get(position)
            if cp is None or cp.chain_hash.hex() != expected.lower():
                what = "no checkpoint there" if cp is None else f"{cp.chain_hash.hex()} there"
                report.findings.append(
                    Finding(
                        position,
                        "anchor",
                        f"the anchor {expected} at position {position} does "
                        f"not match ({what}): the chain was rebuilt or checkpoints deleted",
                        position,
                    )
                )


def _found(row: Row) -> dict[str, Any]:
    state: Any = row[4]
    return {
        "originator_id": row[1],
        "version": row[2],
        "topic": row[3],
        "state": f"{len(state)} bytes"
        if isinstance(state, bytes)
        else f"a {type(state).__name__}, not bytes",
    }
