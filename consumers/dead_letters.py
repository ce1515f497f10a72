"""Dead letters: inbound messages that cannot be accepted go to aftersales.dlq.v1 unchanged,
with headers naming the error and where the message came from.

A dead letter can always be published, whatever the size of the original: one that would not
fit the dead-letter topic (key, value and headers measured as sent, against the topic's
``max.message.bytes`` when the broker tells it, and never more than ``SAFE_BYTES``, which any
topic and producer of default settings take) keeps a bounded prefix of its value (and of its key
and headers, should those be the large part), with headers saying what was cut, the original's
size and the SHA-256 of the whole; the whole stays in the source partition the headers name.
Such a letter is never redriven (its value is not the message).

A redriven message that fails again is dead-lettered again with the header ``redriven_from``
it was redriven with, naming the dead letter it is a copy of; so redrive sends neither a letter
that such a copy names (it was redriven already) nor the copy (unless asked to send again), and
redriving twice does not grow the topic."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaTimeoutError, MessageSizeTooLargeError

from schemas.outbound import DLQ_CUT_HEADERS, DLQ_HEADERS

log = logging.getLogger(__name__)

MAX_ERROR_BYTES = 2000
# The most a dead letter (key, value, headers) holds: under the broker's default
# max.message.bytes (1048588) and kafka-python's default max_request_size (1048576), with room
# for the record batch's framing.
SAFE_BYTES = 1_000_000
# The least: what is kept when the broker refused even a letter cut to the topic's limit (a
# broker policy it did not tell).
LEAST_BYTES = 16 * 1024
FRAMING_BYTES = 4 * 1024  # what a record batch adds around one record (as the relay counts)
REDRIVEN_FROM = "redriven_from"  # on a redriven message, and on its dead letter should it fail
# What the projection runner dead-letters: records of the case-events topic it left out
PROJECTION_ERROR_TYPES = ("not_a_case_event", "unprojectable")
# What the inbound consumer dead-letters for a record the Kafka client cannot decode: its place
# only (consumers/inbound.py)
UNDECODABLE = "undecodable"
Headers = list[tuple[str, bytes]]


@dataclass(frozen=True)
class Rejection:
    """Why a message was not accepted: a short kind (for metrics) and a readable message."""

    kind: str  # oversized | not_json | invalid | wrong_topic | key_mismatch | refused | ...
    message: str


def where(record: ConsumerRecord) -> str:
    return f"{record.topic}[{record.partition}]@{record.offset}"


def fields(record: ConsumerRecord) -> dict[str, object]:
    """The record's place as log fields (``--log-format json`` shows them)."""
    return {"topic": record.topic, "partition": record.partition, "offset": record.offset}


def dead_letter(producer: KafkaProducer, topic: str, record: ConsumerRecord,
                rejection: Rejection, timeout: float = 30.0, max_bytes: int = SAFE_BYTES
                ) -> None:
    """Send the record's key and value unchanged to the dead-letter topic (cut to
    ``max_bytes`` when larger, see ``fitted``) and wait for the ack (the caller commits the
    source offset only after this returns)."""
    own = [
        ("error", rejection.message.encode()[:MAX_ERROR_BYTES]),
        ("error_type", rejection.kind.encode()),
        ("source_topic", record.topic.encode()),
        ("source_partition", str(record.partition).encode()),
        ("source_offset", str(record.offset).encode()),
    ]
    # a redriven message that fails again names the letter it is a copy of (kept whole with
    # the letter's own headers): redrive then sends neither again
    own += [(k, v[:MAX_ERROR_BYTES]) for k, v in (record.headers or [])
            if k == REDRIVEN_FROM and v is not None][:1]
    original = [(k, v) for k, v in (record.headers or []) if k not in DLQ_HEADERS
                and k not in DLQ_CUT_HEADERS and k != REDRIVEN_FROM]
    key, value, headers = fitted(record.key, record.value, own, original, max_bytes)
    future = producer.send(topic, key=key, value=value, headers=headers)
    future.get(timeout=timeout)


def record_bytes(key: bytes | None, value: bytes | None, headers: Sequence[tuple[str, bytes]]
                 ) -> int:
    """A record's size as the broker counts it against max.message.bytes, near enough: its
    bytes and a generous allowance for the lengths and the batch around it."""
    return (len(key or b"") + len(value or b"") + FRAMING_BYTES
            + sum(len(k.encode()) + len(v or b"") + 10 for k, v in headers))


