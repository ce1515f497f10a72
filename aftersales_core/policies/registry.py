"""The registry of policy versions: every version ever used stays loadable for re-runs.

A version is a pure function of JSON inputs, and of its settings when it has any: the frozen
dataclass of versioned data beside it. Its built-in settings (``defaults``) are what decisions
recorded before policy books used; a merchant's policy book supplies others
(``aftersales_core.policybook``), and the decision records which.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aftersales_core.decisions import JSON, PolicyDecision
from aftersales_core.errors import UnknownPolicyError

PolicyFunction = Callable[..., PolicyDecision]


class _NoSettings:
    def __repr__(self) -> str:
        return "no settings"


NO_SETTINGS: Any = _NoSettings()


@dataclass(frozen=True)
class Version:
    """One registered version: its function and its built-in settings."""

    policy_id: str
    version: int
    function: PolicyFunction
    defaults: Any = NO_SETTINGS

    @property
    def has_settings(self) -> bool:
        return self.defaults is not NO_SETTINGS

    def __call__(self, inputs: JSON, settings: Any = None) -> PolicyDecision:
        if not self.has_settings:
            if settings is not None:
                raise UnknownPolicyError(f"policy {self.policy_id} v{self.version} takes no "
                                         "settings")
            return self.function(inputs)
        chosen = self.defaults if settings is None else settings
        if type(chosen) is not type(self.defaults):
            raise UnknownPolicyError(
                f"policy {self.policy_id} v{self.version} takes {type(self.defaults).__name__} "
                f"settings, not {type(chosen).__name__}")
        return self.function(inputs, chosen)


_POLICIES: dict[tuple[str, int], Version] = {}
_CURRENT: dict[str, int] = {}


def policy(
    policy_id: str, version: int, *, settings: Any = NO_SETTINGS, current: bool = True
) -> Callable[[PolicyFunction], PolicyFunction]:
    """Register a pure function as one version of a policy: ``inputs -> PolicyDecision``, or
    ``(inputs, settings) -> PolicyDecision`` when ``settings`` (its built-in ones) are given."""

    def register(function: PolicyFunction) -> PolicyFunction:
        key = (policy_id, version)
        if key in _POLICIES:
            raise ValueError(f"policy {policy_id} v{version} is registered twice")
        _POLICIES[key] = Version(policy_id, version, function, settings)
        if current and version >= _CURRENT.get(policy_id, 0):
            _CURRENT[policy_id] = version
        return function

    return register


def current_version(policy_id: str) -> int:
    try:
        return _CURRENT[policy_id]
    except KeyError:
        raise UnknownPolicyError(f"no policy named {policy_id!r}") from None


def version_of(policy_id: str, version: int) -> Version:
    try:
        return _POLICIES[(policy_id, version)]
    except KeyError:
        raise UnknownPolicyError(f"no policy {policy_id!r} version {version}") from None


def evaluate(
    policy_id: str, inputs: JSON, version: int | None = None, settings: Any = None
) -> PolicyDecision:
    """Evaluate the current (or the given) version of a policy on JSON inputs, with its
    built-in settings or the ``settings`` given."""
    version = current_version(policy_id) if version is None else version
    decision = version_of(policy_id, version)(inputs, settings)
    if decision.policy_id != policy_id or decision.policy_version != version:
        raise UnknownPolicyError(f"policy {policy_id} v{version} returned a foreign decision")
    return decision


def rerun(decision: PolicyDecision) -> PolicyDecision:
    """Evaluate a decision recorded before policy books again, from its recorded inputs and
    policy version with that version's built-in settings. A decision that names the book it
    used is re-run with that book's settings (``aftersales_core.policybook.rerun``)."""
    if decision.book is not None:
        raise UnknownPolicyError(
            f"this {decision.policy_id} v{decision.policy_version} decision used the settings of "
            f"a policy book ({decision.book.get('book')} version "
            f"{decision.book.get('book_version')}): re-run it with that book")
    return evaluate(decision.policy_id, decision.inputs, decision.policy_version)


def registered() -> list[tuple[str, int]]:
    return sorted(_POLICIES)


def describe() -> dict[str, Any]:
    return {pid: {"current": ver} for pid, ver in sorted(_CURRENT.items())}
