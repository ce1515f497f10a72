"""Telling a consumer that polls nothing because nothing comes from one that polls nothing
because no broker answers.

kafka-python never raises for an unreachable cluster: ``poll`` waits for a group coordinator,
gives up after its timeout and returns no records, for ever. Without this watch an inbound
consumer or projection runner whose brokers are down (or whose bootstrap address is wrong)
looks idle and healthy. After an empty poll the watch asks whether the consumer knows its
group's coordinator and is connected to it; once it has not for ``after`` seconds in a row,
:class:`BrokerUnreachable` is raised, which the error policy (workers/error_policy.py) treats
as the infrastructure's failure: the session ends, the worker backs off and joins again, and
after two such failures in a row its health says it keeps failing (``/healthz`` 503). The
first poll that finds the coordinator again ends the silence.

A broker frozen rather than gone (its connections open, nothing answered) is noticed once the
client's request timeout has closed the connection, not before.

The watch also catches a client that stops handing out a partition's records: kafka-python
3.0.x has had such bugs (a partition assigned but never fetched again until the next
rebalance: dpkp/kafka-python#3106, #3131). After ``after`` seconds of empty polls with a
coordinator, it asks the brokers for the assigned partitions' end offsets (one request per
``after`` seconds, only while idle); a partition whose position stays below its end, unmoved,
at two such checks means the consumer is not being given records that exist, and
:class:`PartitionsStuck` is raised: the session ends and a new consumer joins the group, which
fetches from the committed offsets."""

from __future__ import annotations

import time
from collections.abc import Callable

from kafka import KafkaConsumer, TopicPartition

UNREACHABLE_AFTER = 30.0  # seconds without a group coordinator before it is a failure


class BrokerUnreachable(ConnectionError):
    """No group coordinator answered for a while: the brokers are down or not where the
    settings say (the message names no address: the caller's log line has the worker)."""


class PartitionsStuck(ConnectionError):
    """The brokers hold records of assigned partitions that polls have not returned for a
    while: the Kafka client is stuck on them (a new session starts afresh)."""


class BrokerWatch:
    def __init__(self, after: float = UNREACHABLE_AFTER,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.after, self.clock = after, clock
        self._since: float | None = None  # first empty poll without a coordinator
        self._idle: float | None = None  # first empty poll since records came (or a check)
        self._assigned: frozenset[TopicPartition] = frozenset()
        self._behind: dict[TopicPartition, tuple[int, int]] = {}  # at the last check
        # a check found partitions behind and no record has come since: kept across sessions,
        # so the idle polls of the next one (joining, waiting for its first check) prove nothing
        self._suspect = False

    @property
    def answering(self) -> bool:
        """No empty poll without a coordinator since the last one that had one (or records),
        and no partition found behind at the last check (empty polls although records exist):
        an idle poll proves the consumer is fine only while this holds (the finding outlives
        the session it ends, until records come or a check finds none behind)."""
        return self._since is None and not self._suspect

    def reset(self) -> None:
        """A new session starts its own count (joining takes a moment)."""
        self._since = self._idle = None
        self._assigned, self._behind = frozenset(), {}

    def saw_records(self) -> None:
        """A poll brought records: the consumer is being fed."""
        self._idle, self._behind, self._suspect = None, {}, False

    def after_empty_poll(self, consumer: KafkaConsumer) -> None:
        """Raise :class:`BrokerUnreachable` once the consumer has had no coordinator for
        ``after`` seconds, or :class:`PartitionsStuck` once it has had one but no records for
        ``after`` seconds while its partitions hold more; a poll that brought records proves
        the brokers answer, so only an empty one is checked."""
        if has_coordinator(consumer):
            self._since = None
            self._check_progress(consumer)
            return
        now = self.clock()
        if self._since is None:
            self._since = now
        elif now - self._since >= self.after:
            silent = now - self._since
            self._since = None
            raise BrokerUnreachable(f"no Kafka group coordinator answered for {silent:.0f}s: "
                                    "the brokers are down or not at the configured address")

    def _check_progress(self, consumer: KafkaConsumer) -> None:
        """Stuck: at two checks ``after`` seconds apart, with only empty polls since the first
        and the same assignment, the same partitions behind at the same positions (a partition
        just assigned, or one the consumer is still catching up on, moves between them)."""
        now = self.clock()
        assigned = frozenset(consumer.assignment())
        if self._idle is None or assigned != self._assigned:
            self._idle, self._assigned, self._behind = now, assigned, {}
            return
        if now - self._idle < self.after:
            return
        idle, self._idle = now - self._idle, now  # the next check is ``after`` from now
        behind, before = lagging(consumer), self._behind
        self._behind, self._suspect = behind, bool(behind)
        stuck = {tp: where for tp, where in behind.items()
                 if tp in before and before[tp][0] == where[0]}
        if stuck:
            behind = stuck
            shown = ", ".join(f"{tp.topic}[{tp.partition}] at {position} of {end}"
                              for tp, (position, end) in sorted(behind.items())[:6])
            raise PartitionsStuck(f"polls gave no records though the brokers held more, at two "
                                  f"checks {idle:.0f}s apart: {shown}; starting a new consumer")


def has_coordinator(consumer: KafkaConsumer) -> bool:
    """Does the consumer know its group's coordinator and hold a live connection to it?
    (kafka-python has no public call for it; a client without the attribute is trusted.)"""
    coordinator = getattr(consumer, "_coordinator", None)
    unknown = getattr(coordinator, "coordinator_unknown", None)
    return unknown is None or not unknown()


def lagging(consumer: KafkaConsumer, timeout_ms: int = 5000
            ) -> dict[TopicPartition, tuple[int, int]]:
    """The assigned partitions whose next offset is below the brokers' end offset:
    partition -> (position, end)."""
    assigned = sorted(consumer.assignment())
    if not assigned:
        return {}
    ends = consumer.end_offsets(assigned, timeout_ms=timeout_ms)
    behind = {}
    for tp in assigned:
        position, end = consumer.position(tp, timeout_ms=timeout_ms), ends.get(tp)
        if position is not None and end is not None and position < end:
            behind[tp] = (position, end)
    return behind