def fitted(key: bytes | None, value: bytes | None, own: Headers, original: Headers,
           max_bytes: int) -> tuple[bytes | None, bytes | None, Headers]:
    """Key, value and headers of a dead letter of at most ``max_bytes``: the original's,
    unchanged, when they fit; else cut. The value keeps what room is left (ending on a UTF-8
    character boundary), the key and the original headers at most an eighth of the room
    each; headers ``cut`` (what was: ``value``, ``key``, ``headers``), ``original_bytes`` and
    ``original_sha256`` (of the whole value), and for a cut key ``original_key_bytes`` and
    ``original_key_sha256``, say so."""
    if record_bytes(key, value, own + original) <= max_bytes:
        return key, value, own + original
    share = max_bytes // 8
    cut: list[str] = []
    about: Headers = []
    if key is not None and len(key) > share:
        cut.append("key")
        about += [("original_key_bytes", str(len(key)).encode()),
                  ("original_key_sha256", hashlib.sha256(key).hexdigest().encode())]
        key = _prefix(key, share)
    kept: Headers = []
    for name, header in original:
        if record_bytes(None, None, [*kept, (name, header)]) - FRAMING_BYTES > share:
            cut.append("headers")
            break
        kept.append((name, header))
    if value is not None:
        about += [("original_bytes", str(len(value)).encode()),
                  ("original_sha256", hashlib.sha256(value).hexdigest().encode())]
    headers = [*own, ("cut", b""), *about, *kept]
    room = max_bytes - record_bytes(key, b"", headers) - len("value,key,headers")
    if value is not None and len(value) > room:
        cut.insert(0, "value")
        value = _prefix(value, max(room, 0))
    headers[len(own)] = ("cut", ",".join(cut).encode())
    return key, value, headers


def _prefix(data: bytes, size: int) -> bytes:
    """The first ``size`` bytes at most, not ending inside a UTF-8 character."""
    end = size
    if end < len(data):
        while end > 0 and data[end] & 0xC0 == 0x80:
            end -= 1
    return data[:end]


