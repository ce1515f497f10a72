"""The registry of policy versions: every version ever used stays loadable for re-runs."""

from __future__ import annotations

from collections.abc import Callable

from aftersales_core.decisions import JSON, PolicyDecision
from aftersales_core.errors import UnknownPolicyError

PolicyFunction = Callable[[JSON], PolicyDecision]

_POLICIES: dict[tuple[str, int], PolicyFunction] = {}
_CURRENT: dict[str, int] = {}


def policy(
    policy_id: str, version: int, *, current: bool = True
) -> Callable[[PolicyFunction], PolicyFunction]:
    """Register a pure function ``inputs -> PolicyDecision`` as one version of a policy."""

    def register(function: PolicyFunction) -> PolicyFunction:
        key = (policy_id, version)
        if key in _POLICIES:
            raise ValueError(f"policy {policy_id} v{version} is registered twice")
        _POLICIES[key] = function
        if current and version >= _CURRENT.get(policy_id, 0):
            _CURRENT[policy_id] = version
        return function

    return register


def current_version(policy_id: str) -> int:
    try:
        return _CURRENT[policy_id]
    except KeyError:
        raise UnknownPolicyError(f"no policy named {policy_id!r}") from None


def evaluate(policy_id: str, inputs: JSON, version: int | None = None) -> PolicyDecision:
    """Evaluate the current (or the given) version of a policy on JSON inputs."""
    version = current_version(policy_id) if version is None else version
    try:
        function = _POLICIES[(policy_id, version)]
    except KeyError:
        raise UnknownPolicyError(f"no policy {policy_id!r} version {version}") from None
    decision = function(inputs)
    if decision.policy_id != policy_id or decision.policy_version != version:
        raise UnknownPolicyError(f"policy {policy_id} v{version} returned a foreign decision")
    return decision


def rerun(decision: PolicyDecision) -> PolicyDecision:
    """Evaluate a recorded decision again from its recorded inputs and policy version."""
    return evaluate(decision.policy_id, decision.inputs, decision.policy_version)


def registered() -> list[tuple[str, int]]:
    return sorted(_POLICIES)

