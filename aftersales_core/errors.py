"""Domain errors: each one says what is wrong in words a desk agent understands."""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused by the domain; nothing was stored."""


class InvalidMoneyError(DomainError, ValueError):
    """An amount that is not money in its currency (finer than the minor unit, too large)."""


class CurrencyMismatchError(DomainError):
    def __init__(self, left: str, right: str) -> None:
        super().__init__(f"cannot mix currencies {left} and {right}")
        self.left, self.right = left, right


class IllegalTransitionError(DomainError):
    def __init__(self, case: str, case_id: object, action: str, status: str) -> None:
        super().__init__(f"{case} {case_id}: cannot {action} while {status}")
        self.status = status


class SelfApprovalError(DomainError):
    def __init__(self, case_id: object, user: str, kind: str = "refund") -> None:
        super().__init__(f"{kind} {case_id}: {user} requested it and may not approve it")


class AlreadyExistsError(DomainError):
    """A case (or an order) with that id exists already: the command would duplicate it."""


class ApprovalRefusedError(DomainError):
    """The approval policy refused this approver (not a supervisor, or the requester)."""


class NotAuthorisedError(DomainError):
    """The principal may not do this (the permission matrix, or an actor named in a body)."""


class RefundCapExceededError(DomainError):
    """The refund would take more than is left to refund on the order."""


class ReturnQuantityExceededError(DomainError):
    """More units would be returned than the order holds outside other returns."""


class UnknownOrderError(DomainError):
    """No such order (or not one the caller may know about)."""


class UnknownCaseError(DomainError):
    """No such case (or not one the caller may know about)."""


class UnknownPrincipalError(DomainError):
    """No principal by that name or id."""


class InvalidCommandError(DomainError, ValueError):
    """A command's values break a rule of the domain; the message names it."""


class PrincipalExistsError(InvalidCommandError):
    """A principal with that (normalised) name exists already."""


class ConcurrentChangeError(DomainError):
    """Someone else changed the case between our load and our save: reload and try again."""


class UnknownPolicyError(DomainError):
    """No policy, or no such version of it, is registered."""
