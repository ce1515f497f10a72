"""Domain errors: each one says what is wrong in words a desk agent understands."""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused by the domain; nothing was stored."""

    code = "refused"


class InvalidMoneyError(DomainError, ValueError):
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


class ApprovalRefusedError(DomainError):
    """The approval policy refused this approver (not a supervisor, or the requester)."""

    code = "approval_refused"


class NotAuthorisedError(DomainError):
    code = "not_authorised"


class RefundCapExceededError(DomainError):
    code = "refund_cap_exceeded"


class ReturnQuantityExceededError(DomainError):
    code = "return_quantity_exceeded"


class UnknownOrderError(DomainError):
    code = "unknown_order"


class UnknownCaseError(DomainError):
    code = "unknown_case"


class UnknownPrincipalError(DomainError):
    code = "unknown_principal"


class InvalidCommandError(DomainError, ValueError):
    code = "invalid_command"


class PrincipalExistsError(InvalidCommandError):
    code = "principal_exists"


class ConcurrentChangeError(DomainError):
    """Someone else changed the case between our load and our save: reload and try again."""

    code = "concurrent_change"


class PreconditionFailedError(DomainError):
    """The case is not at the version the caller said it expects (HTTP If-Match): it moved on
    since the caller read it; nothing was saved."""

    code = "precondition_failed"


class UnknownPolicyError(DomainError):
    code = "unknown_policy"
