"""What-if: every recorded decision of a merchant, evaluated again under a proposed book.

Each decision is evaluated from its recorded inputs with its own policy version, taking its
settings from the proposed book instead of the one it used. Where a later decision of the same
case read an earlier one's result, it reads the new result: a refund's approval reads the
amount the new calculation gives, a return's shipping decision and its deadlines read the
regime and dates the new eligibility gives, a complaint's deadlines read the new priority.
What the desk would have done differently afterwards cannot be known and is not guessed: the
report counts what the rules decide, from the facts that were recorded.

Deadlines are judged against when the work was really done: a deadline met (or breached late)
at a moment is breached under the proposed book when that moment is after its new due time; a
deadline the scheduler fired stays breached when its new due time is before the firing, and is
*undetermined* when the new due time falls after it (nobody recorded when the work was done).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from aftersales_core.decisions import JSON, PolicyDecision
from aftersales_core.outcomes import Eligibility
from aftersales_core.policies import registry
from aftersales_core.policybook.bindings import governed
from aftersales_core.policybook.rulebook import Rulebook

EXAMPLES = 3


@dataclass(frozen=True)
class Recorded:
    """One recorded decision and where it was recorded."""

    position: int
    case_id: str
    at: datetime
    decision: PolicyDecision
    source_case_id: str | None = None  # a refund's: the return it settles


@dataclass(frozen=True)
class DeadlineEnd:
    """How a scheduled deadline ended, from the case's events."""

    case_id: str
    name: str
    since: str  # the scheduled deadline's start (with the name, it identifies the deadline)
    state: str  # met, cancelled, late (breached when the state was left), fired, open
    at: datetime | None


@dataclass
class Pair:
    before: str
    after: str
    count: int = 0
    examples: list[str] = field(default_factory=list)


@dataclass
class PolicyChanges:
    policy_id: str
    re_evaluated: int = 0
    changed: int = 0
    pairs: dict[tuple[str, str], Pair] = field(default_factory=dict)

    def add(self, case_id: str, before: str, after: str) -> None:
        self.re_evaluated += 1
        if before == after:
            return
        self.changed += 1
        pair = self.pairs.setdefault((before, after), Pair(before, after))
        pair.count += 1
        if len(pair.examples) < EXAMPLES and case_id not in pair.examples:
            pair.examples.append(case_id)


@dataclass
class Totals:
    count: int = 0
    before: Decimal = Decimal(0)
    after: Decimal = Decimal(0)


@dataclass
class Report:
    merchant_id: str
    since: datetime | None
    until: datetime | None
    proposed_hash: str
    decisions_seen: int = 0
    re_evaluated: int = 0
    not_governed: int = 0  # policies whose settings no book sets (disposition, logistics…)
    before_books: int = 0  # recorded before policy books: no settings to replace
    failed: list[JSON] = field(default_factory=list)
    policies: dict[str, PolicyChanges] = field(default_factory=dict)
    refunds: dict[str, Totals] = field(default_factory=dict)
    approvals_before: int = 0
    approvals_after: int = 0
    approvals_checked: int = 0
    deadlines: dict[str, Counter[str]] = field(default_factory=dict)
    returns_accepted: dict[str, Totals] = field(default_factory=dict)
    returns_no_longer_accepted: dict[str, Totals] = field(default_factory=dict)
    cases: int = 0

    def to_json(self) -> JSON:
        return {
            "merchant_id": self.merchant_id,
            "since": None if self.since is None else self.since.isoformat(),
            "until": None if self.until is None else self.until.isoformat(),
            "proposed_book_hash": self.proposed_hash,
            "cases_and_orders": self.cases,
            "decisions": {"seen": self.decisions_seen, "re_evaluated": self.re_evaluated,
                          "not_governed_by_books": self.not_governed,
                          "recorded_before_books": self.before_books,
                          "failed": len(self.failed)},
            "failures": self.failed[:20],
            "outcomes": [
                {"policy_id": c.policy_id, "re_evaluated": c.re_evaluated, "changed": c.changed,
                 "pairs": [{"before": p.before, "after": p.after, "count": p.count,
                            "examples": p.examples}
                           for p in sorted(c.pairs.values(), key=lambda p: -p.count)]}
                for c in sorted(self.policies.values(), key=lambda c: c.policy_id)],
            "refund_totals": [
                {"currency": cur, "refunds": m.count, "before": str(m.before),
                 "after": str(m.after), "difference": str(m.after - m.before)}
                for cur, m in sorted(self.refunds.items())],
            "approvals_needing_a_supervisor": {"checked": self.approvals_checked,
                                               "before": self.approvals_before,
                                               "after": self.approvals_after},
            "deadlines": [{"name": name, **dict(sorted(counts.items()))}
                          for name, counts in sorted(self.deadlines.items())],
            "returns_newly_accepted": _money_rows(self.returns_accepted),
            "returns_no_longer_accepted": _money_rows(self.returns_no_longer_accepted),
        }


