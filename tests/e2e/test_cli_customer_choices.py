"""What a cold reviewer tried with `aftersales submit` and `ingest`, run as processes: a customer
choosing who pays the return shipping is denied (exit 6) naming the field; another customer's
idempotency key opens the caller's own case; split refunds wait for a supervisor once their
sum crosses the threshold; errors name the real field, a bad line is reported and counted
once, and a market nobody assigned is refused."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_cli import Cli, request_return
from tests.factories import T0, cli_cast, order_paid, order_placed, shipment

UPSTREAM = "system.upstream"
AT = (T0 + timedelta(days=5)).isoformat()


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path)
    cli_cast(cli.run, "c-1", "c-2")
    for order, owner in (("o-1", "c-1"), ("o-2", "c-2")):
        placed = order_placed(order, customer_id=owner, lines=[
            {"line_id": "1", "sku": "TV", "category": "electronics", "quantity": 1,
             "unit_price": "900.00"},
            {"line_id": "2", "sku": "MUG", "category": "home", "quantity": 2,
             "unit_price": "20.00"}])
        done = cli.run("ingest", cli.lines(f"{order}.jsonl", [
            placed, order_paid(placed), shipment(order, "Delivered", T0 + timedelta(days=3))]),
            as_=UPSTREAM)
        assert done.returncode == 0, done.stderr
    return cli


def submit(cli: Cli, *bodies: dict[str, Any], as_: str = "customer-c-1") -> Any:
    return cli.run("submit", "-", stdin="".join(json.dumps(b) + "\n" for b in bodies),
                   as_=as_)


def test_a_customer_choosing_a_returnless_refund_is_denied_naming_the_fields(cli: Cli) -> None:
    before = cli.stored_events()
    done = submit(cli, request_return(reason="damaged", buyer_informed_of_return_cost=False,
                                      return_shipping_estimate="50.00"))
    assert done.returncode == 6, done.stderr
    assert done.stderr.count("\n") == 1 and "RequestReturn denied" in done.stderr
    assert "buyer_informed_of_return_cost, return_shipping_estimate: only the merchant's " \
           "staff or its policy set these" in done.stderr
    assert cli.stored_events() == before
    denials = cli.run("audit", "denials", "--format", "json", as_="auditor-1")
    assert json.loads(denials.stdout)[-1]["rule"] == "access.no_staff_fields"
    filed = submit(cli, request_return(reason="damaged"))  # the same return, as the policy says
    assert filed.returncode == 0, filed.stderr
    shipping = [d for d in json.loads(filed.stdout)["decisions"]
                if d["policy_id"] == "return.shipping"]
    assert shipping[0]["outcome"] == "merchant"  # damaged: the merchant's fault


def test_another_customers_key_opens_the_callers_own_case(cli: Cli) -> None:
    def complaint(order: str) -> dict[str, Any]:
        return {"command": "FileComplaint", "idempotency_key": "k-1", "order_id": order,
                "channel": "email", "category": "damaged", "description": "cracked",
                "at": AT}

    mine = submit(cli, complaint("o-1"))
    assert mine.returncode == 0, mine.stderr
    theirs = submit(cli, complaint("o-2"), as_="customer-c-2")
    assert theirs.returncode == 0 and "exists already" not in theirs.stderr, theirs.stderr
    assert json.loads(theirs.stdout)["case_id"] != json.loads(mine.stdout)["case_id"]
    again = submit(cli, complaint("o-1"))
    assert again.returncode == 1 and "exists already" in again.stderr
    hidden = cli.run("case", "show", json.loads(mine.stdout)["case_id"], as_="customer-c-2")
    assert hidden.returncode == 3


def test_refunds_split_under_the_threshold_wait_once_their_sum_crosses_it(cli: Cli) -> None:
    def refund(amount: str) -> dict[str, Any]:
        return {"command": "RequestRefund", "order_id": "o-1", "source": "goodwill",
                "reason": "late", "amount": amount, "at": AT}

    done = submit(cli, refund("200.00"), refund("50.00"), refund("0.01"), as_="agent-1")
    assert done.returncode == 0, done.stderr
    statuses = [json.loads(line)["status"] for line in done.stdout.splitlines()]
    assert statuses == ["approved", "approved", "awaiting_approval"]


def test_errors_name_the_field_and_a_bad_line_counts_once(cli: Cli) -> None:
    untyped = cli.run("submit", "-", stdin='{"order_id": "o-1"}\n', as_="agent-1")
    assert untyped.returncode == 2
    assert untyped.stderr == "error: line 1: invalid command: command: Field required\n"
    fine = cli.run("submit", "-", stdin=json.dumps({
        "command": "RequestRefund", "order_id": "o-1", "source": "goodwill", "reason": "late",
        "amount": "1.001", "at": AT}) + "\n", as_="agent-1")
    assert fine.returncode == 2
    assert "amount: 1.001 has more decimals than EUR allows (2)" in fine.stderr
    broken = cli.run("ingest", "-", stdin='{"event_id": "e"} trailing\n{"order_id": "o"}\n',
                     as_=UPSTREAM)
    assert broken.returncode == 2
    lines = broken.stderr.splitlines()
    assert [line.split(":")[1].strip() for line in lines[:-1]] == ["line 1", "line 2"]
    assert "event_type: Field required" in lines[1]
    assert lines[-1] == "ingested: 0 applied, 0 already seen, 2 failed"
    assert "(message)" not in broken.stderr + untyped.stderr


def test_submit_reports_every_line_in_input_order(cli: Cli) -> None:
    done = cli.run("submit", "-", stdin="\n".join([
        json.dumps({"command": "CloseComplaint", "case_id": "0b5e2c1c-4f7e-4e40-9d5a-"
                    "000000000001", "at": AT}),
        "not json"]) + "\n", as_="agent-1")
    lines = done.stderr.splitlines()
    assert [line.split(":")[1].strip() for line in lines] == ["line 1", "line 2"], lines


def test_a_market_nobody_assigned_is_refused_naming_the_allowed_ones(cli: Cli) -> None:
    before = cli.stored_events()
    done = cli.run("ingest", "-", stdin=json.dumps(order_placed("o-9", market="XX")) + "\n",
                   as_=UPSTREAM)
    assert done.returncode == 2
    assert "line 1: invalid event: market: 'XX' is not a market: the buyer's country as an " \
           "assigned ISO 3166-1 alpha-2 code (CN, GB, US" in done.stderr
    assert cli.stored_events() == before
