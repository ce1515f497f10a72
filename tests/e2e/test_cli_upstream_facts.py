"""Upstream facts through `aftersales ingest`, as a process: a Chinese category name gets its
category's rule (China's 7-day no-reason return excludes newspapers), a payment whose
OrderPlaced was refused is held, not reported as paid, and each fact names who delivered it."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from aftersales_core.application.principals import principal_id_of
from aftersales_core.domain.ids import order_aggregate_id
from tests.e2e.test_cli import Cli
from tests.factories import T0, cli_cast, order_paid, order_placed, shipment

UPSTREAM = "system.upstream"


def jsonl(*messages: dict[str, Any]) -> str:
    return "".join(json.dumps(m, ensure_ascii=False) + "\n" for m in messages)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path)
    cli_cast(cli.run, "c-1")
    return cli


def test_a_cn_order_of_newspapers_named_in_chinese_is_refused_a_changed_mind_return(
        cli: Cli) -> None:
    lines = [{"line_id": "1", "sku": "NEWS-1", "category": "报纸", "quantity": 1,
              "unit_price": "20.00"}]
    placed = order_placed("cn-1", market="CN", currency="CNY", fulfilment="domestic",
                          lines=lines, taxes="0.00")
    done = cli.run("ingest", "-", as_=UPSTREAM, stdin=jsonl(
        placed, order_paid(placed), shipment("cn-1", "Delivered", T0 + timedelta(days=1))))
    assert done.returncode == 0, done.stderr
    day_2 = {"command": "RequestReturn", "order_id": "cn-1", "reason": "changed_mind",
             "lines": [{"line_id": "1", "quantity": 1}],
             "at": (T0 + timedelta(days=2)).isoformat()}
    done = cli.run("submit", "-", stdin=json.dumps(day_2))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "rejected"
    eligibility = result["decisions"][0]
    assert (eligibility["policy_id"], eligibility["outcome"]) == ("return.eligibility", "reject")
    assert any("newspapers and periodicals cannot be returned without a fault" in reason
               for reason in eligibility["reasons"]), eligibility["reasons"]
    shown = json.loads(cli.run("case", "show", result["case_id"], "--format", "json").stdout)
    assert shown["decisions"][0]["inputs"]["lines"][0]["category"] == "newspapers_periodicals"


def test_a_payment_after_a_refused_placement_is_held_not_paid(cli: Cli) -> None:
    refused = order_placed("w17", buyer_timezone="Mars/Olympus")
    done = cli.run("ingest", "-", as_=UPSTREAM, stdin=jsonl(refused, order_paid(refused)))
    assert done.returncode == 2
    assert "line 1: invalid event: buyer_timezone" in done.stderr
    (held,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert held["order_id"] == "w17" and held["applied"] is True
    assert "paid 124.00 EUR" not in held["effects"]
    assert held["effects"][-1].startswith("held: order w17 has not been placed")
    assert "ingested: 1 applied (1 held for orders not placed), 0 already seen, 1 failed" \
        in done.stderr


def test_each_ingested_fact_records_the_principal_that_sent_it_and_its_role(cli: Cli) -> None:
    """`aftersales ingest --as NAME`: the order's facts name who delivered them, as
    `aftersales case show` shows them to an auditor."""
    placed = order_placed("w21")
    facts = jsonl(placed, order_paid(placed), shipment("w21", "Delivered", T0))
    done = cli.run("ingest", "-", "--as", "upstream-1", as_=None, stdin=facts)
    assert done.returncode == 0, done.stderr
    scan = shipment("w21", "InTransit", T0 + timedelta(days=2), direction="return")
    done = cli.run("ingest", "-", "--as", "carrier-1", as_=None, stdin=jsonl(scan))
    assert done.returncode == 0, done.stderr
    shown = cli.run("case", "show", str(order_aggregate_id("w21")), "--format", "json",
                    "--as", "auditor-1", as_=None)
    assert shown.returncode == 0, shown.stderr
    who = [(e["type"], e["data"].get("by"), e["data"].get("role"))
           for e in json.loads(shown.stdout)["events"]]
    upstream, carrier = str(principal_id_of("upstream-1")), str(principal_id_of("carrier-1"))
    assert who == [
        ("aftersales.order.Registered", None, None),
        ("aftersales.order.Placed", upstream, "upstream"),
        ("aftersales.order.Paid", upstream, "upstream"),
        ("aftersales.order.ShipmentScanned", upstream, "upstream"),
        ("aftersales.order.ShipmentScanned", carrier, "carrier"),
    ], who
