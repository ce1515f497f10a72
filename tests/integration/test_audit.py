"""Audit verification on the real stores (SQLite file and PostgreSQL): sealing, and every kind
of tampering with raw SQL (changed, deleted, inserted out of order), events not yet sealed,
two auditors at once, decisions re-run, and `aftersales audit` / `run --role auditor`."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from typer.testing import CliRunner, Result

from aftersales import children
from aftersales.bootstrap import open_app
from aftersales.cli import app as cli_app
from aftersales.settings import Settings, eventsourcing_env
from aftersales_core.application.services import Services
from audit.auditor import GENESIS, Auditor
from database.sql import StoreDatabase, quoted
from tests.factories import T0, caller, delivered_order

REQUESTED = T0 + timedelta(days=5)
NOW = datetime(2026, 4, 1, 12, tzinfo=UTC)


def fill(app: Services, orders: int, prefix: str = "o") -> int:
    """Delivered orders, each with a return (its decisions and deadlines); the store's end."""
    for index in range(orders):
        order_id = f"{prefix}-{index}"
        delivered_order(app, order_id)
        app.returns.request(caller(app, "customer-c-1"), uuid4(), order_id,
                            [{"line_id": "2", "quantity": 1}], "defective", "refund", REQUESTED)
    return int(app.store.recorder.max_notification_id() or 0)


class RawStore:
    """Raw SQL on the store's events table, as someone with database access could run it."""

    def __init__(self, app: Services) -> None:
        recorder: Any = app.store.recorder
        self.store = StoreDatabase(recorder, "tampering")
        self.table = self.store.table(quoted(recorder.events_table_name))
        self.position = "notification_id" if self.store.postgres else "rowid"

    def execute(self, sql: str, *params: Any, rows: bool = False) -> list[tuple[Any, ...]]:
        sql = sql.format(table=self.table, position=self.position)
        with self.store.transaction(commit=True) as tx:
            if rows:
                return tx.rows(sql, params)
            tx.execute(sql, params)
            return []

    def row(self, position: int) -> tuple[Any, ...]:
        return self.execute("SELECT originator_id, originator_version, topic, state FROM {table} "
                            "WHERE {position} = ?", position, rows=True)[0]

    def id_value(self) -> Any:
        return uuid4() if self.store.postgres else uuid4().hex


def auditor(app: Services, batch_size: int = 10) -> Auditor:
    return Auditor(app.store.recorder, app.store.mapper, rerun=app.store.books.rerun,
                   batch_size=batch_size, page_size=25)


