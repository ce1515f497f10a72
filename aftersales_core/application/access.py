"""Who may do what, decided in the application for every entry point alike.

An entry point (the CLI, the Kafka consumer, the scheduler, later the service API) says only
*who* calls: a ``Caller`` with the principal id it authenticated. Every service asks ``Access``
before it changes or shows anything: the principal is loaded from the store as it is now
(unknown or disabled: denied), the object's facts are read, and the ``access`` policy decides
whether the operation is allowed and in which role the principal acts. The answer is an
``Actor`` (principal id and role) that the events record; the command body never names one.

A denial stores nothing on any case: it is written to the denial log (the security log
auditors list) and raised. When the matrix says so (a customer and someone else's case or
order) it is raised as "not found", word for word what a case or order that does not exist
gives, so a customer never learns that another customer's case exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from aftersales_core import policies
from aftersales_core.application.store import Store, fold, unknown_case, unknown_order
from aftersales_core.decisions import PolicyDecision
from aftersales_core.domain.actor import Actor
from aftersales_core.domain.complaints import ComplaintCase
from aftersales_core.domain.order import Order
from aftersales_core.domain.principals import Principal
from aftersales_core.domain.refunds import RefundCase
from aftersales_core.domain.returns import ReturnCase
from aftersales_core.errors import (
    DomainError,
    NotAuthorisedError,
    PreconditionFailedError,
    UnknownCaseError,
    UnknownOrderError,
)
from aftersales_core.outcomes import Permission
from aftersales_core.policies.access import roles_for

C = TypeVar("C", ReturnCase, RefundCase, ComplaintCase)
MAX_REMEMBERED = 10_000
CASE_TYPES = (ReturnCase, RefundCase, ComplaintCase)


@dataclass(frozen=True)
class Expectation:
    """The version of a case the caller acts on, as it last saw it (HTTP ``If-Match``): a
    command on the case is refused when the case has moved on since."""

    case_id: UUID
    version: int


@dataclass(frozen=True)
class Caller:
    """Who calls, as the entry point authenticated them, and when the call arrived (the entry
    point's clock: the domain reads none).

    ``roles``, when set, narrows the roles the principal may act in for this call (an OIDC
    token naming some of them): the store's roles are the most it ever gets. ``if_match``
    holds the case version the caller expects (checked once the caller may see the case)."""

    principal_id: UUID
    received_at: datetime
    via: str = "cli"  # cli, kafka, scheduler, http
    roles: frozenset[str] | None = None
    if_match: Expectation | None = None


@dataclass(frozen=True)
class Grant:
    """An allowed operation: who acts in which role, and what they may see."""

    actor: Actor
    view: str  # "full" or "redacted" (personal data)
    rows: str  # "all" or "own" (listings: only the principal's customer's rows)
    customer_id: str | None  # the principal's customer id (for "own" rows)
    decision: PolicyDecision


@dataclass(frozen=True)
class Denial:
    """One refused operation, as the denial log keeps it."""

    principal_id: str
    principal: str | None  # the principal's name, when it exists
    operation: str
    case_id: str | None
    rule: str
    reasons: list[str]
    at: datetime  # when the entry point received the call
    via: str
    inputs: dict[str, Any] = field(default_factory=dict)


class DenialLog(Protocol):
    def record(self, denial: Denial) -> None: ...


class Access:
    def __init__(self, store: Store, denials: DenialLog) -> None:
        self.store = store
        self.denials = denials
        self._principals: dict[UUID, Principal] = {}

    # ---- the principal --------------------------------------------------------------------
    def principal(self, caller: Caller, operation: str = "Authenticate") -> Principal:
        """The caller's principal as the store holds it now; unknown or disabled: denied."""
        found = self._current(caller.principal_id)
        if found is None:
            self._log(caller, None, operation, None, "access.unknown_principal",
                      ["no principal with this id: unknown principals may do nothing"], {})
            raise NotAuthorisedError("unknown principal: ask an administrator to add it")
        if not found.enabled:
            self._log(caller, found, operation, None, "access.disabled",
                      ["the principal is disabled: it may do nothing"], {})
            raise NotAuthorisedError(f"principal {found.name} is disabled")
        return found

    def _current(self, principal_id: UUID) -> Principal | None:
        """The principal at its latest stored version: the store is asked for newer events on
        every call (a revocation elsewhere counts at once); only the folding is remembered,
        per version (these principals are read here, never changed)."""
        events = self.store.history(principal_id)
        if not events:
            return None
        known = self._principals.get(principal_id)
        if known is not None and known.version == events[-1].originator_version:
            return known
        found = fold(None, events)
        if not isinstance(found, Principal):
            return None
        if len(self._principals) >= MAX_REMEMBERED:
            self._principals.clear()
        self._principals[principal_id] = found
        return found

    def name_of(self, principal_id: str) -> str | None:
        """The name of the principal a recorded event names (``by``); None when no principal
        has that id."""
        try:
            found = self._current(UUID(principal_id))
        except ValueError:
            return None
        return None if found is None else found.name

    def forget(self) -> None:
        """Drop the remembered principals (after an erasure: their folded names go too)."""
        self._principals.clear()

    # ---- deciding -------------------------------------------------------------------------
    def require(
        self,
        caller: Caller,
        operation: str,
        facts: dict[str, Any] | None = None,
        *,
        case_id: UUID | None = None,
        hidden: Callable[[], DomainError] | None = None,
        principal: Principal | None = None,
    ) -> Grant:
        """Allow ``operation`` on an object with these ``facts``, or log the denial and raise
        (``hidden()`` when the denial must read as "not found")."""
        principal = principal or self.principal(caller, operation)
        decision = self.decision(caller, principal, operation, facts)
        details = decision.details
        if Permission(decision.outcome) is Permission.ALLOW:
            return Grant(
                actor=Actor(principal.principal_id, details["role"]),
                view=details["view"],
                rows=details["rows"],
                customer_id=principal.customer_id,
                decision=decision,
            )
        self._log(caller, principal, operation, case_id, details["rule"],
                  list(decision.reasons), decision.inputs)
        if details["hide"] and hidden is not None:
            raise hidden()
        raise NotAuthorisedError(f"{operation} denied: {'; '.join(decision.reasons)}")

    @staticmethod
    def decision(caller: Caller, principal: Principal, operation: str,
                 facts: dict[str, Any] | None = None) -> PolicyDecision:
        """The ``access`` policy's decision, neither logged nor raised: ``require`` acts on it,
        and a page asks it whether to offer an action, or why not."""
        return policies.evaluate(
            "access",
            {"operation": operation, "principal": _view(caller, principal),
             "facts": dict(facts or {})},
        )

    def may_try(
        self, caller: Caller, operation: str, case_id: UUID | None = None
    ) -> Principal:
        """The principal, if some role it holds may do ``operation`` on some object; else the
        denial is logged and raised before any object is read (so a refusal never depends on,
        nor reveals, whether the object exists)."""
        principal = self.principal(caller, operation)
        if not set(_view(caller, principal)["roles"]) & set(roles_for(operation)):
            self.require(caller, operation, {}, case_id=case_id, principal=principal)
        return principal

    def case(
        self,
        caller: Caller,
        operation: str,
        case_id: UUID,
        cls: type[C],
        extra: dict[str, Any] | None = None,
    ) -> tuple[Grant, C]:
        """Load a case for an operation on it: allowed, or denied (and logged) as above."""
        principal = self.may_try(caller, operation, case_id)
        aggregate = self.store.load_any(case_id)
        if not isinstance(aggregate, CASE_TYPES):
            raise self.absent(caller, principal, operation, lambda: unknown_case(case_id),
                              case_id=case_id, facts={"case_id": str(case_id)})
        if not isinstance(aggregate, cls):
            # another kind of case: the operation's rules (a refund's threshold, who asked for
            # it) are not judged on its facts; the caller is told what it is when it may read
            # it, and otherwise what a missing case gets (the denial logged as a read)
            self.require(caller, "ReadCase", case_facts(aggregate), case_id=case_id,
                         hidden=lambda: unknown_case(case_id), principal=principal)
            raise UnknownCaseError(f"{case_id} is a {aggregate.KIND} case, not a {cls.KIND} case")
        grant = self.require(
            caller,
            operation,
            {**case_facts(aggregate), **(extra or {})},
            case_id=case_id,
            hidden=lambda: unknown_case(case_id),
            principal=principal,
        )
        expected = caller.if_match
        if expected is not None and expected.case_id == case_id \
                and expected.version != aggregate.version:
            raise PreconditionFailedError(
                f"case {case_id} is at version {aggregate.version}, not {expected.version}: "
                "it changed since you read it; read it again and decide anew")
        return grant, aggregate

    def absent(
        self,
        caller: Caller,
        principal: Principal | None,
        operation: str,
        hidden: Callable[[], DomainError],
        *,
        case_id: UUID | None = None,
        facts: dict[str, Any] | None = None,
    ) -> DomainError:
        """The "not found" to raise for a case or order that does not exist, after the work one
        of someone else's gets: the operation decided on the facts of an object of no
        customer, and the denial logged when the matrix hides it (a customer's). A customer
        asking about another customer's case or order is answered after that same decision
        and denial record, so not even the time it takes tells the two apart."""
        principal = principal or self.principal(caller, operation)
        decision = self.decision(caller, principal, operation,
                                 {**(facts or {}), "customer_id": None})
        details = decision.details
        if Permission(decision.outcome) is Permission.DENY and details["hide"]:
            self._log(caller, principal, operation, case_id, details["rule"],
                      list(decision.reasons), decision.inputs)
        return hidden()

    def placed_order(self, caller: Caller, principal: Principal, operation: str,
                     order_id: str, facts: dict[str, Any] | None = None) -> Order:
        """The placed order a command names; one that does not exist (or is not placed) is
        "not found" after the work another customer's order gets (``absent``)."""
        try:
            return self.store.placed_order(order_id)
        except UnknownOrderError:
            raise self.absent(caller, principal, operation, lambda: unknown_order(order_id),
                              facts={"order_id": order_id, **(facts or {})}) from None

    def refuse(
        self, caller: Caller, principal: Principal, operation: str, rule: str, reason: str
    ) -> NotAuthorisedError:
        """Log a denial an entry point found (an actor named in a body) and return the error
        to raise."""
        self._log(caller, principal, operation, None, rule, [reason], {})
        return NotAuthorisedError(reason)

    def _log(
        self,
        caller: Caller,
        principal: Principal | None,
        operation: str,
        case_id: UUID | None,
        rule: str,
        reasons: list[str],
        inputs: dict[str, Any],
    ) -> None:
        self.denials.record(
            Denial(
                principal_id=str(caller.principal_id),
                principal=principal.name if principal else None,
                operation=operation,
                case_id=None if case_id is None else str(case_id),
                rule=rule,
                reasons=reasons,
                at=caller.received_at,
                via=caller.via,
                inputs=inputs,
            )
        )


def _view(caller: Caller, principal: Principal) -> dict[str, Any]:
    """What the ``access`` policy reads about the principal, in the roles this call may use."""
    view = principal.view()
    if caller.roles is not None:
        view["roles"] = [r for r in view["roles"] if r in caller.roles]
    return view


def case_facts(case: Aggregate) -> dict[str, Any]:
    """What the ``access`` policy reads about a case: whose it is and who asked for it."""
    facts: dict[str, Any] = {
        "case_id": str(case.id),
        "case_type": getattr(case, "KIND", None),
        "customer_id": getattr(case, "customer_id", None),
    }
    if isinstance(case, (ReturnCase, RefundCase)):
        facts["requested_by"] = case.requested_by
    if isinstance(case, ComplaintCase):
        facts["requested_by"] = case.filed_by
    if isinstance(case, RefundCase):
        approval = next(
            (d for d in reversed(case.decisions) if d.policy_id == "refund.approval"), None
        )
        facts["requires_supervisor"] = bool(
            approval is None or approval.details.get("requires_supervisor", True)
        )
    return facts
