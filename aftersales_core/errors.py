"""Domain errors: each one says what is wrong in words a desk agent understands."""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused by the domain; nothing was stored."""

    code = "refused"


class InvalidMoneyError(DomainError, ValueError):
    """An amount that is not money in its currency (finer than the minor unit, too large)."""

    code = "invalid_money"


class CurrencyMismatchError(DomainError):
    code = "currency_mismatch"

    def __init__(self, left: str, right: str) -> None:
        super().__init__(f"cannot mix currencies {left} and {right}")
        self.left, self.right = left, right


class IllegalTransitionError(DomainError):
    code = "illegal_transition"

    def __init__(self, case: str, case_id: object, action: str, status: str) -> None:
        super().__init__(f"{case} {case_id}: cannot {action} while {status}")
        self.status = status


class SelfApprovalError(DomainError):
    code = "self_approval"

    def __init__(self, case_id: object, user: str, kind: str = "refund") -> None:
        super().__init__(f"{kind} {case_id}: {user} requested it and may not approve it")


class AlreadyExistsError(DomainError):
    """A case (or an order) with that id exists already: the command would duplicate it."""

    code = "already_exists"


class IdempotencyKeyConflictError(DomainError):
    """A command's ``idempotency_key`` opened a case for a different request: the key cannot
    serve another one (exit 4, HTTP 409); an exact retry is answered as before."""

    code = "idempotency_key_conflict"


class ApprovalRefusedError(DomainError):
    """The approval policy refused this approver (not a supervisor, or the requester)."""

    code = "approval_refused"


class NotAuthorisedError(DomainError):
    """The principal may not do this (the permission matrix, or an actor named in a body)."""

    code = "not_authorised"


class RefundCapExceededError(DomainError):
    """The refund would take more than is left to refund on the order."""

    code = "refund_cap_exceeded"


class ReturnQuantityExceededError(DomainError):
    """More units would be returned than the order holds outside other returns."""

    code = "return_quantity_exceeded"


class UnknownOrderError(DomainError):
    """No such order (or not one the caller may know about)."""

    code = "unknown_order"


class UnknownCaseError(DomainError):
    """No such case (or not one the caller may know about)."""

    code = "unknown_case"


class UnknownPrincipalError(DomainError):
    """No principal by that name or id."""

    code = "unknown_principal"


class InvalidCommandError(DomainError, ValueError):
    """A command's values break a rule of the domain; the message names it."""

    code = "invalid_command"


class InvalidFieldError(InvalidCommandError):
    """A field or parameter of a request is wrong (or several, wrong together): ``fields`` names
    each (the service API lists them in its problem document, as it does every bad field of a
    message)."""

    code = "invalid"

    def __init__(self, field: str, message: str, *others: str) -> None:
        super().__init__(f"{', '.join((field, *others))}: {message}")
        self.fields = tuple((name, message) for name in (field, *others))


class PrincipalExistsError(InvalidCommandError):
    """A principal with that (normalised) name exists already."""

    code = "principal_exists"


class UnknownVersionError(DomainError):
    """No such version of a policy book (the message names it and the versions there are)."""

    code = "unknown_version"


class ConcurrentChangeError(DomainError):
    """Someone else changed the case between our load and our save: reload and try again."""

    code = "concurrent_change"


class PreconditionFailedError(DomainError):
    """The case is not at the version the caller said it expects (HTTP If-Match): it moved on
    since the caller read it; nothing was saved."""

    code = "precondition_failed"


class UnknownPolicyError(DomainError):
    """No policy, or no such version of it, is registered."""

    code = "unknown_policy"
