"""``deadlines.breach``: what a missed deadline does: expire the return, approve an in-policy
return nobody decided, or escalate (complaints climb a ladder: supervisor, then platform
arbitration). Settings are those of ``deadlines`` (``deadlines.py``)."""

from __future__ import annotations

from datetime import timedelta

from aftersales_core.decisions import JSON, PolicyDecision, copy_json
from aftersales_core.outcomes import BreachOutcome, DeadlineAction, Eligibility, above
from aftersales_core.policies.deadlines import CASE_TYPES
from aftersales_core.policies.deadlines_settings import SETTINGS_V1, DeadlineSettings
from aftersales_core.policies.reading import Reader, iso
from aftersales_core.policies.registry import policy

POLICY_ID = "deadlines.breach"
ACTIONS = frozenset({DeadlineAction.AUTO_DECIDE, DeadlineAction.EXPIRE, DeadlineAction.ESCALATE})


def decide(inputs: JSON, settings: DeadlineSettings, version: int) -> PolicyDecision:
    read = Reader(POLICY_ID, inputs)
    case_type = read.text("case_type", CASE_TYPES - {"order"})
    name, action = read.text("name"), read.text("action", ACTIONS)
    due_at, fired_at = read.time("due_at"), read.time("fired_at")
    escalations = read.strings("escalations")
    eligibility = read.optional_text("eligibility_outcome")
    missed = f"{case_type} deadline {name} (due {iso(due_at)}) missed at {iso(fired_at)}"
    level: str | None = None
    in_policy = eligibility == Eligibility.APPROVE and settings.auto_approve_in_policy_returns
    if action == DeadlineAction.EXPIRE:
        outcome, rule = BreachOutcome.EXPIRE, "breach.expire"
        reason = f"{missed}: the return expires"
    elif action == DeadlineAction.AUTO_DECIDE and in_policy:
        outcome, rule = BreachOutcome.AUTO_APPROVE, "breach.auto_approve"
        reason = f"{missed}: eligibility approved it, so it is approved automatically"
    elif case_type == "complaint":
        if version >= 2:  # the next step of the book's ladder above the highest level reached
            # (by hand too): an escalation never goes down or sideways (the complaint refuses)
            higher = [lvl for lvl in settings.complaint_ladder if above(lvl, escalations)]
            top = settings.beyond_the_ladder(escalations)
        else:  # v1: the first step not among the levels (down, after a skip by hand)
            higher = [lvl for lvl in settings.complaint_ladder if lvl not in escalations]
            top = settings.at_the_top(escalations)
        if not top and higher:
            level, outcome, rule = higher[0], BreachOutcome.ESCALATE, "breach.complaint_ladder"
            reason = f"{missed}: escalated to {level}"
        else:
            outcome, rule = BreachOutcome.NONE, "breach.ladder_exhausted"
            reason = (
                f"{missed}: already escalated as far as the policy goes ({', '.join(escalations)})"
            )
    else:
        level, rule = settings.case_escalation_level, "breach.escalate"
        outcome = BreachOutcome.ESCALATE
        why = (
            ""
            if action != DeadlineAction.AUTO_DECIDE
            else f" (eligibility said {eligibility or 'nothing'}, so no automatic approval)"
        )
        reason = f"{missed}: escalated to {level}{why}"
    late = round((fired_at - due_at) / timedelta(hours=1), 2)
    details: JSON = {"level": level, "hours_late": late}
    return PolicyDecision(
        POLICY_ID, version, copy_json(inputs), outcome, (reason,), (rule,), details
    )


@policy(POLICY_ID, 1, settings=SETTINGS_V1)
def deadlines_breach_v1(inputs: JSON, settings: DeadlineSettings) -> PolicyDecision:
    return decide(inputs, settings, 1)


@policy(POLICY_ID, 2, settings=SETTINGS_V1)
def deadlines_breach_v2(inputs: JSON, settings: DeadlineSettings) -> PolicyDecision:
    """v2: a missed complaint deadline escalates to the next step of the ladder above the
    highest level reached; v1 took the first step not reached, which went down after a hand
    escalation had skipped one (supervisor after platform arbitration)."""
    return decide(inputs, settings, 2)