class DeadLetterWriter:
    """Sends dead letters for one worker: its producer, made when first needed, and the
    dead-letter topic's limit, learnt then (``topic_limit``: the topic's max.message.bytes,
    None when the broker does not say). Should the broker refuse a letter as too large
    anyway, it is sent again cut to ``LEAST_BYTES``."""

    def __init__(self, make_producer: Callable[[], KafkaProducer], topic: str,
                 topic_limit: Callable[[], int | None] | None = None) -> None:
        self.make_producer, self.topic, self.topic_limit = make_producer, topic, topic_limit
        self.max_bytes = SAFE_BYTES
        self._producer: KafkaProducer | None = None

    def send(self, record: ConsumerRecord, rejection: Rejection) -> None:
        if self._producer is None:
            found = self.topic_limit() if self.topic_limit is not None else None
            self.max_bytes = SAFE_BYTES if found is None else max(
                min(SAFE_BYTES, found - FRAMING_BYTES), LEAST_BYTES)
            self._producer = self.make_producer()
        try:
            dead_letter(self._producer, self.topic, record, rejection,
                        max_bytes=self.max_bytes)
        except MessageSizeTooLargeError as error:
            log.warning("%s[%d]@%d: the dead-letter topic %s refused a %d-byte letter (%s); "
                        "sending it cut to %d bytes", record.topic, record.partition,
                        record.offset, self.topic, self.max_bytes, error, LEAST_BYTES)
            self.close()  # kafka-python's producer is unusable after such an error
            self._producer = self.make_producer()
            dead_letter(self._producer, self.topic, record, rejection, max_bytes=LEAST_BYTES)

    def close(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            try:
                producer.close(timeout=5)
            except Exception:  # closing a broken client must not hide the original error
                log.debug("closing the dead-letter producer failed", exc_info=True)


@dataclass(frozen=True)
class DeadLetter:
    """A record of the dead-letter topic: where it is, why it is there, the original."""

    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode(errors="replace")
        return None

    @property
    def where(self) -> str:
        return f"{self.partition}:{self.offset}"

    @property
    def source(self) -> str:
        return (f"{self.header('source_topic')}[{self.header('source_partition')}]@"
                f"{self.header('source_offset')}")

    @property
    def cut(self) -> str:
        """What of the original was cut to make the letter fit (``value``, ``key``,
        ``headers``, comma-separated), "" when it is whole."""
        return self.header("cut") or ""

    @property
    def original_bytes(self) -> int:
        """The size of the original value (the letter's own when it is whole)."""
        size = self.header("original_bytes")
        return int(size) if self.cut and size and size.isdigit() else len(self.value or b"")

    @property
    def unsendable(self) -> str:
        """Why the letter cannot be sent back as it is ("" when it can): only part of the
        message is here, it names no source topic (not written by this engine), or it is a
        record of the case-events topic a projection left out."""
        if self.cut:
            return f"cut: only part of the message is here, the whole is at {self.source}"
        if self.header("error_type") == UNDECODABLE:
            return (f"the Kafka client could not decode the message, so none of it is here: "
                    f"it is at {self.source}")
        if not self.header("source_topic"):
            return "it names no source topic (it was not written by this engine's consumers)"
        if self.header("error_type") in PROJECTION_ERROR_TYPES:
            return ("a record of the case-events topic a projection left out: never sent "
                    "back to that public topic (it would reach downstream consumers again "
                    "after newer events of its case, and the projection runner skips "
                    "positions it has passed); once the projection is fixed, "
                    "`aftersales projections rebuild` re-applies it from the store")
        return ""

    @property
    def projection(self) -> bool:
        """Whether the projection runner wrote it (a record of the case-events topic)."""
        return self.header("error_type") in PROJECTION_ERROR_TYPES

    def original_headers(self) -> list[tuple[str, bytes]]:
        """The headers the message had before it was dead-lettered (and redriven)."""
        return [(k, v) for k, v in self.headers
                if k not in DLQ_HEADERS and k not in DLQ_CUT_HEADERS and k != REDRIVEN_FROM]

    def name(self, dlq_topic: str) -> str:
        """How ``redriven_from`` names this letter: ``topic[partition]@offset``."""
        return f"{dlq_topic}[{self.partition}]@{self.offset}"

    def copy_of(self, dlq_topic: str) -> str | None:
        """The dead letter this one is a copy of (PARTITION:OFFSET, or the header as it is when
        it names another topic): its message was redriven and failed again. None when the
        letter is no such copy."""
        named = self.header(REDRIVEN_FROM)
        if named is None:
            return None
        topic, _, place = named.rpartition("[")
        partition, sep, offset = place.partition("]@")
        if topic == dlq_topic and sep and partition.isdigit() and offset.isdigit():
            return f"{int(partition)}:{int(offset)}"
        return named


def copies(letters: Sequence[DeadLetter], dlq_topic: str) -> dict[str, list[str]]:
    """The letters redriven whose message failed again: PARTITION:OFFSET of each to those of
    its copies (the letters that name it in ``redriven_from``)."""
    found: dict[str, list[str]] = {}
    for letter in letters:
        original = letter.copy_of(dlq_topic)
        if original is not None:
            found.setdefault(original, []).append(letter.where)
    return found


def read_dead_letters(consumer: KafkaConsumer, topic: str, partition_ids: Sequence[int],
                      timeout_s: float = 30.0) -> Iterator[DeadLetter]:
    """Every record of the dead-letter topic's partitions (``kafka_clients.partitions_of``),
    from the beginning to the end they had when reading began (no consumer group: nothing is
    committed)."""
    partitions = [TopicPartition(topic, p) for p in sorted(partition_ids)]
    if not partitions:
        return
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    ends = {tp: end for tp, end in consumer.end_offsets(
        partitions, timeout_ms=int(timeout_s * 1000)).items() if end}
    deadline = time.monotonic() + timeout_s
    while ends and time.monotonic() < deadline:
        for tp, records in consumer.poll(timeout_ms=500).items():
            for record in records:
                if tp in ends and record.offset < ends[tp]:
                    yield DeadLetter(record.partition, record.offset, record.timestamp,
                                     record.key, record.value, tuple(record.headers or ()))
        for tp in list(ends):
            if consumer.position(tp) >= ends[tp]:
                del ends[tp]
    if ends:
        raise KafkaTimeoutError(f"the dead-letter topic {topic} was not read to its end "
                                f"within {timeout_s:.0f}s")


def redrive(producer: KafkaProducer, letter: DeadLetter, dlq_topic: str,
            timeout: float = 30.0) -> str:
    """Send the original bytes (key, value, headers) back to their source topic, with the
    header ``redriven_from`` naming the letter; returns the topic. The engine dedupes on
    event_id, so sending a letter twice changes nothing."""
    topic = letter.header("source_topic")
    if not topic:
        raise ValueError(f"dead letter {letter.where} names no source topic")
    if letter.projection:
        raise ValueError(f"dead letter {letter.where} is a record of the case-events topic a "
                         "projection left out: `aftersales projections rebuild` re-applies it")
    if letter.header("error_type") == UNDECODABLE:
        raise ValueError(f"dead letter {letter.where} holds none of the message: "
                         f"{letter.unsendable}")
    if letter.cut:
        raise ValueError(f"dead letter {letter.where} holds only part of the message (its "
                         f"{letter.cut} was cut: {letter.original_bytes} bytes, sha256 "
                         f"{letter.header('original_sha256')}); the whole message is at "
                         f"{letter.source}")
    headers = [*letter.original_headers(),
               (REDRIVEN_FROM, letter.name(dlq_topic).encode())]
    producer.send(topic, key=letter.key, value=letter.value,
                  headers=headers).get(timeout=timeout)
    return topic
