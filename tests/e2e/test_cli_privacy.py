"""Erasure, export, retention and the key-encryption key through the CLI, as processes on a
real SQLite file."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from tests.e2e.test_cli import Cli
from tests.factories import ADMIN, T0, cli_cast, order_paid, order_placed, shipment
from tests.personal import sqlite_bytes

AT = T0 + timedelta(days=5)
MARK = "PLANTED-cli-4f1c9a"


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path)
    kek = tmp_path / "secrets" / "kek.key"  # apart from the store (no default file beside it)
    kek.parent.mkdir(mode=0o700)
    cli.env["AFTERSALES_KEK_FILE"] = str(kek)
    assert cli.run("keys", "new-kek", str(kek), as_=None).returncode == 0
    cli_cast(cli.run, "c-1", "c-2")
    placed = order_placed("o-1")
    upstream = [placed, order_paid(placed), shipment("o-1", "Delivered", T0 + timedelta(days=3))]
    done = cli.run("ingest", cli.lines("upstream.jsonl", upstream), as_="system.upstream")
    assert done.returncode == 0, done.stderr
    return cli


def submit(cli: Cli, as_: str, command: dict[str, Any]) -> dict[str, Any]:
    done = cli.run("submit", "-", stdin=json.dumps(command), as_=as_)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def complaint(cli: Cli) -> str:
    filed = submit(cli, "customer-c-1", {
        "command": "FileComplaint", "order_id": "o-1", "channel": "email",
        "category": "damaged", "description": f"my neighbour Jo saw it: {MARK}",
        "at": AT.isoformat()})
    return str(filed["case_id"])


def test_erase_then_every_command_still_works_and_shows_erased(cli: Cli) -> None:
    case_id = complaint(cli)
    shown = cli.run("case", "show", case_id, "--format", "json", as_="agent-1")
    assert MARK in shown.stdout
    assert MARK.encode() not in sqlite_bytes(cli.db)
    exported = cli.run("customer", "export", "c-1")
    assert exported.returncode == 0, exported.stderr
    document = json.loads(exported.stdout)
    assert MARK in " ".join(p["value"] for p in document["personal_data"])

    for who in ("agent-1", "customer-c-1"):
        denied = cli.run("customer", "erase", "c-1", "--reason", "asked", as_=who)
        assert denied.returncode == 6, denied.stderr
    assert cli.run("customer", "erase", "c-1", as_=ADMIN).returncode == 2  # --reason needed
    bad = cli.run("customer", "erase", "c-1", "--reason", "x\x1b[31my", as_=ADMIN)
    assert bad.returncode == 2 and "U+001B" in bad.stderr
    missing = cli.run("customer", "erase", "c-404", "--reason", "typo", as_=ADMIN)
    assert missing.returncode == 3 and "nothing is held" in missing.stderr
    erased = cli.run("customer", "erase", "c-1", "--reason", "ticket 7", "--format", "json",
                     as_=ADMIN)
    assert erased.returncode == 0, erased.stderr
    assert json.loads(erased.stdout)["reason"] == "ticket 7"

    shown = cli.run("case", "show", case_id, "--format", "json", as_="agent-1")
    assert shown.returncode == 0 and MARK not in shown.stdout
    assert json.loads(shown.stdout)["state"]["description"] == "[erased]"
    assert "[erased]" in cli.run("case", "show", case_id, as_="agent-1").stdout
    assert cli.run("case", "rerun", case_id, as_="auditor-1").returncode == 0
    assert cli.run("audit", "seal", as_=None).returncode == 0
    verified = cli.run("audit", "verify", "--decisions", as_="auditor-1")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    rebuilt = cli.run("projections", "rebuild", as_=None)
    assert rebuilt.returncode == 0, rebuilt.stderr
    rows = cli.run("query", "cases", "--format", "json", as_="agent-1")
    assert {r["customer_id"] for r in json.loads(rows.stdout)} == {"[erased]"}
    assert cli.run("report", "--output", str(cli.tmp / "report.html"),
                   as_="analyst-1").returncode == 0
    exported = cli.run("customer", "export", "c-1", "--output", str(cli.tmp / "c-1.json"),
                       as_=ADMIN)
    assert exported.returncode == 0, exported.stderr
    document = json.loads((cli.tmp / "c-1.json").read_text())
    assert (cli.tmp / "c-1.json").stat().st_mode & 0o777 == 0o600
    assert {p["value"] for p in document["personal_data"]} == {"[erased]"}
    # the acknowledgement still goes out, and its new text is readable
    submit(cli, "agent-1", {"command": "AcknowledgeComplaint", "case_id": case_id,
                            "message": "we are on it", "at": (AT + timedelta(hours=1))
                            .isoformat()})
    for path in (cli.db, cli.tmp / "read.sqlite"):
        assert MARK.encode() not in sqlite_bytes(path)


def test_a_customer_exports_their_own_data_only(cli: Cli) -> None:
    complaint(cli)
    assert cli.run("customer", "export", "c-1", as_="customer-c-2").returncode == 3
    own = cli.run("customer", "export", "c-2", as_="customer-c-2")
    assert own.returncode == 0 and json.loads(own.stdout)["personal_data"] == []


def test_retention_erases_with_deadlines_fire_in_business_time(cli: Cli) -> None:
    case_id = complaint(cli)
    for step, command in enumerate(({"command": "ResolveComplaint", "summary": "sorry"},
                                    {"command": "CloseComplaint", "satisfaction": 2})):
        submit(cli, "agent-1", {**command, "case_id": case_id,
                                "at": (AT + timedelta(hours=step + 1)).isoformat()})
    cli.env["AFTERSALES_RETENTION_DAYS"] = "10"
    # closed on 7 March (UTC): kept through 17 March, erased from 18 March on
    early = cli.run("deadlines", "fire", "--now", "2026-03-17T23:59:59Z", "--format", "json",
                    as_=None)
    assert early.returncode == 0, early.stderr
    assert [f for f in json.loads(early.stdout) if f["case_type"] == "customer"] == []
    due = cli.run("deadlines", "fire", "--now", "2026-03-18T00:00:00Z", "--format", "json",
                  as_=None)
    assert due.returncode == 0, due.stderr
    [fired] = [f for f in json.loads(due.stdout) if f["case_type"] == "customer"]
    assert fired["related"] == {"customer_id": "c-1"} and fired["status"] == "erased"
    shown = cli.run("case", "show", case_id, "--format", "json", as_="agent-1")
    assert json.loads(shown.stdout)["state"]["description"] == "[erased]"
    cli.env["AFTERSALES_RETENTION_DAYS"] = "none"
    wrong = cli.run("deadlines", "fire", as_=None)
    assert wrong.returncode == 2 and "AFTERSALES_RETENTION_DAYS" in wrong.stderr


def test_a_wrong_or_missing_key_stops_every_command_at_start_up(cli: Cli) -> None:
    case_id = complaint(cli)
    other = cli.tmp / "other.key"
    assert cli.run("keys", "new-kek", str(other), as_=None).returncode == 0
    secret = (cli.tmp / "secrets" / "kek.key").read_text().strip()
    cli.env["AFTERSALES_KEK_FILE"] = str(other)
    wrong = cli.run("case", "show", case_id, as_="agent-1")
    assert wrong.returncode == 2 and "wrong key-encryption key" in wrong.stderr
    assert secret not in wrong.stderr + wrong.stdout and "Traceback" not in wrong.stderr
    del cli.env["AFTERSALES_KEK_FILE"]
    cli.env["AFTERSALES_KEK"] = "not-a-key"
    malformed = cli.run("case", "show", case_id, as_="agent-1")
    assert malformed.returncode == 2 and "AFTERSALES_KEK: not a key-encryption key" in \
        malformed.stderr and "not-a-key" not in malformed.stderr
    del cli.env["AFTERSALES_KEK"]
    missing = cli.run("case", "show", case_id, as_="agent-1")  # no default file beside it
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    cli.env["AFTERSALES_KEK"] = secret  # the right key, as a value this time
    assert cli.run("case", "show", case_id, as_="agent-1").returncode == 0


def test_keys_rotate_under_a_new_key_then_the_old_one_is_not_needed(cli: Cli) -> None:
    case_id = complaint(cli)
    old, new = cli.tmp / "secrets" / "kek.key", cli.tmp / "secrets" / "new.key"
    assert cli.run("keys", "new-kek", str(new), as_=None).returncode == 0
    assert cli.run("keys", "new-kek", str(new), as_=None).returncode == 2  # never overwritten
    cli.env.update(AFTERSALES_KEK_FILE=str(new), AFTERSALES_KEK_PREVIOUS_FILE=str(old))
    rotated = cli.run("keys", "rotate", "--format", "json", as_=None)
    assert rotated.returncode == 0, rotated.stderr
    assert json.loads(rotated.stdout)["rewrapped"] == 1
    del cli.env["AFTERSALES_KEK_PREVIOUS_FILE"]
    status = json.loads(cli.run("keys", "status", "--format", "json", as_=None).stdout)
    assert list(status["data_keys_by_kek"].values()) == [1] and status["keys"] == 1
    shown = cli.run("case", "show", case_id, "--format", "json", as_="agent-1")
    assert MARK in shown.stdout
    cli.env["AFTERSALES_KEK_FILE"] = str(old)
    assert cli.run("case", "show", case_id, as_="agent-1").returncode == 2
    assert os.stat(new).st_mode & 0o777 == 0o600


def test_personal_data_never_reaches_an_error_message_or_a_log_line(cli: Cli) -> None:
    """Commands refused for every kind of reason, and one accepted, with ``--verbose`` (debug
    logs, tracebacks of internal errors): the customer's words are in none of what they print,
    nor in the store's files (the denial log included)."""
    case_id = complaint(cli)
    at = (AT + timedelta(hours=2)).isoformat()
    refused = [
        ("customer-c-1", {"command": "AddComplaintMessage", "case_id": case_id,  # control char
                          "direction": "in", "text": f"{MARK}\x07"}),
        ("customer-c-1", {"command": "AddComplaintMessage", "case_id": case_id,  # too long
                          "direction": "in", "text": MARK * 5000}),
        ("customer-c-1", {"command": "AddComplaintMessage", "case_id": str(uuid4()),  # unknown
                          "direction": "in", "text": MARK}),
        ("customer-c-2", {"command": "AddComplaintMessage", "case_id": case_id,  # not theirs
                          "direction": "in", "text": MARK}),
        ("customer-c-1", {"command": "CancelReturn", "case_id": case_id, "reason": MARK}),
        ("customer-c-1", {"command": "ReopenComplaint", "case_id": case_id,  # not resolved
                          "reason": MARK}),
        ("warehouse-1", {"command": "AddComplaintMessage", "case_id": case_id,  # denied
                         "direction": "out", "text": MARK}),
        ("customer-c-1", {"command": "FileComplaint", "order_id": "o-404", "channel": "email",
                          "category": "damaged", "description": MARK}),
    ]
    for who, command in refused:
        done = cli.run("--verbose", "submit", "-", stdin=json.dumps({**command, "at": at}),
                       as_=who)
        assert done.returncode not in (0, 70), (command, done.stderr)
        assert MARK not in done.stdout + done.stderr, (command, done.stderr)
    accepted = cli.run("--verbose", "submit", "-", as_="agent-1", stdin=json.dumps({
        "command": "AddComplaintMessage", "case_id": case_id, "direction": "out",
        "text": f"Dear Jo, {MARK}", "at": at}))
    assert accepted.returncode == 0, accepted.stderr
    assert MARK not in accepted.stdout + accepted.stderr
    shown = cli.run("--verbose", "case", "show", case_id, "--format", "json", as_="analyst-1")
    assert shown.returncode == 0 and MARK not in shown.stdout + shown.stderr
    assert MARK.encode() not in sqlite_bytes(cli.db)  # nor in the denial log beside the store


