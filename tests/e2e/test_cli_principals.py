"""Principals and the permission matrix through the CLI, as a process on a real SQLite file."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_cli import Cli, request_return
from tests.factories import ADMIN, T0, cli_cast, order_paid, order_placed, shipment


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path)
    cli_cast(cli.run, "c-1", "c-2")
    upstream: list[dict[str, Any]] = []
    lines = [{"line_id": "1", "sku": "MUG-1", "category": "home", "quantity": 2,
              "unit_price": "20.00"},
             {"line_id": "2", "sku": "TV-9", "category": "electronics", "quantity": 1,
              "unit_price": "900.00"}]
    for order_id, customer in (("o-1", "c-1"), ("o-2", "c-2")):
        placed = order_placed(order_id, customer_id=customer, lines=lines)
        upstream += [placed, order_paid(placed),
                     shipment(order_id, "Delivered", T0 + timedelta(days=3))]
    done = cli.run("ingest", cli.lines("upstream.jsonl", upstream), as_="system.upstream")
    assert done.returncode == 0, done.stderr
    return cli


def submit(cli: Cli, as_: str, command: dict[str, Any]) -> Any:
    return cli.run("submit", "-", stdin=json.dumps(command), as_=as_)


def test_the_first_administrator_is_bootstrapped_once_and_manages_principals(
    tmp_path: Path,
) -> None:
    cli = Cli(tmp_path)
    first = cli.run("principals", "bootstrap", "Root-Admin", "--format", "json", as_=None)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["name"] == "root-admin"  # names are case folded
    again = cli.run("principals", "bootstrap", "another", as_=None)
    assert again.returncode == 6 and "an administrator exists already" in again.stderr
    added = cli.run("principals", "add", "Alice", "--role", "agent", "--format", "json",
                    as_="root-admin")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["roles"] == ["agent"]
    assert cli.run("principals", "add", "ALICE", "--role", "agent",
                   as_="root-admin").returncode == 2  # the same principal
    lookalike = cli.run("principals", "add", "\u0430lice", "--role", "agent", as_="root-admin")
    assert lookalike.returncode == 2 and "mixes the scripts" in lookalike.stderr
    customer = cli.run("principals", "add", "bob", "--role", "customer", as_="root-admin")
    assert customer.returncode == 2 and "--customer" in customer.stderr
    assert cli.run("principals", "grant", "alice", "--role", "supervisor",
                   as_="root-admin").returncode == 0
    assert cli.run("principals", "revoke", "alice", "--role", "agent",
                   as_="root-admin").returncode == 0
    self_grant = cli.run("principals", "grant", "root-admin", "--role", "supervisor",
                         as_="root-admin")
    assert self_grant.returncode == 6 and "nobody changes their own principal" in self_grant.stderr
    not_admin = cli.run("principals", "add", "eve", "--role", "admin", as_="alice")
    assert not_admin.returncode == 6 and "AddPrincipal denied" in not_admin.stderr
    assert cli.run("principals", "disable", "alice", "--reason", "left",
                   as_="root-admin").returncode == 0
    disabled = cli.run("principals", "list", as_="alice")
    assert disabled.returncode == 6 and "disabled" in disabled.stderr
    assert cli.run("principals", "enable", "alice", as_="root-admin").returncode == 0
    listed = json.loads(cli.run("principals", "list", "--format", "json",
                                as_="root-admin").stdout)
    assert {(p["name"], tuple(p["roles"]), p["enabled"]) for p in listed} == {
        ("root-admin", ("admin",), True), ("alice", ("supervisor",), True),
        ("system.scheduler", ("scheduler",), True), ("system.upstream", ("upstream",), True)}
    shown = json.loads(cli.run("principals", "show", "alice", "--format", "json",
                               as_="root-admin").stdout)
    assert [h["type"] for h in shown["history"]] == [
        "Created", "RoleGranted", "RoleRevoked", "Disabled", "ReEnabled"]
    assert {h["role"] for h in shown["history"]} == {"admin"}
    table = cli.run("principals", "show", "alice", as_="root-admin")
    assert "RoleRevoked" in table.stdout and "revoked=agent" in table.stdout


def test_a_command_needs_a_known_enabled_principal(cli: Cli) -> None:
    before = cli.stored_events()
    nobody = cli.run("submit", "-", stdin=json.dumps(request_return()), as_=None)
    assert nobody.returncode == 6 and "--as NAME" in nobody.stderr
    unknown = cli.run("submit", "-", stdin=json.dumps(request_return()), as_="mallory")
    assert unknown.returncode == 6 and "unknown principal" in unknown.stderr
    invalid = cli.run("submit", "-", stdin=json.dumps(request_return()), as_="a b")
    assert invalid.returncode == 2 and "U+0020" in invalid.stderr
    assert cli.stored_events() == before


def test_an_actor_named_in_the_body_must_be_the_principal_itself(cli: Cli) -> None:
    before = cli.stored_events()
    spoofed = submit(cli, "customer-c-1", request_return(requested_by="agent-1"))
    assert spoofed.returncode == 6
    assert "requested_by: the actor of a command is the principal" in spoofed.stderr
    assert cli.stored_events() == before
    own = submit(cli, "customer-c-1", request_return(requested_by="Customer-C-1"))
    assert own.returncode == 0, own.stderr
    refund = {"command": "RequestRefund", "order_id": "o-1", "source": "goodwill",
              "reason": "sorry", "amount": "300.00", "at": (T0 + timedelta(days=5)).isoformat()}
    requested = json.loads(submit(cli, "agent-1", refund).stdout)
    approve = {"command": "ApproveRefund", "case_id": requested["case_id"],
               "approver": "sup-1", "approver_role": "supervisor"}
    claimed = submit(cli, "sup-1", {**approve, "approver_role": "admin"})
    assert claimed.returncode == 6 and "approver_role" in claimed.stderr
    done = submit(cli, "sup-1", approve)
    assert done.returncode == 0, done.stderr


def test_a_customer_never_learns_that_another_customers_case_exists(cli: Cli) -> None:
    theirs = json.loads(submit(cli, "customer-c-2", request_return(order_id="o-2")).stdout)
    missing = "00000000-0000-0000-0000-000000000000"
    answers = set()
    for case_id in (theirs["case_id"], missing):
        shown = cli.run("case", "show", case_id, as_="customer-c-1")
        assert shown.returncode == 3
        answers.add(shown.stderr.replace(case_id, "<id>"))
    assert len(answers) == 1  # word for word the same
    cancel = submit(cli, "customer-c-1", {"command": "CancelReturn",
                                          "case_id": theirs["case_id"]})
    assert cancel.returncode == 3 and "no case" in cancel.stderr
    other_order = submit(cli, "customer-c-1", request_return(order_id="o-2"))
    unknown_order = submit(cli, "customer-c-1", request_return(order_id="o-404"))
    assert other_order.returncode == unknown_order.returncode == 3
    assert other_order.stderr.replace("o-2", "") == unknown_order.stderr.replace("o-404", "")
    own_rows = json.loads(cli.run("query", "cases", "--format", "json",
                                  as_="customer-c-1").stdout)
    assert own_rows == []  # the projections are not rebuilt yet: nothing, and nobody else's
    cli.run("projections", "rebuild", as_=None)
    mine = json.loads(cli.run("query", "cases", "--format", "json", as_="customer-c-2").stdout)
    assert [r["case_id"] for r in mine] == [theirs["case_id"]]
    assert json.loads(cli.run("query", "cases", "--format", "json",
                              as_="customer-c-1").stdout) == []
    denied = cli.run("query", "decisions", as_="customer-c-1")
    assert denied.returncode == 6


def test_denials_are_logged_for_auditors_as_table_json_and_csv(cli: Cli) -> None:
    case = json.loads(submit(cli, "customer-c-1", request_return()).stdout)
    before = cli.stored_events()
    inspect = {"command": "InspectReturn", "case_id": case["case_id"], "grade": "A"}
    denied = submit(cli, "agent-1", inspect)
    assert denied.returncode == 6 and "InspectReturn denied" in denied.stderr
    assert "warehouse may" in denied.stderr
    assert cli.stored_events() == before  # a denial stores nothing on any case
    rows = json.loads(cli.run("audit", "denials", "--format", "json", as_="auditor-1").stdout)
    [row] = [r for r in rows if r["operation"] == "InspectReturn"]
    assert (row["principal"], row["case_id"], row["rule"], row["via"]) == (
        "agent-1", case["case_id"], "access.role", "cli")
    assert row["inputs"]["operation"] == "InspectReturn"
    as_csv = cli.run("audit", "denials", "--format", "csv", "--principal", "agent-1",
                     as_="auditor-1").stdout
    parsed = list(csv.DictReader(io.StringIO(as_csv)))
    assert [r["operation"] for r in parsed] == ["InspectReturn"]
    table = cli.run("audit", "denials", as_="auditor-1")
    assert "InspectReturn" in table.stdout and "access.role" in table.stdout
    not_auditor = cli.run("audit", "denials", as_="agent-1")
    assert not_auditor.returncode == 6
    # the refused look at the log is itself logged
    rows = json.loads(cli.run("audit", "denials", "--format", "json", "--operation",
                              "ReadDenials", as_="auditor-1").stdout)
    assert [r["principal"] for r in rows] == ["agent-1"]


def test_denials_are_found_by_principal_as_identities_not_as_text(cli: Cli) -> None:
    """``--principal`` names a principal as ``--as`` does: ``AGENT-1`` is agent-1, and a name
    nobody holds finds the attempts made under it (logged with no principal name)."""
    assert cli.run("audit", "denials", as_="agent-1").returncode == 6
    assert cli.run("query", "cases", as_="Mallory").returncode == 6  # no such principal

    def operations(name: str) -> list[str]:
        done = cli.run("audit", "denials", "--format", "json", "--principal", name,
                       as_="auditor-1")
        assert done.returncode == 0, done.stderr
        return [r["operation"] for r in json.loads(done.stdout)]

    assert operations("AGENT-1") == operations("agent-1") == ["ReadDenials"]
    assert operations("mallory") == ["QueryProjection"]
    bad = cli.run("audit", "denials", "--principal", "not a name", as_="auditor-1")
    assert bad.returncode == 2 and "principal's name" in bad.stderr


def test_envelopes_let_an_operator_replay_many_principals_work_in_one_process(cli: Cli) -> None:
    lines = [
        {"as": "customer-c-1", "command": request_return(idempotency_key="r-1")},
        {"as": "customer-c-2", "command": request_return(order_id="o-2", idempotency_key="r-2")},
        {"as": "customer-c-1", "command": request_return(order_id="o-2", idempotency_key="r-3")},
        {"as": "nobody-here", "command": request_return(idempotency_key="r-4")},
        {"command": request_return(idempotency_key="r-5")},
    ]
    done = cli.run("submit", cli.lines("envelopes.jsonl", lines), "--envelopes", as_=None)
    results = [json.loads(x) for x in done.stdout.splitlines()]
    assert [r["status"] for r in results] == ["approved", "approved"]
    assert "line 3" in done.stderr and "not known" in done.stderr  # c-1 and c-2's order
    assert "line 4" in done.stderr and "cannot act as 'nobody-here'" in done.stderr
    assert "line 5" in done.stderr and "envelope" in done.stderr
    assert done.returncode == 3  # the first failure's: not found


def test_a_built_in_principal_keeps_its_one_role(cli: Cli) -> None:
    for name, role in (("system.upstream", "supervisor"), ("system.scheduler", "agent")):
        granted = cli.run("principals", "grant", name, "--role", role, as_=ADMIN)
        assert granted.returncode == 2 and "built in" in granted.stderr, granted.stderr
    revoked = cli.run("principals", "revoke", "system.upstream", "--role", "upstream",
                      as_=ADMIN)
    assert revoked.returncode == 2 and "disable it instead" in revoked.stderr
    shown = json.loads(cli.run("principals", "list", "--format", "json", as_=ADMIN).stdout)
    assert {p["name"]: p["roles"] for p in shown if p["name"].startswith("system.")} == {
        "system.scheduler": ["scheduler"], "system.upstream": ["upstream"]}


def test_the_scheduler_acts_as_its_built_in_principal_and_can_be_disabled(cli: Cli) -> None:
    case = json.loads(submit(cli, "customer-c-1", {
        "command": "FileComplaint", "channel": "email", "category": "service",
        "description": "no answer", "at": (T0 + timedelta(days=5)).isoformat()}).stdout)
    later = (T0 + timedelta(days=9)).isoformat()
    assert cli.run("principals", "disable", "system.scheduler", as_=ADMIN).returncode == 0
    idle = cli.run("deadlines", "fire", "--now", later, "--format", "json", as_=None)
    assert json.loads(idle.stdout) == [] and idle.returncode == 1
    assert cli.run("principals", "enable", "system.scheduler", as_=ADMIN).returncode == 0
    fired = json.loads(cli.run("deadlines", "fire", "--now", later, "--format", "json",
                               as_=None).stdout)
    assert {f["case_id"] for f in fired} == {case["case_id"]}
    shown = json.loads(cli.run("case", "show", case["case_id"], "--format", "json",
                               as_="sup-1").stdout)
    escalations = [e for e in shown["events"] if e["type"].endswith(".Escalated")]
    assert escalations and {e["data"]["role"] for e in escalations} == {"scheduler"}


def test_api_keys_are_issued_once_listed_without_secrets_and_revoked_by_admins(
        cli: Cli) -> None:
    cli.env["COLUMNS"] = "60"  # a narrow terminal must not wrap the key
    shown = cli.run("principals", "key", "agent-1", "--label", "desk", as_=ADMIN)
    assert shown.returncode == 0, shown.stderr
    token = next(line for line in shown.stdout.splitlines() if line.startswith("ask_"))
    assert len(token) == len("ask_") + 16 + 1 + 43 and "shown only this once" in shown.stderr
    issued = cli.run("principals", "key", "agent-1", "--expires-in-days", "30", "--format",
                     "json", as_=ADMIN)
    data = json.loads(issued.stdout)
    assert data["api_key"].startswith(f"ask_{data['key_id']}_") and data["expires_at"]
    listed = cli.run("principals", "keys", "agent-1", "--format", "json", as_="auditor-1")
    assert listed.returncode == 0, listed.stderr
    keys = json.loads(listed.stdout)
    assert {k["state"] for k in keys} == {"active"} and len(keys) == 2
    secrets = [key[len("ask_") + 17:] for key in (token, data["api_key"])]  # after the key id
    assert not any(secret in listed.stdout for secret in secrets)
    cli.env["COLUMNS"] = "200"
    table = cli.run("principals", "keys", "agent-1", as_="auditor-1").stdout
    assert "created_by" in table and f" {ADMIN} " in table  # by whom, by name
    with sqlite3.connect(cli.db) as conn:
        stored = str(conn.execute("SELECT * FROM api_keys").fetchall())
    assert not any(secret in stored for secret in secrets)
    assert cli.run("principals", "key", "agent-2", as_="agent-1").returncode == 6
    assert cli.run("principals", "revoke-key", "agent-1", data["key_id"],
                   as_="auditor-1").returncode == 6
    revoked = cli.run("principals", "revoke-key", "agent-1", data["key_id"], as_=ADMIN)
    assert revoked.returncode == 0, revoked.stderr
    listed = cli.run("principals", "keys", "agent-1", "--format", "json", as_=ADMIN)
    states = {k["key_id"]: k["state"] for k in json.loads(listed.stdout)}
    assert states[data["key_id"]] == "revoked" and list(states.values()).count("active") == 1
    assert cli.run("principals", "revoke-key", "agent-1", "0123456789abcdef",
                   as_=ADMIN).returncode == 3
    assert cli.run("principals", "key", "system.upstream", as_=ADMIN).returncode == 2


def test_an_administrator_issues_no_key_for_another_administrator(cli: Cli) -> None:
    """`--as` an administrator is still that principal: it keys itself, never another
    administrator (who could then be acted as); the refusal is exit 6, logged, nothing kept."""
    assert cli.run("principals", "add", "admin-2", "--role", "admin", as_=ADMIN).returncode == 0
    refused = cli.run("principals", "key", "admin-2", as_=ADMIN)
    assert refused.returncode == 6 and "ask_" not in refused.stdout
    assert "a key for another administrator would let its issuer act as them" in refused.stderr
    listed = cli.run("principals", "keys", "admin-2", "--format", "json", as_=ADMIN)
    assert json.loads(listed.stdout) == []
    assert cli.run("principals", "key", ADMIN, as_=ADMIN).returncode == 0
    assert cli.run("principals", "key", "admin-2", as_="admin-2").returncode == 0
    denials = json.loads(cli.run("audit", "denials", "--format", "json", "--operation",
                                 "IssueApiKey", as_="auditor-1").stdout)
    assert [(d["principal"], d["rule"]) for d in denials] == [(ADMIN, "access.holder_not_admin")]


def test_a_key_another_principal_issued_before_the_admin_grant_is_listed_as_refused(
        cli: Cli) -> None:
    """Keyed as an analyst, then granted the admin role: authentication refuses that key
    (its issuer could act as the administrator), and the listing says so, not "active"."""
    assert cli.run("principals", "add", "later-admin", "--role", "analyst",
                   as_=ADMIN).returncode == 0
    assert cli.run("principals", "key", "later-admin", as_=ADMIN).returncode == 0

    def states() -> list[str]:
        listed = cli.run("principals", "keys", "later-admin", "--format", "json", as_=ADMIN)
        return [row["state"] for row in json.loads(listed.stdout)]

    assert states() == ["active"]
    assert cli.run("principals", "grant", "later-admin", "--role", "admin",
                   as_=ADMIN).returncode == 0
    assert states() == ["refused"]
    assert cli.run("principals", "key", "later-admin", as_="later-admin").returncode == 0
    assert sorted(states()) == ["active", "refused"]


def test_an_imported_principal_with_an_unknown_field_is_refused_not_trimmed(cli: Cli) -> None:
    """A "by" (identity comes from --as) or a misspelt "customer_id" is named, not dropped:
    the principal is not added, the other lines are."""
    lines = [{"name": "agent-9", "roles": ["agent"], "by": "someone-else"},
             {"name": "customer-c-9", "roles": ["customer"], "customerid": "c-9"},
             {"name": "agent-8", "roles": ["agent"]}]
    done = cli.run("principals", "import", "-", as_=ADMIN,
                   stdin="".join(json.dumps(line) + "\n" for line in lines))
    assert done.returncode == 2
    assert "line 1: unknown field(s) 'by'" in done.stderr
    assert "line 2: unknown field(s) 'customerid'" in done.stderr
    listed = json.loads(cli.run("principals", "list", "--format", "json", as_=ADMIN).stdout)
    names = {p["name"] for p in listed}
    assert "agent-8" in names and not names & {"agent-9", "customer-c-9"}
