"""Dead letters: inbound messages that cannot be accepted go to aftersales.dlq.v1 unchanged,
with headers naming the error and where the message came from.

A dead letter can always be published, whatever the size of the original: one that would not
fit the dead-letter topic (key, value and headers measured as sent, against the topic's
``max.message.bytes`` when the broker tells it, and never more than ``SAFE_BYTES``, which any
topic and producer of default settings take) keeps a bounded prefix of its value (and of its key
and headers, should those be the large part), with headers saying what was cut, the original's
size and the SHA-256 of the whole; the whole stays in the source partition the headers name.
Such a letter is never redriven (its value is not the message).

Every header the engine reads back from a letter is one it wrote: the consumers replace an
upstream message's ``error``, ``error_type``, ``source_*`` and ``cut`` headers and drop any
other header the dead-letter or redrive logic reads (``RESERVED``). Redrive records where it
sent a letter's message (a *redrive record* on the dead-letter topic, ``mark_redriven``: the
letter, and the topic, partition and offset the broker acked); a letter whose source is such a
place is a copy of that letter (its message was redriven and failed again), so redrive sends
neither a letter that has such a copy (it was redriven already) nor the copy (unless asked to
send again), and redriving twice does not grow the topic. No header an upstream sets says
that: a message carrying ``redriven_from`` (which earlier versions trusted) is an ordinary
message and the header is dropped from its letter.

Dead letters are written at least once (the source offset is committed after the letter is
acked, so a crash in between writes it again): ``Listing`` shows the letters of one source
place (topic, partition, offset) as one, the first written, with where the others are."""

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
# Redrive records (``mark_redriven``): the letter redriven (PARTITION:OFFSET) and where its
# message was sent
REDRIVE_OF = "redrive_of"
REDRIVEN_TO = ("redriven_to_topic", "redriven_to_partition", "redriven_to_offset")
# Read by earlier versions on a letter (trusted from upstream: a poison message could hide a
# genuine letter); dropped from letters and never sent back
REDRIVEN_FROM = "redriven_from"
# The headers the dead-letter and redrive logic reads: a letter holds only the engine's own
RESERVED = frozenset((*DLQ_HEADERS, *DLQ_CUT_HEADERS, REDRIVEN_FROM, REDRIVE_OF, *REDRIVEN_TO))
QUOTE_LIMIT = 64  # characters (or bytes) of a sender's value a log line or an error quotes
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


def quoted(value: bytes | str, limit: int = QUOTE_LIMIT) -> str:
    """A value a sender chose (a key, an id) as a log line or an error quotes it: its
    ``repr``, of its first ``limit`` characters (bytes) and its whole length when longer, so a
    900 KB key is not written whole into every line that names it."""
    if len(value) <= limit:
        return repr(value)
    unit = "bytes" if isinstance(value, bytes) else "characters"
    return f"{value[:limit]!r}… ({len(value)} {unit})"


def error_text(message: str) -> str:
    """A rejection's message as the letter's ``error`` header and the log line carry it: at
    most ``MAX_ERROR_BYTES`` of UTF-8, cut on a character boundary."""
    encoded = message.encode()
    if len(encoded) <= MAX_ERROR_BYTES:
        return message
    return _prefix(encoded, MAX_ERROR_BYTES - len("…".encode())).decode() + "…"


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
        ("error", error_text(rejection.message).encode()),
        ("error_type", rejection.kind.encode()),
        ("source_topic", record.topic.encode()),
        ("source_partition", str(record.partition).encode()),
        ("source_offset", str(record.offset).encode()),
    ]
    # an upstream's own headers of those names are dropped: whoever wrote the topic must not
    # say what the engine reads back (where a letter came from, what was cut, a redrive)
    original = [(k, v) for k, v in (record.headers or []) if k not in RESERVED]
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
        """The headers the message had before it was dead-lettered (but those the engine
        reads back, ``RESERVED``: they are never sent)."""
        return [(k, v) for k, v in self.headers if k not in RESERVED]

    @property
    def source_place(self) -> tuple[str, int, int] | None:
        """(topic, partition, offset) the letter came from; None when its headers do not say
        (not written by this engine)."""
        topic, partition, offset = (self.header("source_topic"),
                                    self.header("source_partition"),
                                    self.header("source_offset"))
        if not topic or not _digits(partition) or not _digits(offset):
            return None
        return topic, int(partition or ""), int(offset or "")

    @property
    def redrive_record(self) -> bool:
        """Whether this record of the topic is no letter but a redrive record
        (``mark_redriven``): it names a letter redriven and names no source (every letter
        does; and a letter never carries ``redrive_of``, a ``RESERVED`` header)."""
        return self.header(REDRIVE_OF) is not None and self.header("source_topic") is None

    @property
    def redriven(self) -> tuple[str, tuple[str, int, int]] | None:
        """A redrive record's letter (PARTITION:OFFSET) and where its message was sent."""
        named = self.header(REDRIVE_OF) or ""
        partition, sep, offset = named.partition(":")
        topic, to_partition, to_offset = (self.header(name) for name in REDRIVEN_TO)
        if not (self.redrive_record and sep and _digits(partition) and _digits(offset)
                and topic and _digits(to_partition) and _digits(to_offset)):
            return None
        return (f"{int(partition)}:{int(offset)}",
                (topic, int(to_partition or ""), int(to_offset or "")))


