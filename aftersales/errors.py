"""Map failures to exit codes and clear messages; unknown failures are not swallowed."""

from __future__ import annotations

from eventsourcing.persistence import OperationalError, PersistenceError

from aftersales import exit_codes
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


def classify(problem: Exception) -> tuple[int, str]:
    """The exit code and message for a failed command; re-raises what it does not know."""
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
    if isinstance(problem, (OperationalError, PersistenceError)):
        return exit_codes.UNAVAILABLE, f"the event store is unavailable: {problem}"
    raise problem
