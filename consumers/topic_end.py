"""Offsets stored with the rows that are past a partition's end: the topic was re-created, or
a broker that keeps it in memory restarted, so nothing would ever be read there.

The broker's end offset alone does not decide it: Tansu answers the offset after the last
record batch's first record (one batch of three records reads as end 1), so an offset past
that end is confirmed by a consumer of its own reading the record just before it: only a
partition with no record there is past its end."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from kafka import KafkaConsumer, TopicPartition

PROBE_SECONDS = 3.0  # how long a probe waits for the record before a stored offset


def past_the_end(consumer: KafkaConsumer, make_probe: Callable[[], KafkaConsumer],
                 starts: Mapping[TopicPartition, int]) -> dict[TopicPartition, int]:
    """The partitions whose start offset is past their end, each with its first offset."""
    ahead = [tp for tp, start in starts.items() if start > 0]
    if not ahead:
        return {}
    ends = consumer.end_offsets(ahead)
    suspect = [tp for tp in ahead if ends.get(tp) is not None and starts[tp] > ends[tp]]
    gone = [tp for tp in suspect if not _holds(make_probe, tp, starts[tp] - 1)]
    return dict(consumer.beginning_offsets(gone)) if gone else {}


def _holds(make_probe: Callable[[], KafkaConsumer], tp: TopicPartition, offset: int) -> bool:
    """Whether the partition has a record at ``offset`` (one the client cannot decode is there
    too)."""
    from consumers.undecodable import UNDECODABLE

    try:
        return read_at(make_probe, tp, offset, PROBE_SECONDS)
    except UNDECODABLE:
        return True


def read_at(make_probe: Callable[[], KafkaConsumer], tp: TopicPartition, offset: int,
            seconds: float) -> bool:
    """Whether a consumer of its own (assigned, never committing) reads a record at ``offset``
    of the partition within ``seconds``; the client's decoding errors are raised."""
    probe = make_probe()
    try:
        probe.assign([tp])
        probe.seek(tp, offset)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for records in probe.poll(timeout_ms=200, max_records=1).values():
                if any(r.offset >= offset for r in records):
                    return True
        return False
    finally:
        probe.close(autocommit=False)