def _money_rows(table: dict[str, Totals]) -> list[JSON]:
    return [{"currency": cur, "returns": m.count, "goods_value": str(m.after)}
            for cur, m in sorted(table.items())]


def _goods_value(decision: PolicyDecision) -> tuple[str, Decimal]:
    lines = decision.inputs.get("lines") or []
    value = sum((Decimal(str(line["unit_price"])) * int(line["quantity"]) for line in lines),
                Decimal(0))
    return str(decision.inputs.get("currency")), value


# A return's refund deadline, recorded and as the proposed book sets it: (return case id, the
# recorded due time) -> the new due time. A refund that settles a return inherits that deadline.
CarriedDues = dict[tuple[str, str], str]


class CaseReplay:
    """The decisions of one case re-evaluated in order, each reading the new results of the
    earlier ones where the recorded inputs came from them (and, for a refund that settles a
    return, the new refund deadline of that return: ``carried``)."""

    def __init__(self, rulebook: Rulebook, case_id: str = "", source_case_id: str | None = None,
                 carried: CarriedDues | None = None) -> None:
        self.rulebook = rulebook
        self.case_id, self.source_case_id = case_id, source_case_id
        self.carried: CarriedDues = {} if carried is None else carried
        self.old: dict[str, PolicyDecision] = {}
        self.new: dict[str, PolicyDecision] = {}

    def inputs(self, decision: PolicyDecision) -> JSON:
        inputs = dict(decision.inputs)
        policy = decision.policy_id
        inherited = inputs.get("inherited_due_at")
        if policy == "deadlines" and inherited and self.source_case_id is not None:
            inputs["inherited_due_at"] = self.carried.get(
                (self.source_case_id, str(inherited)), inherited)
        calc_old, calc_new = self.old.get("refund.calculation"), self.new.get(
            "refund.calculation")
        if policy == "refund.approval" and calc_old and calc_new and \
                inputs.get("amount") == calc_old.details.get("total"):
            inputs["amount"] = calc_new.details.get("total")
        elig_old, elig_new = self.old.get("return.eligibility"), self.new.get(
            "return.eligibility")
        if elig_old and elig_new:
            if policy == "return.shipping" and inputs.get("regime") == \
                    elig_old.details.get("regime"):
                inputs["regime"] = elig_new.details.get("regime")
            if policy == "deadlines" and inputs.get("case_type") == "return":
                if inputs.get("ship_back_by") == elig_old.details.get("ship_back_by"):
                    inputs["ship_back_by"] = elig_new.details.get("ship_back_by")
                inputs["is_withdrawal"] = bool(elig_new.details.get("is_withdrawal"))
        triage_old, triage_new = self.old.get("complaint.triage"), self.new.get(
            "complaint.triage")
        if policy == "deadlines" and triage_old and triage_new and \
                inputs.get("priority") == triage_old.outcome:
            inputs["priority"] = triage_new.outcome
        return inputs

    def evaluate(self, decision: PolicyDecision) -> PolicyDecision:
        settings, _ = self.rulebook.settings(decision.policy_id, decision.policy_version)
        again = registry.evaluate(decision.policy_id, self.inputs(decision),
                                  decision.policy_version, settings)
        self.old[decision.policy_id], self.new[decision.policy_id] = decision, again
        if decision.policy_id == "deadlines" and decision.inputs.get("case_type") == "return":
            after = {d["name"]: d["due_at"] for d in again.details.get("deadlines", [])}
            for item in decision.details.get("deadlines", []):
                if item["name"] == "refund" and "refund" in after:
                    self.carried[(self.case_id, str(item["due_at"]))] = after["refund"]
        return again


def _deadline_key(case_id: str, item: JSON) -> tuple[str, str, str]:
    return case_id, str(item.get("name")), str(item.get("since"))


