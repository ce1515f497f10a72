"""``return.disposition``: what happens to returned goods after inspection."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from aftersales_core.decisions import JSON, PolicyDecision, copy_json
from aftersales_core.policies.reading import Reader
from aftersales_core.policies.registry import policy
from aftersales_core.policies.vocabulary import RETURN_REASONS

POLICY_ID = "return.disposition"
GRADES = ("A", "B", "C", "D")


@dataclass(frozen=True)
class DispositionSettings:
    """Settings of return.disposition v1: grade → disposition, with defect overrides."""

    by_grade: Mapping[str, str] = field(default_factory=lambda: MappingProxyType(
        {"A": "restock", "B": "restock", "C": "refurbish", "D": "destroy"}))
    defective_by_grade: Mapping[str, str] = field(default_factory=lambda: MappingProxyType(
        {"A": "restock", "B": "refurbish", "C": "return_to_vendor", "D": "return_to_vendor"}))
    quarantine_reasons: frozenset[str] = frozenset({"counterfeit_suspected"})
    defect_reasons: frozenset[str] = frozenset({"defective", "damaged"})


SETTINGS_V1 = DispositionSettings()


def decide(inputs: JSON, settings: DispositionSettings, version: int) -> PolicyDecision:
    read = Reader(POLICY_ID, inputs)
    grade = read.text("grade", GRADES)
    reason = read.text("reason", RETURN_REASONS)
    read.text("wanted_outcome", ("refund", "exchange", "repair"))
    if reason in settings.quarantine_reasons:
        outcome, rule = "quarantine", "disposition.quarantine_suspected_counterfeit"
        why = f"returned as {reason}: quarantined for investigation whatever the grade"
    elif reason in settings.defect_reasons:
        outcome, rule = settings.defective_by_grade[grade], "disposition.defect_by_grade"
        why = f"grade {grade} goods returned as {reason}: {outcome}"
    else:
        outcome, rule = settings.by_grade[grade], "disposition.by_grade"
        why = f"grade {grade} goods: {outcome}"
    return PolicyDecision(
        POLICY_ID,
        version,
        copy_json(inputs),
        outcome,
        (why,),
        (rule,),
        {"disposition": outcome, "grade": grade},
    )


@policy(POLICY_ID, 1, settings=SETTINGS_V1)
def return_disposition_v1(inputs: JSON, settings: DispositionSettings) -> PolicyDecision:
    return decide(inputs, settings, 1)