def test_an_intact_store_verifies_with_one_checkpoint_per_batch_and_the_head(
    app: Services,
) -> None:
    end = fill(app, 3)
    sealed = auditor(app).seal(NOW)
    assert (sealed.events, sealed.head, sealed.checkpoints) == (end, end, -(-end // 10))
    report = auditor(app).verify()
    assert report.intact and report.findings == []
    assert (report.events, report.sealed_head, report.unsealed) == (end, end, 0)
    assert report.head_hash == sealed.chain_hash and report.last_sealed_at == NOW.isoformat()
    assert report.checkpoints == sealed.checkpoints
    assert auditor(app, batch_size=1000).verify().head_hash == sealed.chain_hash


def test_sealing_twice_adds_nothing_and_a_new_auditor_continues_the_same_chain(
    app: Services,
) -> None:
    fill(app, 2)
    first = auditor(app).seal(NOW)
    again = auditor(app).seal(NOW + timedelta(minutes=1))
    assert (again.events, again.checkpoints, again.head) == (0, 0, first.head)
    assert again.chain_hash == first.chain_hash
    assert auditor(app).verify().checkpoints == first.checkpoints


@pytest.mark.parametrize("field", ["state", "topic", "version", "originator_id"])
def test_a_changed_event_is_found_at_its_position(app: Services, field: str) -> None:
    end = fill(app, 3)
    auditor(app).seal(NOW)
    raw, position = RawStore(app), end // 2
    if field == "state":
        state = bytes(raw.row(position)[3])
        raw.execute("UPDATE {table} SET state = ? WHERE {position} = ?",
                    state.replace(b"c-1", b"c-2", 1) if b"c-1" in state else state + b" ",
                    position)
    elif field == "topic":
        raw.execute("UPDATE {table} SET topic = ? WHERE {position} = ?",
                    "aftersales.return.Approved", position)
    elif field == "version":
        raw.execute("UPDATE {table} SET originator_version = originator_version + 1000 "
                    "WHERE {position} = ?", position)
    else:
        raw.execute("UPDATE {table} SET originator_id = ? WHERE {position} = ?",
                    raw.id_value(), position)
    report = auditor(app).verify()
    assert not report.intact
    [finding] = report.findings
    assert (finding.position, finding.kind) == (position, "changed")
    expected = "state changed" if field == "state" else "originator id, version or topic"
    assert expected in finding.detail and finding.found is not None


def test_a_deleted_event_is_found_at_its_position(app: Services) -> None:
    end = fill(app, 3)
    auditor(app).seal(NOW)
    RawStore(app).execute("DELETE FROM {table} WHERE {position} = ?", end // 2)
    [finding] = auditor(app).verify().findings
    assert (finding.position, finding.kind) == (end // 2, "deleted")


def test_deleting_the_last_events_after_sealing_leaves_the_head_beyond_the_store_end(
    app: Services,
) -> None:
    end = fill(app, 3)
    auditor(app, batch_size=1000).seal(NOW)  # one checkpoint: the head
    RawStore(app).execute("DELETE FROM {table} WHERE {position} > ?", end - 3)
    report = auditor(app).verify()
    [finding] = report.findings
    assert (finding.position, finding.kind) == (end - 2, "deleted")
    assert f"the store ends at {end - 3}" in finding.detail
    assert (report.store_end, report.sealed_head) == (end - 3, end)


def test_an_event_inserted_out_of_order_is_found(app: Services) -> None:
    """A gap in positions is legitimate (PostgreSQL skips numbers of rolled-back appends);
    an event written into the gap after sealing is not."""
    end = fill(app, 3)
    raw, gap = RawStore(app), end // 2
    saved = raw.row(gap)
    raw.execute("DELETE FROM {table} WHERE {position} = ?", gap)
    auditor(app).seal(NOW)
    assert auditor(app).verify().intact
    raw.execute("INSERT INTO {table} ({position}, originator_id, originator_version, topic, "
                "state) VALUES (?, ?, ?, ?, ?)", gap, *saved)
    [finding] = auditor(app).verify().findings
    assert (finding.position, finding.kind) == (gap, "inserted")


def test_several_tamperings_are_each_found_in_their_own_batch(app: Services) -> None:
    end = fill(app, 4)
    auditor(app).seal(NOW)
    raw = RawStore(app)
    raw.execute("UPDATE {table} SET topic = ? WHERE {position} = ?", "x", 5)
    raw.execute("DELETE FROM {table} WHERE {position} = ?", end - 5)
    findings = auditor(app).verify().findings
    assert [(f.position, f.kind) for f in findings] == [(5, "changed"), (end - 5, "deleted")]


def test_events_after_the_last_seal_are_not_yet_sealed_until_the_next_seal(
    app: Services,
) -> None:
    end = fill(app, 2)
    auditor(app).seal(NOW)
    later = fill(app, 1, prefix="late")
    report = auditor(app).verify()
    assert report.intact
    assert (report.unsealed, report.first_unsealed, report.sealed_head) == (
        later - end, end + 1, end)
    sealed = auditor(app).seal(NOW + timedelta(seconds=5))
    assert (sealed.events, sealed.head) == (later - end, later)
    report = auditor(app).verify()
    assert report.intact and report.unsealed == 0 and report.events == later


def test_an_auditor_that_finds_the_head_moved_reads_on_and_writes_no_second_chain(
    app: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(app, 2)
    late, early = auditor(app), auditor(app)
    heads = iter([(0, GENESIS)])  # what `late` read before `early` sealed
    real_head = late.db.head
    monkeypatch.setattr(late.db, "head", lambda: next(heads, None) or real_head())
    first = early.seal(NOW)
    second = late.seal(NOW)
    assert (second.events, second.checkpoints, second.head) == (0, 0, first.head)
    report = auditor(app).verify()
    assert report.intact and report.checkpoints == first.checkpoints


def test_an_anchor_kept_elsewhere_exposes_a_rebuilt_chain(app: Services) -> None:
    fill(app, 2)
    sealed = auditor(app).seal(NOW)
    assert auditor(app).verify(anchors=[(sealed.head, sealed.chain_hash)]).intact
    raw = RawStore(app)
    raw.execute("UPDATE {table} SET topic = ? WHERE {position} = ?", "x", 3)
    checkpoints = auditor(app).db.table
    raw.execute(f"DELETE FROM {checkpoints}")  # the forger re-seals the altered store
    auditor(app).seal(NOW)
    assert auditor(app).verify().intact  # consistent with itself…
    report = auditor(app).verify(anchors=[(sealed.head, sealed.chain_hash)])
    assert [f.kind for f in report.findings] == ["anchor"]  # …but not with the kept head


def test_decisions_that_no_longer_give_the_same_result_are_reported(app: Services) -> None:
    fill(app, 2)
    report = auditor(app).verify(decisions=True)
    assert report.decisions_checked and report.decision_mismatches == []
    raw = RawStore(app)
    stored = raw.execute("SELECT {position}, state FROM {table} ORDER BY {position}", rows=True)
    position, state = next((p, bytes(s)) for p, s in stored
                           if b'"policy_id":"return.eligibility"' in bytes(s))
    forged = state.replace(b'"outcome":"', b'"outcome":"forged-', 1)
    raw.execute("UPDATE {table} SET state = ? WHERE {position} = ?", forged, position)
    report = auditor(app).verify(decisions=True)
    assert report.intact  # nothing was sealed: only the re-run can tell
    [mismatch] = report.decision_mismatches
    assert (mismatch.position, mismatch.policy_id) == (position, "return.eligibility")
    assert mismatch.recorded.startswith("forged-") and mismatch.rerun != mismatch.recorded


def test_audit_on_the_command_line_and_the_auditor_role(store_settings: Settings) -> None:
    env = {"AFTERSALES_DATABASE_URL": store_settings.database_url, "COLUMNS": "200"}
    if store_settings.postgres_schema:
        env["AFTERSALES_POSTGRES_SCHEMA"] = store_settings.postgres_schema

    def cli(*args: str) -> Result:
        return CliRunner().invoke(cli_app, list(args), env=env)

    app = open_app(eventsourcing_env(store_settings.database_url, store_settings.postgres_schema))
    try:
        end = fill(app, 2)
        worker = children.run(  # a real worker process, stopped by --seconds
            [sys.executable, "-m", "aftersales", "run", "--role", "auditor", "--seconds", "1"],
            capture_output=True, text=True, env={**os.environ, **env}, timeout=120, check=False)
        assert worker.returncode == 0, worker.stderr
        denied = cli("audit", "verify", "--as", "agent-1")
        assert denied.exit_code == 6 and "VerifyAudit denied" in denied.stderr
        done = cli("audit", "verify", "--format", "json", "--decisions", "--as", "auditor-1")
        assert done.exit_code == 0, done.stderr
        report = json.loads(done.stdout)
        assert report["intact"] and report["sealed_head"] == report["store_end"] == end
        assert report["decisions_checked"] > 0 and "events/s" in done.stderr
        sealed = cli("audit", "seal", "--format", "json")
        assert sealed.exit_code == 0 and json.loads(sealed.stdout)["sealed_events"] == 0
        assert cli("audit", "verify", "--anchor", "3:nothex", "--as", "auditor-1").exit_code == 2
        RawStore(app).execute("UPDATE {table} SET originator_version = 99 "
                              "WHERE {position} = 2")
        tampered = cli(
            "audit", "verify", "--anchor", f"{end}:{report['head_hash']}", "--as", "auditor-1"
        )
    finally:
        app.close()
    assert tampered.exit_code == 1
    assert "tampered" in tampered.stderr and "position 2" in tampered.stderr
    assert "TAMPERED" in tampered.stdout
