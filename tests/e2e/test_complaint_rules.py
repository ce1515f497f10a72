"""Complaint rules through `aftersales submit` as a process, with their exit codes: an
escalation climbs the ladder (1 refused otherwise), a proposal can be paid (2 invalid for an
amount that pays nothing or on a resolution that has none, 1 refused above what is left)."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_cli import Cli
from tests.factories import T0, cli_cast, order_paid, order_placed, shipment

AT = T0 + timedelta(days=5)
PLACED = order_placed("o-1")


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path)
    cli_cast(cli.run, "c-1")
    upstream = [PLACED, order_paid(PLACED), shipment("o-1", "Delivered", T0 + timedelta(days=3))]
    assert cli.run("ingest", cli.lines("up.jsonl", upstream), as_="system.upstream"
                   ).returncode == 0
    return cli


def submit(cli: Cli, principal: str, body: dict[str, Any], seconds: int) -> Any:
    body = {**body, "at": (AT + timedelta(seconds=seconds)).isoformat()}
    return cli.run("submit", "-", stdin=json.dumps(body), as_=principal)


def complaint(cli: Cli) -> str:
    done = submit(cli, "customer-c-1", {
        "command": "FileComplaint", "customer_id": "c-1", "order_id": "o-1", "channel": "email",
        "category": "service", "description": "no answer"}, 0)
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["case_id"])


def test_an_escalation_by_hand_climbs_the_ladder(cli: Cli) -> None:
    case_id = complaint(cli)
    codes = []
    for n, level in enumerate(("platform_arbitration", "supervisor", "platform_arbitration",
                               "regulator")):
        done = submit(cli, "sup-1", {"command": "EscalateComplaint", "case_id": case_id,
                                     "level": level, "reason": "no answer"}, n + 1)
        codes.append(done.returncode)
        if done.returncode:
            assert "already escalated to platform_arbitration" in done.stderr
    assert codes == [0, 1, 1, 0]
    shown = json.loads(cli.run("case", "show", case_id, "--format", "json",
                               as_="agent-1").stdout)
    assert shown["state"]["escalations"] == ["platform_arbitration", "regulator"]


def test_a_proposal_must_be_one_that_can_be_paid(cli: Cli) -> None:
    case_id = complaint(cli)
    total = Decimal(PLACED["total"])

    def propose(resolution: str, amount: str | None, seconds: int) -> Any:
        body = {"command": "ProposeResolution", "case_id": case_id, "resolution": resolution}
        return submit(cli, "agent-1", body | ({"amount": amount} if amount else {}), seconds)

    nothing = propose("refund", "0", 1)
    assert nothing.returncode == 2 and "amount" in nothing.stderr, nothing.stderr
    coupon = propose("coupon", "5.00", 2)
    assert coupon.returncode == 2 and "amount" in coupon.stderr, coupon.stderr
    too_much = propose("refund", str(total + 50), 3)
    assert too_much.returncode == 1, too_much.stderr
    assert f"what is left to refund on order o-1 ({total:.2f} EUR)" in too_much.stderr
    done = propose("refund", "100.00", 4)  # the items (what a complaint's refund pays back)
    assert done.returncode == 0, done.stderr
    accepted = submit(cli, "customer-c-1", {"command": "RespondToProposal", "case_id": case_id,
                                            "accepted": True}, 5)
    assert accepted.returncode == 0, accepted.stderr
    # 100.00 is being refunded: only the rest of the order is left for a partial refund
    again, rest = complaint(cli), total - 100
    left = submit(cli, "agent-1", {"command": "ProposeResolution", "case_id": again,
                                   "resolution": "partial_refund", "amount": str(rest + 1)}, 6)
    assert left.returncode == 1 and f"({rest:.2f} EUR)" in left.stderr, left.stderr
