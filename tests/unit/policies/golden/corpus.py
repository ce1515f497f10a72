"""Inputs for the golden records of frozen policy versions: a grid around every boundary.

``python -m tests.unit.policies.golden.corpus`` writes ``v1_decisions.json`` from the policies
as they are; ``test_golden.py`` then checks that every recorded version still gives exactly the
recorded outcome, details and reasons (changed rules must be new versions, never edits)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson

from aftersales_core.decisions import JSON
from tests.unit.policies import builders

GOLDEN = Path(__file__).with_name("v1_decisions.json")
DAYS = ("2026-01-06T09:00:00+00:00", "2026-01-12T09:59:59+00:00", "2026-01-12T10:00:01+00:00",
        "2026-01-19T10:00:00+00:00", "2026-01-19T23:30:00+00:00", "2026-01-20T10:00:00+00:00",
        "2026-02-04T10:00:00+00:00", "2026-02-05T10:00:00+00:00", "2027-06-01T10:00:00+00:00")
CATEGORIES = ("cosmetics", "newspapers", "newspapers_periodicals", "custom-made", "custom_made",
              "digital_downloads", "digital_download", "perishable", "unsealed_media")


def eligibility() -> Iterator[JSON]:
    for market, currency in (("CN", "CNY"), ("DE", "EUR"), ("GB", "GBP"), ("US", "USD"),
                             ("BR", "BRL")):
        for reason in ("changed_mind", "defective"):
            for at in DAYS:
                yield builders.eligibility(market=market, currency=currency, reason=reason,
                                           requested_at=at)
    for category in CATEGORIES:
        yield builders.eligibility(lines=[builders.line(category=category)])
    for fulfilment in ("bonded", "direct_mail"):
        for at in DAYS[:6]:
            yield builders.cross_border(fulfilment=fulfilment, requested_at=at)
        yield builders.cross_border(lines=[builders.line(unit_price="6000.00")])
        yield builders.cross_border(lines=[builders.line(unit_price="27000.00")])
    yield builders.eligibility(goods_intact=False)
    yield builders.eligibility(market="DE", currency="EUR", goods_intact=False)
    yield builders.eligibility(delivered_at=None)
    yield builders.eligibility(wanted_outcome="repair")


def shipping() -> Iterator[JSON]:
    for market, currency in (("CN", "CNY"), ("DE", "EUR"), ("US", "USD"), ("JP", "JPY")):
        for reason in ("changed_mind", "damaged"):
            for informed in (True, False):
                for estimate in (None, "12.00", "61.00"):
                    for value in ("5.00", "100.00"):
                        yield builders.shipping(
                            market=market, currency=currency, reason=reason,
                            buyer_informed_of_return_cost=informed,
                            return_shipping_estimate=estimate if currency != "JPY" or
                            estimate is None else "1200", item_value=value if currency != "JPY"
                            else "10000")


def refund() -> Iterator[JSON]:
    yield builders.refund()
    yield builders.refund(source="goodwill", refund_lines=[], amount="30.00")
    yield builders.refund(source="complaint", refund_lines=[], amount="30.00", goodwill="5.00")
    yield builders.refund(goodwill="10.00")
    yield builders.refund(source="cancellation", refund_lines=[])
    yield builders.refund(inspection_grade="C")
    yield builders.refund(return_shipping_payer="buyer", return_shipping_cost="12.00")
    yield builders.refund(tax_refundable=True, taxes="20.00", paid="210.00")
    yield builders.refund(already_refunded="150.00")


def approval() -> Iterator[JSON]:
    for currency, amount in (("CNY", "2000.00"), ("CNY", "2000.01"), ("EUR", "250.00"),
                             ("EUR", "250.01"), ("USD", "300.01"), ("JPY", "45000"),
                             ("HKD", "100.00"), ("GBP", "220.00")):
        yield builders.approval(currency=currency, amount=amount)
        yield builders.approval(currency=currency, amount=amount, approver="agent-2",
                                approver_role="agent")
        yield builders.approval(currency=currency, amount=amount, approver="sup-1",
                                approver_role="supervisor")


def _returns(**facts: object) -> JSON:
    return {"case_type": "return", "wanted": [{"name": "refund", "since": builders.DELIVERED}],
            "market": "DE", "is_withdrawal": True, "requested_at": builders.DELIVERED,
            "approved_at": builders.DELIVERED, "shipped_at": "2026-01-07T10:00:00+00:00",
            "received_at": "2026-01-09T15:00:00+00:00", "returnless": False,
            "ship_back_by": "2026-01-19T10:00:00+00:00", **facts}


def deadlines() -> Iterator[JSON]:
    for market in ("CN", "DE", "GB", "US", "BR"):
        for withdrawal in (True, False):
            for received in ("2026-01-09T15:00:00+00:00", "2026-07-01T15:00:00+00:00", None):
                yield _returns(market=market, is_withdrawal=withdrawal, received_at=received)
    yield _returns(wanted=[{"name": "ship_back", "since": builders.DELIVERED},
                           {"name": "decision", "since": builders.DELIVERED}])
    for market in ("CN", "DE", "US"):
        yield {"case_type": "refund", "wanted": [{"name": "refund", "since": builders.DELIVERED}],
               "market": market, "source": "goodwill", "inherited_due_at": None}


CORPUS = {
    "return.eligibility": eligibility,
    "return.shipping": shipping,
    "refund.calculation": refund,
    "refund.approval": approval,
    "deadlines": deadlines,
}


def main() -> None:
    from aftersales_core.policies import evaluate

    records = [evaluate(policy_id, inputs, 1).to_json()
               for policy_id, make in CORPUS.items() for inputs in make()]
    GOLDEN.write_bytes(b"[\n" + b",\n".join(orjson.dumps(r, option=orjson.OPT_SORT_KEYS)
                                            for r in records) + b"\n]\n")
    print(f"{len(records)} decisions written to {GOLDEN}")


if __name__ == "__main__":
    main()
