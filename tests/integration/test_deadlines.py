"""Deadlines on the real stores (SQLite and PostgreSQL): each market's refund and ship-back
deadlines through real commands, the scheduler and its index, duplicate and concurrent firing,
the watchdog, and `aftersales deadlines` on the command line."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from aftersales import children
from aftersales.bootstrap import open_app, scheduler_principal
from aftersales.settings import Settings, eventsourcing_env
from aftersales_core.application.services import Services
from aftersales_core.domain.complaints import ComplaintCase
from aftersales_core.domain.ids import order_aggregate_id
from aftersales_core.domain.refunds import RefundCase
from aftersales_core.domain.returns import ReturnCase
from aftersales_core.policies.calendar import end_of_day, zone
from scheduling.scheduler import Scheduler
from tests.factories import (
    T0,
    caller,
    cli_cast,
    delivered_order,
    ingest,
    order_paid,
    order_placed,
    shipment,
)

DELIVERED = T0 + timedelta(days=3)  # Thursday 5 March 2026
REQUESTED = T0 + timedelta(days=5)
LINE = [{"line_id": "2", "quantity": 1}]


def request(
    app: Services, order_id: str, reason: str, outcome: str = "refund", line: str = "2"
) -> UUID:
    case_id = uuid4()
    lines = [{"line_id": line, "quantity": 1}]
    app.returns.request(
        caller(app, "customer-c-1"), case_id, order_id, lines, reason, outcome, REQUESTED
    )
    return case_id


def deadline(app: Services, case_id: UUID, name: str, cls: Any = ReturnCase) -> Any:
    return app.store.load(cls, case_id).deadlines[name]


def end_of(day: str, zone_name: str) -> datetime:
    """The last instant of a calendar day in a zone: where periods of whole days end."""
    return end_of_day(date.fromisoformat(day), zone(zone_name))


def test_an_eu_withdrawal_refund_is_due_14_days_after_the_notice_and_follows_the_refund(
    app: Services,
) -> None:
    delivered_order(app, "o-1", market="DE", currency="EUR", delivered=DELIVERED)
    rid = request(app, "o-1", "changed_mind")  # Saturday 7 March, Berlin
    due = end_of("2026-03-21", "Europe/Berlin")
    assert deadline(app, rid, "ship_back").due_at == due
    assert "refund" not in app.store.load(ReturnCase, rid).deadlines  # held until the goods come
    ingest(app, shipment("o-1", "Dispatched", REQUESTED + timedelta(days=2), direction="return"))
    assert deadline(app, rid, "ship_back").state == "met"
    assert deadline(app, rid, "refund").due_at == due
    assert deadline(app, rid, "refund").set_by == {"policy_id": "deadlines", "policy_version": 6}
    app.returns.receive(caller(app, "warehouse-1"), rid, REQUESTED + timedelta(days=4))
    app.returns.inspect(caller(app, "warehouse-1"), rid, "A", REQUESTED + timedelta(days=5))
    resolved = app.resolutions.resolve(caller(app, "agent-1"), rid, REQUESTED + timedelta(days=6))
    assert deadline(app, rid, "refund").state == "met"
    refund_id = UUID(resolved.related["refund_case_id"])
    carried = deadline(app, refund_id, "refund", RefundCase)
    assert (carried.due_at, carried.state) == (due, "open")
    app.refunds.issue(caller(app, "payments-1"), refund_id, REQUESTED + timedelta(days=7))
    assert deadline(app, refund_id, "refund", RefundCase).state == "met"


def test_proof_of_dispatch_on_day_13_leaves_the_withdrawal_refund_due_on_day_14(
    app: Services,
) -> None:
    """Held only until the proof came, on day 13: still due by the end of day 14 (deadlines
    v3 made it the end of day 16, three days after the proof)."""
    delivered_order(app, "o-1", market="DE", currency="EUR", delivered=DELIVERED)
    rid = request(app, "o-1", "changed_mind")  # Saturday 7 March, Berlin: day 14 is 21 March
    ingest(app, shipment("o-1", "Dispatched", REQUESTED + timedelta(days=13),
                         direction="return"))
    refund = deadline(app, rid, "refund")
    assert refund.due_at == end_of("2026-03-21", "Europe/Berlin")
    assert refund.set_by == {"policy_id": "deadlines", "policy_version": 6}


@pytest.mark.parametrize(("market", "currency"), [("GB", "GBP"), ("FR", "EUR")])
def test_uk_and_eu_withdrawals_are_refunded_within_14_days_of_the_request(
    app: Services, market: str, currency: str
) -> None:
    delivered_order(app, "o-1", market=market, currency=currency, delivered=DELIVERED,
                    buyer_informed_of_return_cost=True)  # the buyer sends the goods back
    where = {"GB": "Europe/London", "FR": "Europe/Paris"}[market]
    rid = request(app, "o-1", "changed_mind")
    app.returns.receive(
        caller(app, "warehouse-1"), rid, REQUESTED + timedelta(days=20)
    )  # after the 14 days
    assert deadline(app, rid, "refund").due_at == end_of("2026-03-30", where)  # 3 days later
    early = request(app, "o-1", "changed_mind", line="1")  # line 2 is in the first return
    app.returns.receive(caller(app, "warehouse-1"), early, REQUESTED + timedelta(days=3))
    assert deadline(app, early, "refund").due_at == end_of("2026-03-21", where)


def test_a_cn_cross_border_return_goes_back_within_45_days_of_release_and_is_refunded_in_7(
    app: Services,
) -> None:
    delivered_order(
        app, "o-1", market="CN", currency="CNY", fulfilment="bonded", delivered=DELIVERED
    )
    released = DELIVERED - timedelta(days=1)  # 4 March, 17:00 in Shanghai
    assert released.isoformat() == "2026-03-04T09:00:00+00:00"
    rid = request(app, "o-1", "changed_mind")
    assert deadline(app, rid, "ship_back").due_at == end_of("2026-04-18", "Asia/Shanghai")
    assert "refund" not in app.store.load(ReturnCase, rid).deadlines  # counted from receipt
    received = REQUESTED + timedelta(days=10)  # 17 March
    app.returns.receive(caller(app, "warehouse-1"), rid, received)
    assert deadline(app, rid, "refund").due_at == end_of("2026-03-24", "Asia/Shanghai")


def test_a_us_refund_is_due_seven_working_days_after_the_return_arrives(
    app: Services,
) -> None:
    delivered_order(
        app,
        "o-1",
        market="US",
        currency="USD",
        fulfilment="domestic",
        delivered=DELIVERED,
        buyer_timezone="America/New_York",
    )
    rid = request(app, "o-1", "defective")
    friday = datetime.fromisoformat("2026-03-13T09:00:00+00:00")
    app.returns.receive(caller(app, "warehouse-1"), rid, friday)
    assert deadline(app, rid, "refund").due_at == end_of("2026-03-24", "America/New_York")


def test_us_working_days_skip_independence_day_and_count_in_the_buyers_calendar(
    app: Services,
) -> None:
    delivered_order(
        app,
        "o-1",
        market="US",
        currency="USD",
        fulfilment="domestic",
        delivered=datetime.fromisoformat("2026-06-26T15:00:00+00:00"),
    )
    rid = uuid4()
    app.returns.request(
        caller(app, "customer-c-1"),
        rid,
        "o-1",
        LINE,
        "defective",
        "refund",
        datetime.fromisoformat("2026-06-29T15:00:00+00:00"),
    )
    # 05:00 UTC on Thursday 2 July is still Wednesday 1 July in Honolulu, the US default zone
    app.returns.receive(
        caller(app, "warehouse-1"), rid, datetime.fromisoformat("2026-07-02T05:00:00+00:00")
    )
    refund = deadline(app, rid, "refund")
    # Thu 2, [Fri 3: Independence Day observed, the weekend], Mon 6 ... Fri 10, Mon 13
    assert refund.due_at == end_of("2026-07-13", "Pacific/Honolulu")
    assert "Independence Day (observed)" in refund.basis


def test_a_return_nobody_decided_is_escalated_and_one_not_shipped_back_expires(
    app: Services,
) -> None:
    delivered_order(app, "o-1", delivered=DELIVERED)
    delivered_order(app, "o-2", delivered=DELIVERED)
    review = request(app, "o-1", "changed_mind", outcome="repair")  # a repair without a fault
    approved = request(app, "o-2", "changed_mind")
    scheduler = Scheduler(app, scheduler_principal(app))
    assert scheduler.fire_due(REQUESTED + timedelta(hours=48)) == []
    fired = scheduler.fire_due(REQUESTED + timedelta(hours=49))
    assert [(f.case_id, f.name, f.action) for f in fired] == [(review, "decision", "escalate")]
    assert app.store.load(ReturnCase, review).escalations == ["supervisor"]
    fired = scheduler.fire_due(REQUESTED + timedelta(days=15))
    assert [(f.case_id, f.name, f.action, f.status) for f in fired] == [
        (approved, "ship_back", "expire", "expired")
    ]
    assert "refund" not in app.store.load(ReturnCase, approved).deadlines  # the goods never came


def test_firing_again_changes_nothing_in_the_store(app: Services) -> None:
    delivered_order(app, "o-1", delivered=DELIVERED)
    complaint = uuid4()
    app.complaints.file(
        caller(app, "customer-c-1"),
        complaint,
        "email",
        "service",
        "slow",
        REQUESTED,
        customer_id="c-1",
        order_id="o-1",
    )
    scheduler = Scheduler(app, scheduler_principal(app))
    later = REQUESTED + timedelta(days=8)
    fired = scheduler.fire_due(later)
    assert [(f.name, f.action) for f in fired] == [
        ("first_response", "escalate"),
        ("resolution", "escalate"),
    ]
    assert app.store.load(ComplaintCase, complaint).escalations == [
        "supervisor",
        "platform_arbitration",
    ]
    end = app.store.recorder.max_notification_id()
    assert (
        scheduler.fire_due(later) == []
        and Scheduler(app, scheduler_principal(app)).fire_due(later) == []
    )
    assert app.store.recorder.max_notification_id() == end
    listed = scheduler.index.listing(complaint)
    assert [d.name for d in listed] == []  # nothing open: escalated as far as it goes


def test_the_escalated_resolution_target_counts_from_the_missed_due_time_not_the_firing(
    app: Services,
) -> None:
    delivered_order(app, "o-1", delivered=DELIVERED)
    complaint = uuid4()
    app.complaints.file(caller(app, "customer-c-1"), complaint, "email", "service", "slow",
                        REQUESTED, customer_id="c-1", order_id="o-1")
    app.complaints.acknowledge(caller(app, "agent-3"), complaint, REQUESTED + timedelta(hours=1))
    missed = deadline(app, complaint, "resolution", ComplaintCase)
    scheduler = Scheduler(app, scheduler_principal(app))
    late = missed.due_at + timedelta(days=1)  # the scheduler was down for a day
    assert [(f.name, f.action) for f in scheduler.fire_due(late)] == [("resolution", "escalate")]
    escalated = deadline(app, complaint, "resolution_escalated", ComplaintCase)
    assert escalated.since == missed.due_at
    assert escalated.due_at == missed.due_at + timedelta(hours=72)  # not late + 72 hours
    # the same facts give the same target whenever the breach fired
    assert [(f.name, f.action) for f in scheduler.fire_due(late + timedelta(hours=49))] == [
        ("resolution_escalated", "escalate")]


def test_an_escalated_target_scheduled_from_the_firing_before_stays_current(
    app: Services,
) -> None:
    """Complaints stored before counted the escalated target from the breach's firing: their
    escalated deadline is still the current one, not replaced nor settled by the change."""
    delivered_order(app, "o-1", delivered=DELIVERED)
    complaint = uuid4()
    app.complaints.file(caller(app, "customer-c-1"), complaint, "email", "service", "slow",
                        REQUESTED, customer_id="c-1", order_id="o-1")
    app.complaints.acknowledge(caller(app, "agent-3"), complaint, REQUESTED + timedelta(hours=1))
    late = deadline(app, complaint, "resolution", ComplaintCase).due_at + timedelta(days=1)
    Scheduler(app, scheduler_principal(app)).fire_due(late)
    case = app.store.load(ComplaintCase, complaint)
    breached = case.deadlines["resolution"]
    assert breached.closed_at is not None
    case._deadline_scheduled(  # as the stored events of such a complaint have it
        name="resolution_escalated", due_at=breached.closed_at + timedelta(hours=72),
        action="escalate", basis="resolution within 72 more hours", since=breached.closed_at,
        set_by={"policy_id": "deadlines", "policy_version": 5}, timestamp=late)
    assert case.is_current(case.deadlines["resolution_escalated"])
    assert case.deadlines_to_schedule() == {}


def _fire_in_a_process(env: dict[str, str], now: str, barrier: Any, out: Any) -> None:
    app = open_app(env)
    try:
        scheduler = Scheduler(app, scheduler_principal(app))
        barrier.wait()
        out.put([(str(f.case_id), f.name) for f in scheduler.fire_due(datetime.fromisoformat(now))])
    finally:
        app.close()


def test_two_schedulers_firing_at_once_record_exactly_one_breach(
    app: Services, store_settings: Settings
) -> None:
    delivered_order(app, "o-1", delivered=DELIVERED)
    complaint = uuid4()
    app.complaints.file(
        caller(app, "customer-c-1"),
        complaint,
        "platform",
        "damaged",
        "broken",
        REQUESTED,
        customer_id="c-1",
    )
    Scheduler(app, scheduler_principal(app))  # creates the index tables before the race
    env = eventsourcing_env(store_settings.database_url, store_settings.postgres_schema)
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    now = (REQUESTED + timedelta(hours=13)).isoformat()
    procs = [
        ctx.Process(target=_fire_in_a_process, args=(env, now, barrier, out)) for _ in range(2)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert sorted(results, key=len) == [[], [(str(complaint), "first_response")]]
    names = [type(e).__name__ for e in app.store.events.get(complaint)]
    assert names.count("DeadlineBreached") == 1 and names.count("Escalated") == 1


def test_the_scheduler_opens_one_proactive_complaint_for_a_silent_parcel(
    app: Services,
) -> None:
    placed = order_placed("o-1")
    sent = T0 + timedelta(days=1)
    ingest(app, placed, order_paid(placed), shipment("o-1", "Dispatched", sent))
    scheduler = Scheduler(app, scheduler_principal(app))
    fired = scheduler.fire_due(sent + timedelta(hours=121))
    assert [(f.case_type, f.action) for f in fired] == [("order", "open_complaint")]
    complaint = UUID(fired[0].related["complaint_case_id"])
    assert app.store.load(ComplaintCase, complaint).proactive
    assert scheduler.fire_due(sent + timedelta(hours=130)) == []  # its deadlines are not due
    ingest(app, shipment("o-1", "Dispatched", sent))  # a redelivered scan changes nothing
    assert scheduler.fire_due(sent + timedelta(hours=121)) == []
    opened = [d.case_id for d in scheduler.index.listing() if d.case_type == "complaint"]
    assert opened == [complaint, complaint]  # its first response and resolution deadlines
    assert order_aggregate_id("o-1") not in {d.case_id for d in scheduler.index.listing()}


def test_a_stale_index_row_is_healed_from_the_aggregate(app: Services) -> None:
    delivered_order(app, "o-1", delivered=DELIVERED)
    complaint = uuid4()
    app.complaints.file(
        caller(app, "customer-c-1"),
        complaint,
        "email",
        "service",
        "slow",
        REQUESTED,
        customer_id="c-1",
    )
    app.complaints.acknowledge(caller(app, "agent-1"), complaint, REQUESTED + timedelta(hours=1))
    scheduler = Scheduler(app, scheduler_principal(app))
    scheduler.index.catch_up()
    version = app.store.load(ComplaintCase, complaint).version
    # 7 days, to the end of the 7th day after the filing in the zone of a complaint without
    # an order (anywhere on Earth, UTC-12)
    aoe = timezone(timedelta(hours=-12))
    resolution = datetime.combine(REQUESTED.astimezone(aoe).date() + timedelta(days=7),
                                  time.max, tzinfo=aoe)
    scheduler.index.reconcile(
        complaint,
        "complaint",
        version,
        [  # a row that lies
            ("first_response", REQUESTED + timedelta(hours=24), "escalate"),
            ("resolution", resolution, "escalate"),
        ],
    )
    later = REQUESTED + timedelta(hours=30)
    assert scheduler.fire_due(later) == [] and scheduler.stats.healed == 1
    assert [(d.name, d.due_at) for d in scheduler.index.listing(complaint)] == [
        ("resolution", resolution)
    ]
    assert scheduler.fire_due(later) == [] and scheduler.stats.healed == 1  # not asked again


def test_deadlines_fire_list_and_case_show_on_the_command_line(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "AFTERSALES_DATABASE_URL": f"sqlite:///{tmp_path / 'e.sqlite'}",
        "COLUMNS": "200",
    }

    def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return children.run(
            [sys.executable, "-m", "aftersales", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

    cli_cast(cli, "c-1")
    placed = order_placed("o-1")
    upstream = [placed, order_paid(placed), shipment("o-1", "Delivered", DELIVERED)]
    lines = "".join(json.dumps(m) + "\n" for m in upstream)
    assert cli("ingest", "-", "--as", "system.upstream", stdin=lines).returncode == 0
    filed = cli(
        "submit",
        "-",
        "--as",
        "customer-c-1",
        stdin=json.dumps(
            {
                "command": "FileComplaint",
                "customer_id": "c-1",
                "order_id": "o-1",
                "channel": "regulator",
                "category": "service",
                "description": "no answer",
                "at": REQUESTED.isoformat(),
            }
        ),
    )
    case_id = json.loads(filed.stdout)["case_id"]
    listed = json.loads(
        cli("deadlines", "list", "--case", case_id, "--format", "json", "--as", "agent-1").stdout
    )
    assert [(d["deadline"], d["due_at"]) for d in listed] == [
        ("first_response", (REQUESTED + timedelta(hours=12)).isoformat()),
        # the end of the 7th day after the filing in the order's market's zone (DE: Berlin)
        ("resolution", "2026-03-14T22:59:59.999999+00:00"),
    ]
    now = (REQUESTED + timedelta(hours=13)).isoformat()
    done = cli("deadlines", "fire", "--now", now, "--format", "json")
    assert done.returncode == 0, done.stderr
    assert [
        (f["case_id"], f["deadline"], f["action"], f["status"]) for f in json.loads(done.stdout)
    ] == [(case_id, "first_response", "escalate", "escalated")]
    again = cli("deadlines", "fire", "--now", now, "--format", "json")
    assert json.loads(again.stdout) == []
    shown = cli("case", "show", case_id, "--as", "agent-1")
    assert "deadlines" in shown.stdout and "breached" in shown.stdout
    assert "first response within 12 hours on the regulator channel" in shown.stdout
    # deadline decisions re-run the same
    assert cli("case", "rerun", case_id, "--as", "auditor-1").returncode == 0
    assert cli("deadlines", "fire", "--now", "tomorrow").returncode == 2
    two_days_ago = datetime.now(UTC) - timedelta(days=2)  # the worker reads the wall clock
    late = cli(
        "submit",
        "-",
        "--as",
        "customer-c-1",
        stdin=json.dumps(
            {
                "command": "FileComplaint",
                "customer_id": "c-1",
                "channel": "email",
                "category": "service",
                "description": "hello?",
                "at": two_days_ago.isoformat(),
            }
        ),
    )
    late_id = json.loads(late.stdout)["case_id"]
    worker = cli("run", "--role", "scheduler", "--seconds", "3")
    assert worker.returncode == 0, worker.stderr
    shown = json.loads(cli("case", "show", late_id, "--format", "json", "--as", "sup-1").stdout)
    assert shown["state"]["deadlines"]["first_response"]["state"] == "breached"
    assert shown["state"]["escalations"] == ["supervisor"]


def test_a_race_lost_to_another_scheduler_is_no_failure(
        app: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Two schedulers fire a silent parcel's watchdog at once: the one that commits second is
    refused by the store (the proactive complaint exists already). That is the README's
    "changes nothing the second time", not a failure: asked again, nothing is due; no ERROR,
    no refused command."""
    from aftersales_core.errors import AlreadyExistsError

    placed = order_placed("o-1")
    sent = T0 + timedelta(days=1)
    ingest(app, placed, order_paid(placed), shipment("o-1", "Dispatched", sent))
    real, raced = app.deadlines.fire, []

    def other_scheduler_first(*args: Any, **kwargs: Any) -> Any:
        if not raced:  # the other scheduler commits first; this one's commit then fails
            raced.append(real(*args, **kwargs))
            raise AlreadyExistsError("complaint case exists already")
        return real(*args, **kwargs)

    monkeypatch.setattr(app.deadlines, "fire", other_scheduler_first)
    scheduler = Scheduler(app, scheduler_principal(app))
    with caplog.at_level("INFO", logger="scheduling.scheduler"):
        assert scheduler.fire_due(sent + timedelta(hours=121)) == []
    assert [(f.case_type, f.action) for f in raced[0]] == [("order", "open_complaint")]
    assert scheduler.stats.failed == 0
    assert scheduler.stats.work.commands.get(("FireDeadlines", "refused"), 0) == 0
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert any("another scheduler fired them first" in r.getMessage() for r in caplog.records)