def _digits(text: str | None) -> bool:
    return bool(text) and (text or "").isascii() and (text or "").isdigit()


@dataclass(frozen=True)
class Listing:
    """The dead-letter topic read as letters: one per source place (the first written; a
    crash between a letter's ack and its source offset's commit writes it again), and what
    the redrive records say about them."""

    letters: list[DeadLetter]  # reading order; no redrive records, no second letters
    also_at: dict[str, list[str]]  # a letter's PARTITION:OFFSET -> the others of its source
    copy_of: dict[str, str]  # a copy -> the letter whose redriven message it is
    failed_again: dict[str, list[str]]  # a letter -> its copies
    every: dict[str, DeadLetter]  # PARTITION:OFFSET -> every letter, second ones too


def listing(records: Sequence[DeadLetter]) -> Listing:
    """The records of the dead-letter topic as ``Listing``: redrive records are trusted as
    the engine's (this is its topic); a letter is a copy only when a redrive record names the
    letter redriven and the source place of the copy, both read from headers the engine
    wrote."""
    letters = [r for r in records if not r.redrive_record]
    groups: dict[tuple[str, int, int], list[DeadLetter]] = {}
    for letter in letters:
        place = letter.source_place
        if place is not None:
            groups.setdefault(place, []).append(letter)
    first = {place: min(group, key=lambda x: (x.timestamp_ms, x.partition, x.offset))
             for place, group in groups.items()}
    kept = [x for x in letters if x.source_place is None or first[x.source_place] is x]
    also_at = {first[place].where: [x.where for x in group if x is not first[place]]
               for place, group in groups.items() if len(group) > 1}
    one_of = {x.where: first[x.source_place].where if x.source_place is not None else x.where
              for x in letters}
    copy_of: dict[str, str] = {}
    failed_again: dict[str, list[str]] = {}
    for record in records:
        found = record.redriven
        if found is None or found[0] not in one_of or found[1] not in first:
            continue  # a letter no longer on the topic: its copy is a letter like any
        original, copy = one_of[found[0]], first[found[1]].where
        if copy != original and copy not in copy_of:
            copy_of[copy] = original
            failed_again.setdefault(original, []).append(copy)
    return Listing(kept, also_at, copy_of, failed_again, {x.where: x for x in letters})


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
    """Send the original bytes (key, value, headers) back to their source topic, then record
    where (``mark_redriven``); returns the topic. The engine dedupes on event_id, so sending
    a letter twice changes nothing."""
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
    sent = producer.send(topic, key=letter.key, value=letter.value,
                         headers=letter.original_headers()).get(timeout=timeout)
    mark_redriven(producer, dlq_topic, letter, topic, sent.partition, sent.offset, timeout)
    return topic


def mark_redriven(producer: KafkaProducer, dlq_topic: str, letter: DeadLetter, topic: str,
                  partition: int, offset: int, timeout: float = 30.0) -> None:
    """The redrive record: the letter's message was sent to topic[partition]@offset, so a
    letter of that source is its copy (it failed again). Written after the broker acked the
    message (a crash in between leaves the copy an ordinary letter: redriven again, deduped
    on event_id)."""
    producer.send(dlq_topic, key=None, value=b"", headers=[
        (REDRIVE_OF, letter.where.encode()), (REDRIVEN_TO[0], topic.encode()),
        (REDRIVEN_TO[1], str(partition).encode()),
        (REDRIVEN_TO[2], str(offset).encode())]).get(timeout=timeout)
