"""Findings: the rules a policy applied and the sentences that explain them, in order."""

from __future__ import annotations

from aftersales_core.outcomes import Eligibility


class Findings:
    """Collects rule ids and reasons while a policy runs; the worst finding sets the outcome."""

    def __init__(self) -> None:
        self._rules: list[str] = []
        self._reasons: list[str] = []
        self.rejected = False
        self.referred = False

    def note(self, rule: str, reason: str) -> None:
        if rule not in self._rules:
            self._rules.append(rule)
        self._reasons.append(reason)

    def reject(self, rule: str, reason: str) -> None:
        self.note(rule, reason)
        self.rejected = True

    def refer(self, rule: str, reason: str) -> None:
        """A fact the policy cannot settle: a person reviews the case."""
        self.note(rule, reason)
        self.referred = True

    def verdict(self) -> Eligibility:
        if self.rejected:
            return Eligibility.REJECT
        return Eligibility.REVIEW if self.referred else Eligibility.APPROVE

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(self._rules)

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(self._reasons)
