"""Map every failure to an exit code and a one-line message (README "Exit codes").

Store and broker outages are 5, bad input and arguments 2; nothing prints a traceback (run
with --verbose to log one). Messages pass through `scrub`: no configured secret is ever shown."""

from __future__ import annotations

import logging
import sqlite3

import psycopg
from eventsourcing.persistence import PersistenceError
from kafka.errors import KafkaError

from aftersales import exit_codes
from aftersales.brokers import BrokerStartError, KafkaFetchError
from aftersales.inputs import InputFileError
from aftersales.output import OutputFileError
from aftersales.settings import ConfigError, scrub
from aftersales_core.errors import (
    ConcurrentChangeError,
    DomainError,
    InvalidCommandError,
    InvalidMoneyError,
    NotAuthorisedError,
    UnknownCaseError,
    UnknownOrderError,
    UnknownPrincipalError,
)
from privacy.errors import KeyEncryptionKeyError
from projections.apply import OutdatedProjection
from schemas.errors import InputRefused

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


def _classify(problem: BaseException) -> tuple[int, str]:
    if isinstance(problem, OutdatedProjection):
        return exit_codes.UNAVAILABLE, str(problem)
    if isinstance(problem, (InputRefused, ConfigError, InputFileError, OutputFileError,
                            KeyEncryptionKeyError)):
        return exit_codes.INVALID, str(problem)
    if isinstance(problem, (UnknownCaseError, UnknownOrderError, UnknownPrincipalError)):
        return exit_codes.NOT_FOUND, str(problem)
    if isinstance(problem, NotAuthorisedError):
        return exit_codes.DENIED, str(problem)
    if isinstance(problem, ConcurrentChangeError):
        return exit_codes.CONFLICT, str(problem)
    if isinstance(problem, (InvalidCommandError, InvalidMoneyError)):
        return exit_codes.INVALID, str(problem)
    if isinstance(problem, DomainError):
        return exit_codes.REFUSED, str(problem)
    if isinstance(problem, PersistenceError):
        return exit_codes.UNAVAILABLE, f"the event store is unavailable: {_said(problem)}"
    if isinstance(problem, (psycopg.Error, sqlite3.Error)):
        return exit_codes.UNAVAILABLE, f"the read database is unavailable: {_said(problem)}"
    if isinstance(problem, KafkaError):
        return exit_codes.UNAVAILABLE, f"the broker is unavailable: {_said(problem)}"
    if isinstance(problem, (BrokerStartError, KafkaFetchError)):
        return exit_codes.UNAVAILABLE, f"the local broker could not start: {_said(problem)}"
    if isinstance(problem, OSError):
        return exit_codes.UNAVAILABLE, f"a file or connection failed: {_said(problem)}"
    return exit_codes.INTERNAL, (f"internal error: {_said(problem)} (run with --verbose for "
                                 "the traceback)")


def _said(problem: BaseException) -> str:
    text = str(problem).strip()
    name = type(problem).__name__
    return f"{name}: {text}" if text and name not in text else text or name
