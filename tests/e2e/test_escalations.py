"""Escalations as people and programs see them, through the CLI as a process and the service
API as a server: a return nobody decided is escalated without repeating its status in its
history; deadlines list and fire in every format the other lists have; escalation levels sort
by the ladder (supervisor, platform arbitration, regulator), not alphabetically."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.api_server import ApiServer, make_server
from tests.e2e.conftest import deliver
from tests.e2e.test_cli import Cli, request_return
from tests.factories import T0, cli_cast, order_paid, order_placed, shipment

REQUESTED = T0 + timedelta(days=5)
LADDER = ["supervisor", "platform_arbitration", "regulator"]
FILED = ["regulator", "supervisor", "", "platform_arbitration"]  # in no order of the ladder


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path)
    cli_cast(cli.run, "c-1")
    placed = order_placed("o-1")
    upstream = [placed, order_paid(placed), shipment("o-1", "Delivered", T0 + timedelta(days=3))]
    assert cli.run("ingest", cli.lines("up.jsonl", upstream), as_="system.upstream"
                   ).returncode == 0
    return cli


def in_review(cli: Cli) -> str:
    """A return that waits for a person's decision (a repair without a fault)."""
    done = cli.run("submit", "-", stdin=json.dumps(request_return(
        reason="changed_mind", outcome="repair", at=REQUESTED.isoformat())))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "pending_review"
    return str(result["case_id"])


def test_an_escalated_return_shows_its_status_once_in_its_history(cli: Cli) -> None:
    case_id = in_review(cli)
    fired = cli.run("deadlines", "fire", "--now", (REQUESTED + timedelta(hours=49)).isoformat(),
                    "--format", "json", as_=None)
    assert fired.returncode == 0, fired.stderr
    assert [(f["case_id"], f["action"]) for f in json.loads(fired.stdout)] == [
        (case_id, "escalate")]
    shown = json.loads(cli.run("case", "show", case_id, "--format", "json",
                               as_="agent-1").stdout)
    assert shown["state"]["escalations"] == ["supervisor"]
    assert shown["status"] == "pending_review"
    assert shown["state"]["history"] == ["requested", "pending_review"]
    assert "Escalated" in [e["type"].rsplit(".", 1)[-1] for e in shown["events"]]


def test_deadlines_list_and_fire_in_every_format_of_the_other_lists(cli: Cli) -> None:
    case_id = in_review(cli)
    listed = {}
    for fmt in ("table", "json", "csv", "tsv"):
        done = cli.run("deadlines", "list", "--format", fmt, as_="agent-1")
        assert done.returncode == 0, (fmt, done.stderr)
        listed[fmt] = done.stdout
    rows = json.loads(listed["json"])
    assert [(r["case_id"], r["deadline"]) for r in rows] == [(case_id, "decision")]
    assert list(csv.DictReader(io.StringIO(listed["csv"]))) == rows
    header, *lines = listed["tsv"].splitlines()
    assert header.split("\t") == list(rows[0]) and len(lines) == 1
    assert dict(zip(header.split("\t"), lines[0].split("\t"), strict=True)) == rows[0]
    assert case_id in listed["table"] and "decision" in listed["table"]
    empty = cli.run("deadlines", "list", "--format", "csv", "--due-before",
                    REQUESTED.isoformat(), as_="agent-1")
    assert empty.stdout.splitlines() == ["due_at,case_id,case_type,deadline,action"]
    assert cli.run("deadlines", "list", "--format", "xml", as_="agent-1").returncode == 2

    now = (REQUESTED + timedelta(hours=49)).isoformat()
    fired = cli.run("deadlines", "fire", "--now", now, "--format", "csv", as_=None)
    assert fired.returncode == 0, fired.stderr
    [row] = list(csv.DictReader(io.StringIO(fired.stdout)))
    assert (row["case_id"], row["deadline"], row["action"]) == (case_id, "decision", "escalate")
    assert json.loads(row["reasons"])  # nested values: JSON text in a cell
    again = cli.run("deadlines", "fire", "--now", now, "--format", "tsv", as_=None)
    assert again.returncode == 0 and len(again.stdout.splitlines()) == 1  # the header alone


def escalate_complaints(submit: Any, start: datetime = REQUESTED) -> None:
    """Complaints of customer c-1 on o-1, escalated to each level of the ladder (filed in no
    order of it), and one not escalated, a few seconds apart from ``start`` (the service API
    takes only acts dated within minutes of their arrival); ``submit(principal, body)`` runs a
    command."""
    for seconds, level in enumerate(FILED):
        at = start + timedelta(seconds=seconds * 2)
        filed = submit("customer-c-1", {
            "command": "FileComplaint", "customer_id": "c-1", "order_id": "o-1",
            "channel": "email", "category": "service", "description": "no answer",
            "at": at.isoformat()})
        if level:
            submit("sup-1", {"command": "EscalateComplaint", "case_id": filed["case_id"],
                             "level": level, "reason": "no answer",
                             "at": (at + timedelta(seconds=1)).isoformat()})


def test_query_orders_escalation_levels_by_the_ladder(cli: Cli) -> None:
    def submit(principal: str, body: dict[str, Any]) -> dict[str, Any]:
        done = cli.run("submit", "-", stdin=json.dumps(body), as_=principal)
        assert done.returncode == 0, done.stderr
        result: dict[str, Any] = json.loads(done.stdout)
        return result

    escalate_complaints(submit)
    assert cli.run("projections", "catch-up").returncode == 0
    for order_by, ladder in (("escalation", LADDER), ("-escalation", LADDER[::-1])):
        done = cli.run("query", "cases", "--where", "case_type=complaint", "--order-by",
                       order_by, "--format", "json", as_="agent-1")
        assert done.returncode == 0, done.stderr
        assert [r["escalation"] for r in json.loads(done.stdout) if r["escalation"]] == ladder
    done = cli.run("query", "complaints", "--order-by", "escalated_to", "--format", "csv",
                   as_="agent-1")
    assert [r["escalated_to"] for r in csv.DictReader(io.StringIO(done.stdout))
            if r["escalated_to"]] == LADDER


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    server = make_server(tmp_path_factory.mktemp("escalations"), "sqlite")
    server.start()
    yield server
    server.stop()


def test_the_api_sorts_and_pages_escalation_levels_by_the_ladder(api: ApiServer) -> None:
    deliver(api, "o-1", "c-1")

    def submit(principal: str, body: dict[str, Any]) -> dict[str, Any]:
        with api.client(principal) as client:
            done = client.post("/v1/commands", json=body)
            assert done.status_code in (200, 201), done.text
            result: dict[str, Any] = done.json()
            return result

    escalate_complaints(submit, datetime.now(UTC))
    api.refresh_projections()
    with api.client("agent-1") as agent:
        for order_by, ladder in (("escalation", LADDER), ("-escalation", LADDER[::-1])):
            seen, cursor = [], None
            while True:  # one row a page: the cursor follows the ladder too
                params = {"case_type": "complaint", "order_by": order_by, "limit": "1",
                          **({"cursor": cursor} if cursor else {})}
                found = agent.get("/v1/cases", params=params)
                assert found.status_code == 200, found.text
                seen += [row["escalation"] for row in found.json()["items"]]
                if (cursor := found.json()["next_cursor"]) is None:
                    break
            assert seen == [*ladder, None], order_by
        listed = agent.get("/v1/projections/complaints", params={"order_by": "escalated_to"})
        assert [r["escalated_to"] for r in listed.json()["items"]] == [*LADDER, None]
