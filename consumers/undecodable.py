"""Records the Kafka client cannot decode: kafka-python raises from ``poll()`` for a record
whose header name is not UTF-8 or whose batch is compressed with a codec this process has no
library for, and every later poll of its partition raises again, before a worker sees the
record. The worker finds where it is (``find_undecodable``), dead-letters its place and moves
past it, instead of failing on it for ever."""

from __future__ import annotations

from collections.abc import Callable

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import CorruptRecordError, UnsupportedCodecError

from consumers.topic_end import read_at

UNDECODABLE = (CorruptRecordError, UnsupportedCodecError)
PROBE_SECONDS = 10.0  # how long the search for an undecodable record waits for a partition


def find_undecodable(consumer: KafkaConsumer, make_consumer: Callable[[], KafkaConsumer]
                     ) -> tuple[TopicPartition, int] | None:
    """The partition and offset of the record that made ``consumer.poll`` fail to decode:
    the next record of one of its partitions (records before it were returned, and handled,
    by earlier polls). Each partition with records left is read at its position, alone, by a
    consumer of its own (``make_consumer``, assigned, never committing); None when none fails.
    """
    assigned = sorted(consumer.assignment())
    if not assigned:
        return None
    ends = consumer.end_offsets(assigned)
    for tp in assigned:
        position = consumer.position(tp)
        if position is None or position >= ends.get(tp, 0):
            continue
        if _fails_at(make_consumer, tp, position):
            return tp, position
    return None


def _fails_at(make_consumer: Callable[[], KafkaConsumer], tp: TopicPartition, offset: int
              ) -> bool:
    try:
        read_at(make_consumer, tp, offset, PROBE_SECONDS)
    except UNDECODABLE:
        return True
    return False  # the record there decodes (or none came)
