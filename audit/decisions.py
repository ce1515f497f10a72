"""Re-running every policy decision recorded in the store (``audit verify --decisions``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent

from aftersales_core import policies
from aftersales_core.application.decision_history import DECISION_MARK, decisions_in
from aftersales_core.decisions import PolicyDecision
from audit.chain import Row
from audit.reports import DecisionMismatch, VerifyReport

Rerun = Callable[[PolicyDecision], PolicyDecision]


def rerun_decisions(mapper: Mapper[UUID], rows: Sequence[Row], report: VerifyReport,
                    rerun: Rerun = policies.rerun) -> None:
    """Re-run every decision recorded in these stored events (``rerun``: with the settings
    each used, its policy book's); record what differs."""
    assert report.decisions_checked is not None
    mark = None if mapper.cipher or mapper.compressor else DECISION_MARK
    for row in rows:
        state: Any = row[4]
        if not isinstance(state, bytes) or (mark is not None and mark not in state):
            continue  # a state of the wrong type is already a finding of the chain
        case_id = _case_id(row[1])
        try:
            decisions = decisions_of(mapper, row)
        except Exception as error:  # reported as a mismatch, never skipped
            report.decision_mismatches.append(
                DecisionMismatch(
                    row[0],
                    case_id,
                    row[3],
                    "?",
                    0,
                    "?",
                    f"the event no longer decodes: {type(error).__name__}: {error}",
                )
            )
            continue
        for decision in decisions:
            report.decisions_checked += 1
            try:
                again = rerun(decision)
                same, outcome = decision.same_result_as(again), again.outcome
            except Exception as error:  # reported as a mismatch, never as a success
                same, outcome = False, f"re-run failed: {type(error).__name__}: {error}"
            if not same:
                report.decision_mismatches.append(
                    DecisionMismatch(
                        row[0],
                        case_id,
                        row[3],
                        decision.policy_id,
                        decision.policy_version,
                        decision.outcome,
                        outcome,
                    )
                )


def decisions_of(mapper: Mapper[UUID], row: Row) -> list[PolicyDecision]:
    event: Any = mapper.to_domain_event(
        StoredEvent(
            originator_id=UUID(row[1]), originator_version=row[2], topic=row[3], state=row[4]
        )
    )
    return decisions_in(event)


def _case_id(stored: Any) -> str:
    try:
        return str(UUID(stored))
    except (TypeError, ValueError, AttributeError):
        return str(stored)