def test_the_erased_marker_is_refused_as_a_customer_id_at_every_entry(cli: Cli) -> None:
    added = cli.run("principals", "add", "evil", "--role", "customer", "--customer", "[erased]",
                    as_=ADMIN)
    assert added.returncode == 2 and "customer_id: [erased] is not a customer id" in added.stderr
    upstream = [order_placed("o-evil", customer_id="[erased]")]
    ingested = cli.run("ingest", cli.lines("evil.jsonl", upstream), as_="system.upstream")
    assert ingested.returncode != 0 and "customer_id" in ingested.stderr
    assert cli.run("principals", "show", "evil", as_=ADMIN).returncode == 3


def test_an_export_file_is_private_whatever_was_there_and_never_through_a_link(
    cli: Cli,
) -> None:
    existing = cli.tmp / "pre.json"
    existing.touch()
    existing.chmod(0o644)
    done = cli.run("customer", "export", "c-1", "--output", str(existing), as_=ADMIN)
    assert done.returncode == 0, done.stderr
    assert existing.stat().st_mode & 0o777 == 0o600
    assert json.loads(existing.read_text())["customer_id"] == "c-1"
    shared = cli.tmp / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    link, target = shared / "c-1.json", cli.tmp / "planted-target.json"
    link.symlink_to(target)
    refused = cli.run("customer", "export", "c-1", "--output", str(link), as_=ADMIN)
    assert refused.returncode == 2 and "symbolic link" in refused.stderr
    assert not target.exists()
    report = cli.run("report", "--output", str(shared / "r.html"), as_="analyst-1")
    assert report.returncode == 0, report.stderr
    assert (shared / "r.html").stat().st_mode & 0o777 == 0o600


