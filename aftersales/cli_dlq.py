"""`aftersales dlq list | show | redrive`: the dead-letter topic, read with the broker
credentials of the settings (an operator command, like `run` and `status`: whoever holds them
can read the topic anyway; no case is shown or changed through the application).

Redrive sends a dead letter's original key, value and headers back to the topic it came from,
once the cause is fixed (an order that arrived late, a bug fixed), and records where on the
dead-letter topic; the engine dedupes on event_id. A message that fails again is dead-lettered
again as a copy, known by that record (never by a header the message carries): redrive sends
neither that letter nor the copy again (the copy only with `--again`), so redriving twice
changes nothing. Letters of one source place (written twice when a worker died between the
letter and its offset's commit) are listed and sent as one. A letter cut to fit the topic (its
header `cut`) holds only part of the message: it is shown as such and never redriven; nor is a
case event a projection left out (a rebuild re-applies it)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from aftersales import exit_codes
from aftersales.output import (
    Format,
    console,
    dumps,
    emit_json_line,
    emit_rows,
    errors,
    fail,
    printable,
)
from aftersales_core.text import is_digits

if TYPE_CHECKING:
    from aftersales.settings import Settings
    from consumers.dead_letters import DeadLetter, Listing

dlq_app = typer.Typer(help="Dead letters: list them, show one, send them back once fixed.",
                      no_args_is_help=True)
def _known_types(given: list[str] | None) -> list[str] | None:
    """A misspelt type would match nothing and read as "no such letters": exit 2 instead."""
    from schemas.outbound import ERROR_TYPES

    unknown = [t for t in given or [] if t not in ERROR_TYPES]
    if unknown:
        raise typer.BadParameter(f"{', '.join(repr(t) for t in unknown)} is no error type; "
                                 f"known: {', '.join(ERROR_TYPES)}")
    return given


ErrorTypes = Annotated[list[str] | None, typer.Option(
    "--error-type", callback=_known_types,
    help="only dead letters of this error type (repeatable): e.g. refused, invalid, not_json, "
         "key_mismatch, oversized, undecodable")]
Since = Annotated[str | None, typer.Option(
    help="only dead letters written at or after this RFC 3339 time")]
COLUMNS = ("at", "where", "error_type", "source", "key", "bytes", "cut", "copy_of",
           "failed_again", "also_at", "error")


def _since(since: str | None) -> int | None:
    if since is None:
        return None
    try:
        moment = datetime.fromisoformat(since)
    except ValueError:
        raise typer.BadParameter(f"--since: not an RFC 3339 time: {since!r}") from None
    if moment.tzinfo is None:
        raise typer.BadParameter("--since needs a UTC offset, e.g. 2026-03-01T00:00:00+00:00")
    return int(moment.timestamp() * 1000)


def _letters(settings: Settings) -> Listing:
    """Every record of the dead-letter topic, as letters (filtered by ``_matching``: whether
    a letter was redriven and failed again shows in its copy, whatever the filters)."""
    from kafka.errors import KafkaError

    from aftersales.errors import said
    from consumers import kafka_clients
    from consumers.dead_letters import listing, read_dead_letters

    where = settings.kafka()
    consumer = None
    try:  # the admin client gives up after its timeout (a consumer's metadata call may not)
        partitions = kafka_clients.partitions_of(where, settings.dlq_topic)
        consumer = kafka_clients.consumer(where, None, request_timeout_ms=10_000)
        return listing(list(read_dead_letters(consumer, settings.dlq_topic, partitions)))
    except KafkaError as error:
        fail(f"the broker cannot be reached at {kafka_clients.servers_of(where)}: "
             f"{said(error)}")
        raise typer.Exit(exit_codes.UNAVAILABLE) from None
    finally:
        if consumer is not None:
            consumer.close()


def _matching(letters: list[DeadLetter], error_types: list[str] | None, since: str | None
              ) -> list[DeadLetter]:
    after = _since(since)
    return [letter for letter in letters
            if (not error_types or letter.header("error_type") in error_types)
            and (after is None or letter.timestamp_ms >= after)]


LISTED_KEY_BYTES = 200  # `dlq list` shows a key's first bytes; `dlq show` has it whole


def _row(letter: DeadLetter, found: Listing, whole_key: bool = False) -> dict[str, Any]:
    return {"at": datetime.fromtimestamp(letter.timestamp_ms / 1000).astimezone().isoformat(),
            "where": letter.where, "error_type": letter.header("error_type"),
            "source": letter.source,
            "key": _text(letter.key) if whole_key else _listed_key(letter.key),
            "bytes": letter.original_bytes, "cut": letter.cut,
            "copy_of": found.copy_of.get(letter.where, ""),
            "failed_again": ",".join(found.failed_again.get(letter.where, ())),
            "also_at": ",".join(found.also_at.get(letter.where, ())),
            "error": letter.header("error")}


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode(errors="backslashreplace")


def _listed_key(key: bytes | None) -> str | None:
    """A key as a row of `dlq list` shows it: whole up to ``LISTED_KEY_BYTES``, else its first
    bytes and its length (a sender may key a message with 900 KB: one row must not carry it)."""
    if key is None or len(key) <= LISTED_KEY_BYTES:
        return _text(key)
    return (f"{key[:LISTED_KEY_BYTES].decode(errors='ignore')}… ({len(key)} bytes; "
            "`dlq show` has it whole)")


@dlq_app.command("list")
def list_letters(error_type: ErrorTypes = None, since: Since = None,
                 fmt: Annotated[Format, typer.Option("--format")] = "table") -> None:
    """Every dead letter (oldest first per partition): when, where (PARTITION:OFFSET), its
    error type and error, where it came from, its key and the original's size, what was cut
    when the original was too large to keep whole, and for redrives whose message failed
    again: the letter a copy came from (copy_of) and a letter's copies (failed_again). Letters
    of one source place are one row, the first written; also_at names the others."""
    from aftersales.settings import Settings

    settings = Settings.from_env()
    found = _letters(settings)
    rows = [_row(letter, found) for letter in _matching(found.letters, error_type, since)]
    emit_rows(rows, fmt, f"dead letters ({len(rows)})", COLUMNS)


@dlq_app.command("show")
def show(where: Annotated[str, typer.Argument(help="PARTITION:OFFSET, as `dlq list` shows")],
         fmt: Annotated[Literal["table", "json"], typer.Option("--format")] = "table"
         ) -> None:
    """One dead letter in full: every header, the key, and the original message (as text
    when it is UTF-8, else base64; a letter cut to fit the topic says what it kept)."""
    from aftersales.settings import Settings

    partition, sep, offset = where.partition(":")
    if not (sep and is_digits(partition) and is_digits(offset)):
        raise typer.BadParameter(f"expected PARTITION:OFFSET, got {where!r}")
    settings = Settings.from_env()
    found = _letters(settings)
    letter = found.every.get(f"{int(partition)}:{int(offset)}")
    if letter is None:
        fail(f"no dead letter at {where}")
        raise typer.Exit(exit_codes.NOT_FOUND)
    value = letter.value or b""
    try:
        body, encoding = value.decode(), "utf-8"
    except UnicodeDecodeError:
        body, encoding = base64.b64encode(value).decode(), "base64"
    shown = {**_row(letter, found, whole_key=True),
             "headers": {k: _text(v) for k, v in letter.headers},
             "value_encoding": encoding, "value": body}
    if letter.cut:
        shown["kept"] = (f"only the first {len(value)} of {letter.original_bytes} bytes of the "
                         f"{letter.cut}; the whole message (sha256 "
                         f"{letter.header('original_sha256')}) is at {letter.source}")
    if fmt == "json":
        emit_json_line(shown)
        return
    for name, item in shown.items():  # a letter's bytes are anyone's: shown as escapes
        console.print(f"[bold]{name}[/]: ", end="", highlight=False)
        console.print(printable(item if isinstance(item, str) else dumps(item)), markup=False,
                      highlight=False, soft_wrap=True)


@dlq_app.command("redrive")
def redrive_command(
    error_type: ErrorTypes = None, since: Since = None,
    dry_run: Annotated[bool, typer.Option(help="list what would be sent, send nothing")] = False,
    again: Annotated[bool, typer.Option(
        help="also send the copies: letters whose message was redriven before and failed "
             "again (the newest copy of each), once that cause is fixed too")] = False,
) -> None:
    """Send dead letters (those matching the filters; all without one) back to their source
    topic with their original bytes, after the cause was fixed. Prints one JSON line per
    letter sent or skipped, and records on the dead-letter topic where each was sent. A
    message that fails again is dead-lettered again as a copy of its letter, known by that
    record (`dlq list`: copy_of, failed_again); neither is sent again (the copy only with
    --again), so redriving twice changes nothing; a letter whose message was taken may be sent
    again, which the engine dedupes on event_id. Letters of one source place are sent once
    (the line's also_at names the others). A letter cut to fit the topic holds only part
    of the message, and a case event a projection left out would reach downstream consumers
    again out of order (`aftersales projections rebuild` re-applies it once the projection is
    fixed): neither is ever sent (a `skipped` line says why), and the command then exits 1."""
    from kafka.errors import KafkaError

    from aftersales.errors import said
    from aftersales.settings import Settings
    from consumers import kafka_clients
    from consumers.dead_letters import redrive

    settings = Settings.from_env()
    found = _letters(settings)
    letters = _matching(found.letters, error_type, since)
    reasons = {letter.where: _not_again(letter, found, again) for letter in letters}
    whole = [letter for letter in letters
             if not letter.unsendable and not reasons[letter.where]]
    producer = None if dry_run or not whole else kafka_clients.producer(settings.kafka())
    sent = 0
    try:
        for letter in letters:
            if letter.unsendable or reasons[letter.where]:
                emit_json_line({"would_skip" if dry_run else "skipped": letter.where,
                                "reason": letter.unsendable or reasons[letter.where]})
            elif producer is None:
                emit_json_line({"would_send": letter.where, "to": letter.header("source_topic"),
                                **_also(letter, found)})
            else:
                topic = redrive(producer, letter, settings.dlq_topic)
                emit_json_line({"sent": letter.where, "to": topic,
                                "error_type": letter.header("error_type"),
                                **_also(letter, found)})
                sent += 1
    except KafkaError as error:
        fail(f"the broker cannot be reached at {kafka_clients.servers_of(settings.kafka())} "
             f"after {sent} sent: {said(error)}")
        raise typer.Exit(exit_codes.UNAVAILABLE) from None
    finally:
        if producer is not None:
            producer.close(timeout=10)
    before = sum(1 for letter in letters if not letter.unsendable and reasons[letter.where])
    errors.print(f"{'would send' if dry_run else 'sent'} {len(whole) if dry_run else sent} "
                 "dead letter(s) back to their source topics"
                 + (f"; {before} redriven before and failed again, not sent again"
                    if before else ""), highlight=False)
    cut = [letter.where for letter in letters if letter.cut]
    if cut:
        fail(f"{'would not send' if dry_run else 'not sent'}: {len(cut)} dead letter(s) cut "
             f"to fit the dead-letter topic ({', '.join(cut)}): they hold only part of their "
             "message; send the whole from its source partition (`dlq show` names it)")
    projections = [letter.where for letter in letters if letter.projection and not letter.cut
                   and letter.header("source_topic")]
    if projections:
        fail(f"{'would not send' if dry_run else 'not sent'}: {len(projections)} case "
             f"event(s) a projection left out ({', '.join(projections)}): they are never sent "
             "back to the public case-events topic (downstream consumers would get them again "
             "after newer events of their cases, and the projection runner skips them); once "
             "the projection is fixed, `aftersales projections rebuild` re-applies them from "
             "the store")
    strays = [letter.where for letter in letters
              if letter.unsendable and not letter.cut and not letter.header("source_topic")]
    if strays:
        fail(f"{'would not send' if dry_run else 'not sent'}: {len(strays)} record(s) of the "
             f"dead-letter topic name no source topic ({', '.join(strays)}): nothing says "
             "where they came from")
    if cut or projections or strays:
        raise typer.Exit(exit_codes.REFUSED)


def _also(letter: DeadLetter, found: Listing) -> dict[str, str]:
    """The other letters of the letter's source place, sent as one with it."""
    others = found.also_at.get(letter.where)
    return {"also_at": ",".join(others)} if others else {}


def _not_again(letter: DeadLetter, found: Listing, again: bool) -> str:
    """Why redrive does not send the letter, since it was redriven before ("" when it may)."""
    if letter.where in found.failed_again:
        return (f"redriven before: its message failed again and was dead-lettered again at "
                f"{', '.join(found.failed_again[letter.where])}")
    original = found.copy_of.get(letter.where)
    if original is not None and not again:
        return (f"a copy of the dead letter {original}: its message was redriven and failed "
                "again; --again sends it once that cause is fixed")
    return ""