def test_every_scheduler_counts_every_breach_whoever_fired_it(app: Services) -> None:
    """The deadline index's position is shared by the store's schedulers: what one of them read
    into it the others never read. Their breach counters (aftersales_deadlines_breached_total)
    still count every breach the store recorded since they opened, each once."""
    for order_id in ("o-1", "o-2", "o-3"):
        placed = order_placed(order_id)
        ingest(app, placed, order_paid(placed),
               shipment(order_id, "Dispatched", T0 + timedelta(days=1)))
    first = Scheduler(app, scheduler_principal(app))
    second = Scheduler(app, scheduler_principal(app))
    assert len(first.fire_due(T0 + timedelta(days=20))) == 3
    assert second.fire_due(T0 + timedelta(days=20)) == []  # nothing left: the first fired all
    watchdog = {k: n for k, n in second.index.breached.items() if k[1].startswith("watchdog")}
    assert sum(watchdog.values()) == 3 and set(watchdog) == {
        ("order", f"watchdog:{shipment_id}", "open_complaint")
        for shipment_id in {k[1].split(":", 1)[1] for k in watchdog}}
    assert sum(n for k, n in first.index.breached.items() if k[1].startswith("watchdog")) == 3
    assert second.fire_due(T0 + timedelta(days=20)) == []
    assert sum(n for k, n in second.index.breached.items() if k[1].startswith("watchdog")) == 3
