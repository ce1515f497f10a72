"""Upstream facts through `aftersales ingest`, as a process: a Chinese category name gets its
category's rule (China's 7-day no-reason return excludes newspapers)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

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