def _judge_deadlines(report: Report, case_id: str, old: PolicyDecision, new: PolicyDecision,
                     ends: dict[tuple[str, str, str], DeadlineEnd]) -> None:
    after = {(d["name"], d["since"]): d for d in new.details.get("deadlines", [])}
    for item in old.details.get("deadlines", []):
        end = ends.get(_deadline_key(case_id, item))
        counts = report.deadlines.setdefault(str(item["name"]).split(":")[0], Counter())
        if end is None or end.state in ("cancelled", "open") or end.at is None:
            counts["not_judged"] += 1
            continue
        counts["judged"] += 1
        before_due = datetime.fromisoformat(item["due_at"])
        new_item = after.get((item["name"], item["since"]))
        breached_before = end.state in ("late", "fired") or end.at > before_due
        counts["breached_before"] += breached_before
        if new_item is None:  # the proposed book sets no such deadline
            counts["not_set_after"] += 1
            continue
        new_due = datetime.fromisoformat(new_item["due_at"])
        if end.state == "fired" and new_due >= end.at:
            counts["undetermined_after"] += 1
            continue
        counts["breached_after"] += end.at > new_due


def simulate(records: Iterable[Recorded], ends: Iterable[DeadlineEnd], rulebook: Rulebook,
             merchant_id: str, since: datetime | None = None,
             until: datetime | None = None, proposed_hash: str = "") -> Report:
    """Evaluate the merchant's recorded decisions in [since, until) again under ``rulebook``.

    ``records`` are in store order; only decisions that recorded ``merchant_id`` count."""
    report = Report(merchant_id, since, until, proposed_hash)
    by_case: dict[str, list[Recorded]] = {}
    for record in records:
        book = record.decision.book
        if book is None or book.get("merchant_id") != merchant_id:
            continue
        if (since is not None and record.at < since) or (until is not None and
                                                         record.at >= until):
            continue
        by_case.setdefault(record.case_id, []).append(record)
    end_of = {(e.case_id, e.name, e.since): e for e in ends}
    report.cases = len(by_case)
    carried: CarriedDues = {}  # a return's cases come before the refund that settles it
    for case_id, case_records in by_case.items():
        replay = CaseReplay(rulebook, case_id, case_records[0].source_case_id, carried)
        for record in case_records:
            _one(report, replay, case_id, record, end_of)
    return report


def _one(report: Report, replay: CaseReplay, case_id: str, record: Recorded,
         ends: dict[tuple[str, str, str], DeadlineEnd]) -> None:
    decision = record.decision
    report.decisions_seen += 1
    if not governed(decision.policy_id, decision.policy_version):
        report.not_governed += 1
        return
    try:
        again = replay.evaluate(decision)
    except Exception as error:  # reported, never counted as unchanged
        report.failed.append({"case_id": case_id, "position": record.position,
                              "policy_id": decision.policy_id,
                              "error": f"{type(error).__name__}: {error}"})
        return
    report.re_evaluated += 1
    changes = report.policies.setdefault(decision.policy_id, PolicyChanges(decision.policy_id))
    changes.add(case_id, decision.outcome, again.outcome)
    _figures(report, case_id, decision, again, ends)


def _figures(report: Report, case_id: str, old: PolicyDecision, new: PolicyDecision,
             ends: dict[tuple[str, str, str], DeadlineEnd]) -> None:
    policy = old.policy_id
    if policy == "refund.calculation":
        money = report.refunds.setdefault(str(old.details.get("currency")), Totals())
        money.count += 1
        money.before += Decimal(str(old.details.get("total", "0")))
        money.after += Decimal(str(new.details.get("total", "0")))
    elif policy == "refund.approval" and old.inputs.get("approver") is None:
        report.approvals_checked += 1
        report.approvals_before += bool(old.details.get("requires_supervisor"))
        report.approvals_after += bool(new.details.get("requires_supervisor"))
    elif policy == "deadlines":
        _judge_deadlines(report, case_id, old, new, ends)
    elif policy == "return.eligibility" and old.outcome != new.outcome:
        currency, value = _goods_value(old)
        if Eligibility(new.outcome) is Eligibility.APPROVE:
            table = report.returns_accepted
        elif Eligibility(old.outcome) is Eligibility.APPROVE:
            table = report.returns_no_longer_accepted
        else:
            return
        money = table.setdefault(currency, Totals())
        money.count += 1
        money.after += value