def test_the_erase_help_shows_what_erased_data_reads() -> None:
    import subprocess

    from tests.e2e.test_cli import AFTERSALES

    shown = subprocess.run([*AFTERSALES, "customer", "erase", "--help"],
                           capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"},
                           check=True)
    assert "reads `[erased]` from now on" in shown.stdout


def test_an_auditor_lists_the_erasures_as_a_table_json_or_csv(cli: Cli) -> None:
    empty = cli.run("customer", "erasures", "--format", "csv", as_="auditor-1")
    assert (empty.returncode, empty.stdout) == (
        0, "position,customer_id,erased_at,by,principal,role,reason\n")
    complaint(cli)
    assert cli.run("customer", "erase", "c-1", "--reason", "=ticket 7", as_=ADMIN).returncode == 0
    listed = cli.run("customer", "erasures", "--format", "json", as_="auditor-1")
    assert listed.returncode == 0, listed.stderr
    [erasure] = json.loads(listed.stdout)
    assert (erasure["customer_id"], erasure["principal"], erasure["role"],
            erasure["reason"]) == ("c-1", ADMIN, "admin", "=ticket 7")
    assert isinstance(erasure["position"], int) and erasure["position"] > 0
    as_csv = cli.run("customer", "erasures", "--format", "csv", as_=ADMIN)
    assert as_csv.returncode == 0 and "c-1" in as_csv.stdout
    assert "'=ticket 7" in as_csv.stdout  # a spreadsheet formula prefix made harmless
    table = cli.run("customer", "erasures", as_="auditor-1")
    assert table.returncode == 0 and "erasures (1)" in table.stdout and "c-1" in table.stdout
    for who in ("agent-1", "analyst-1", "customer-c-1"):
        denied = cli.run("customer", "erasures", as_=who)
        assert denied.returncode == 6 and "c-1" not in denied.stdout, denied.stderr
    assert cli.run("customer", "erasures", "--format", "xml", as_="auditor-1").returncode == 2
    helped = cli.run("customer", "erasures", "--help", as_=None)
    assert helped.returncode == 0 and "Auditors and administrators" in helped.stdout
