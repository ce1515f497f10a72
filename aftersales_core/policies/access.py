"""``access``: may this principal do this operation on this object, and in which role?

Inputs (JSON): ``operation``; ``principal`` (``id``, ``roles``, ``customer_id``, ``enabled``)
as the store holds it; ``facts`` of the object and of the command (the case's customer and
requester, whether a refund needs a supervisor, a message's direction, a table's name…).
The outcome is ``allow`` (details: the ``role`` acted in, the ``view`` of personal data, the
``rows`` a listing shows) or ``deny`` (details: the deciding ``rule`` and whether the denial
must read as "not found", ``hide``). The matrix itself is data: policies/access_matrix.py.
"""

from __future__ import annotations

from aftersales_core.decisions import JSON, PolicyDecision
from aftersales_core.outcomes import Permission
from aftersales_core.policies.access_matrix import (
    ACCESS_V1,
    ACCESS_V2,
    ACCESS_V3,
    ACCESS_V4,
    ACCESS_V5,
    ACCESS_V6,
    Condition,
    Matrix,
    Rule,
)
from aftersales_core.policies.findings import Findings
from aftersales_core.policies.reading import Reader
from aftersales_core.policies.registry import policy

POLICY_ID = "access"
MISSING = object()


def holds(condition: Condition, principal: JSON, facts: JSON) -> bool:
    """Whether one condition holds; a missing fact or principal attribute fails it."""
    value = facts.get(condition.fact, MISSING)
    if value is MISSING:
        return False
    if condition.empty:
        return isinstance(value, list) and not value
    if condition.one_of:
        return any(value is option or (value == option and type(value) is type(option))
                   for option in condition.one_of)
    if condition.principal is not None:
        theirs = principal.get(condition.principal)
        if condition.same:
            return value is not None and theirs is not None and value == theirs
        return value is None or theirs is None or value != theirs
    return False


def explain(condition: Condition, facts: JSON) -> str:
    """Why a condition failed: its reason, after the members of a list that had to be empty."""
    value = facts.get(condition.fact)
    if condition.empty and isinstance(value, list) and value:
        return f"{', '.join(str(v) for v in value)}: {condition.reason}"
    return condition.reason


def failed_conditions(rule: Rule, matrix: Matrix, principal: JSON, facts: JSON) -> list[str]:
    return [name for name in rule.conditions
            if not holds(matrix.conditions[name], principal, facts)]


def decide(inputs: JSON, matrix: Matrix, version: int) -> PolicyDecision:
    read = Reader(POLICY_ID, inputs)
    operation = read.text("operation")
    principal, facts = inputs.get("principal"), inputs.get("facts")
    if not isinstance(principal, dict) or not isinstance(facts, dict):
        raise read.error("principal", "and facts must be JSON objects")
    roles = [r for r in principal.get("roles") or [] if isinstance(r, str)]
    findings = Findings()
    details: JSON = {"role": None, "view": None, "rows": None, "rule": None, "hide": False}

    recorded = {**inputs, "principal": dict(principal), "facts": dict(facts)}  # a copy: the
    # principal's and facts' values are flat JSON (strings, lists of strings, booleans)

    def decision(outcome: Permission) -> PolicyDecision:
        return PolicyDecision(POLICY_ID, version, recorded, outcome,
                              findings.reasons, findings.rules, details)

    def deny(rule: str, reason: str) -> PolicyDecision:
        findings.reject(rule, reason)
        details["rule"] = rule
        return decision(Permission.DENY)

    rules = matrix.operations.get(operation)
    if rules is None:
        return deny("access.default_deny",
                    f"{operation} is not in the permission matrix: denied by default")
    if principal.get("enabled") is not True:
        return deny("access.disabled", "the principal is disabled: it may do nothing")
    held = [rule for rule in rules if rule.role in roles]
    if not held:
        allowed = ", ".join(roles_for(operation, matrix))
        return deny("access.role",
                    f"{', '.join(roles) or 'no role'} may not {operation}; {allowed} may")
    failures: list[tuple[Rule, list[str]]] = []
    for rule in held:
        failed = failed_conditions(rule, matrix, principal, facts)
        if not failed:
            allowed_by = f"access.{operation}.{rule.role}"
            conditions = f" ({', '.join(rule.conditions)})" if rule.conditions else ""
            findings.note(allowed_by, f"{rule.role} may {operation}{conditions}")
            details.update(role=rule.role, view=rule.view, rows=rule.rows, rule=allowed_by)
            return decision(Permission.ALLOW)
        failures.append((rule, failed))
    for rule, failed in failures:
        for name in failed:
            findings.reject(f"access.{name}",
                            f"as {rule.role}: {explain(matrix.conditions[name], facts)}")
    details["rule"] = f"access.{failures[0][1][0]}"
    details["hide"] = all(
        any(matrix.conditions[name].hide for name in failed) for _, failed in failures
    )
    return decision(Permission.DENY)


def roles_for(operation: str, matrix: Matrix = ACCESS_V6) -> list[str]:
    """The roles that may do an operation on some condition (for messages and tests)."""
    return list(dict.fromkeys(rule.role for rule in matrix.operations.get(operation, ())))


@policy(POLICY_ID, 1)
def access_v1(inputs: JSON) -> PolicyDecision:
    return decide(inputs, ACCESS_V1, 1)


@policy(POLICY_ID, 2)
def access_v2(inputs: JSON) -> PolicyDecision:
    """v2: v1 and the operations on policy books (access_matrix.OPERATIONS_V2)."""
    return decide(inputs, ACCESS_V2, 2)


@policy(POLICY_ID, 3)
def access_v3(inputs: JSON) -> PolicyDecision:
    """v3: v2, and customers never set the fields only staff or policy set (who pays the return
    shipping, its estimate, a price reduction's amount, a new case's id): the command's
    ``staff_fields`` fact names those its body sets (access_matrix.OPERATIONS_V3)."""
    return decide(inputs, ACCESS_V3, 3)


@policy(POLICY_ID, 4)
def access_v4(inputs: JSON) -> PolicyDecision:
    """v4: v3, the list of erasures (``ListErasures``) for auditors and administrators, and an
    administrator's API key is issued by that administrator only: never by another
    administrator, who could then act as them (``IssueApiKey``'s ``holder_id`` and
    ``holder_is_admin`` facts; access_matrix.OPERATIONS_V4)."""
    return decide(inputs, ACCESS_V4, 4)


@policy(POLICY_ID, 5)
def access_v5(inputs: JSON) -> PolicyDecision:
    """v5: v4, and staff who are the order's customer act there as its buyer: a return they
    request on it sets none of the fields only staff set, and they do not resolve their own
    return (access_matrix.OPERATIONS_V5)."""
    return decide(inputs, ACCESS_V5, 5)


@policy(POLICY_ID, 6)
def access_v6(inputs: JSON) -> PolicyDecision:
    """v6: v5, and the payments role queries no projection: it issues, settles and records the
    failure of refunds and reads cases redacted, nothing else (access_matrix.OPERATIONS_V6)."""
    return decide(inputs, ACCESS_V6, 6)
