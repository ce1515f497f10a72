"""Golden records of the policy versions that were current when policy books came: decisions
recorded before books name none, and must re-run to exactly their recorded outcome, details and
reasons with their version's built-in settings.

``python -m tests.unit.policies.golden.pre_book`` wrote ``pre_book_decisions.json`` from the
policies as they were then; ``test_golden.py`` checks them. Never regenerate it: a changed rule
is a new version."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson

from aftersales_core.decisions import JSON
from tests.unit.policies import builders
from tests.unit.policies.golden import corpus

GOLDEN = Path(__file__).with_name("pre_book_decisions.json")
VERSIONS = {
    "return.eligibility": 2, "return.shipping": 2, "refund.calculation": 2,
    "refund.approval": 2, "deadlines": 2, "complaint.triage": 1, "buyer.abuse_signal": 1,
    "deadlines.breach": 1,
}


def eligibility() -> Iterator[JSON]:
    yield from corpus.eligibility()
    for zone in ("Europe/Berlin", "Pacific/Kiritimati", "America/Los_Angeles"):
        yield builders.eligibility(market="DE", currency="EUR", buyer_timezone=zone,
                                   requested_at="2026-01-19T22:59:59+00:00")
    yield builders.eligibility(already_returned=[{"line_id": "L1", "ordered": 1,
                                                  "returned": 1}])


def deadlines() -> Iterator[JSON]:
    for inputs in corpus.deadlines():
        yield {"buyer_timezone": None, **inputs}
    yield {"case_type": "complaint", "channel": "platform", "escalations": [],
           "wanted": [{"name": "first_response", "since": builders.DELIVERED},
                      {"name": "resolution", "since": builders.DELIVERED}]}
    yield {"case_type": "complaint", "channel": "email", "escalations": ["supervisor"],
           "wanted": [{"name": "resolution_escalated", "since": builders.DELIVERED}]}
    yield {"case_type": "order", "wanted": [{"name": "watchdog:S1", "since": builders.DELIVERED,
                                             "kind": "no_scan"}]}
    yield {"case_type": "return", "wanted": [{"name": "repair", "since": builders.DELIVERED},
                                             {"name": "repair_ship", "since": builders.DELIVERED}],
           "market": "CN", "buyer_timezone": None}


def triage() -> Iterator[JSON]:
    for channel in ("email", "platform", "regulator", "social"):
        for category in ("counterfeit_suspected", "damaged", "service"):
            for prior in (0, 2):
                yield builders.triage(channel=channel, category=category, prior_complaints=prior)


def abuse() -> Iterator[JSON]:
    for orders, returns in ((3, 3), (4, 2), (4, 3), (20, 10), (20, 11)):
        yield builders.abuse(recent_orders=orders, recent_returns=returns)


def breach() -> Iterator[JSON]:
    base = {"due_at": builders.DELIVERED, "fired_at": "2026-01-06T10:30:00+00:00",
            "eligibility_outcome": None}
    yield {**base, "case_type": "return", "name": "ship_back", "action": "expire",
           "escalations": []}
    yield {**base, "case_type": "return", "name": "decision", "action": "auto_decide",
           "escalations": [], "eligibility_outcome": "approve"}
    yield {**base, "case_type": "refund", "name": "refund", "action": "escalate",
           "escalations": []}
    for ladder in ([], ["supervisor"], ["supervisor", "platform_arbitration"]):
        yield {**base, "case_type": "complaint", "name": "resolution", "action": "escalate",
               "escalations": ladder}


CORPUS = {
    "return.eligibility": eligibility,
    "return.shipping": corpus.shipping,
    "refund.calculation": corpus.refund,
    "refund.approval": corpus.approval,
    "deadlines": deadlines,
    "complaint.triage": triage,
    "buyer.abuse_signal": abuse,
    "deadlines.breach": breach,
}


def main() -> None:
    from aftersales_core.policies import evaluate

    records = [evaluate(policy_id, inputs, VERSIONS[policy_id]).to_json()
               for policy_id, make in CORPUS.items() for inputs in make()]
    GOLDEN.write_bytes(b"[\n" + b",\n".join(orjson.dumps(r, option=orjson.OPT_SORT_KEYS)
                                            for r in records) + b"\n]\n")
    print(f"{len(records)} decisions written to {GOLDEN}")


if __name__ == "__main__":
    main()
