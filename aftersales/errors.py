"""Map every failure to an exit code and a one-line message (README "Exit codes").

Store and broker outages are 5, bad input and arguments 2; nothing prints a traceback (run
with --verbose to log one). Messages pass through `scrub`: no configured secret is ever shown."""

from __future__ import annotations

import logging
import sqlite3
import sys

import typer

from aftersales import exit_codes
from aftersales.inputs import InputFileError
from aftersales.output import OutputFileError, fail
from aftersales.secrets import scrub
from aftersales_core.errors import (
    ConcurrentChangeError,
    DomainError,
    IdempotencyKeyConflictError,
    InvalidCommandError,
    InvalidMoneyError,
    NotAuthorisedError,
    PreconditionFailedError,
    UnknownCaseError,
    UnknownOrderError,
    UnknownPrincipalError,
    UnknownVersionError,
)
from privacy.errors import KeyEncryptionKeyError

log = logging.getLogger("aftersales")


def one_line(text: str, limit: int = 1000) -> str:
    """Secrets out, whitespace runs (line breaks too) as one space, at most ``limit`` chars."""
    flat = " ".join(scrub(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def classify(problem: BaseException) -> tuple[int, str]:
    """The exit code and the one-line message for a failure of any kind."""
    code, message = _classify(problem)
    if code == exit_codes.INTERNAL:
        log.debug("internal error", exc_info=problem)
    return code, one_line(message)


def exit_for(problem: BaseException) -> typer.Exit:
    """Print a failure's one line; the exit that carries its code (``raise exit_for(p)``)."""
    code, message = classify(problem)
    fail(message)
    return typer.Exit(code)


def raised_by(problem: BaseException, module: str, *names: str) -> bool:
    """Whether ``problem`` is one of the named exceptions of ``module``, looked up only when the
    module is loaded: nothing can have raised an exception of a module nobody imported, so a
    command that never touched Kafka or PostgreSQL never imports them to say what went wrong."""
    loaded = sys.modules.get(module)
    return loaded is not None and isinstance(problem, tuple(getattr(loaded, n) for n in names))


def _classify(problem: BaseException) -> tuple[int, str]:
    if raised_by(problem, "projections.apply", "OutdatedProjection") or \
            raised_by(problem, "aftersales.bootstrap", "NoStoreError"):
        return exit_codes.UNAVAILABLE, str(problem)
    if isinstance(problem, (InputFileError, OutputFileError, KeyEncryptionKeyError)) or \
            raised_by(problem, "schemas.errors", "InputRefused") or \
            raised_by(problem, "aftersales.settings", "ConfigError") or \
            raised_by(problem, "projections.db", "MissingFolderError"):
        return exit_codes.INVALID, str(problem)
    if isinstance(problem, (UnknownCaseError, UnknownOrderError, UnknownPrincipalError,
                            UnknownVersionError)):
        return exit_codes.NOT_FOUND, str(problem)
    if isinstance(problem, NotAuthorisedError):
        return exit_codes.DENIED, str(problem)
    if isinstance(problem, (ConcurrentChangeError, PreconditionFailedError,
                            IdempotencyKeyConflictError)):
        return exit_codes.CONFLICT, str(problem)
    if isinstance(problem, (InvalidCommandError, InvalidMoneyError)):
        return exit_codes.INVALID, str(problem)
    if isinstance(problem, DomainError):
        return exit_codes.REFUSED, str(problem)
    if raised_by(problem, "eventsourcing.persistence", "PersistenceError"):
        return exit_codes.UNAVAILABLE, f"the event store is unavailable: {said(problem)}"
    if isinstance(problem, sqlite3.Error) or raised_by(problem, "psycopg", "Error"):
        return exit_codes.UNAVAILABLE, f"the read database is unavailable: {said(problem)}"
    if raised_by(problem, "kafka.errors", "KafkaError"):
        return exit_codes.UNAVAILABLE, f"the broker is unavailable: {said(problem)}"
    if raised_by(problem, "aftersales.brokers.process", "BrokerStartError") or \
            raised_by(problem, "aftersales.brokers.kafka_jars", "KafkaFetchError"):
        return exit_codes.UNAVAILABLE, f"the local broker could not start: {said(problem)}"
    if isinstance(problem, OSError):
        return exit_codes.UNAVAILABLE, f"a file or connection failed: {said(problem)}"
    return exit_codes.INTERNAL, (f"internal error: {said(problem)} (run with --verbose for "
                                 "the traceback)")


def said(problem: BaseException) -> str:
    text = str(problem).strip()
    name = type(problem).__name__
    return f"{name}: {text}" if text and name not in text else text or name
