"""What the read models say of service levels and logistics exceptions agrees with the
deadlines that judged them, after a runner as after a rebuild.

* `complaints`: a proactive complaint nobody answered, whose first response and resolution
  deadlines the scheduler fired, is breached on both (it was NULL: only a response set it);
  one answered and resolved in time is met on both. The report's headline counts it.
* `logistics_exceptions`: a row per exception that happened: the carrier's Lost, Damaged,
  DeliveryFailed scans, and a customs hold or a silence only when the watchdog found it over
  the policy's limit (it had no row for those, and one for a hold released in time)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from uuid import UUID, uuid4

from aftersales.bootstrap import scheduler_principal
from aftersales_core.application.services import Services
from aftersales_core.domain.ids import order_aggregate_id
from projections.db import ReadDatabase
from projections.insights.complaints import load
from projections.report import build, logistics
from scheduling.scheduler import Scheduler
from tests.factories import T0, caller, ingest, order_paid, order_placed, shipment
from tests.read_models import applied_by_a_runner, rebuilt_from

BASE = T0 + timedelta(days=2)
FIRED = BASE + timedelta(hours=100)


def shop(app: Services) -> dict[str, UUID]:
    scans = {
        "released": [("Dispatched", 0, "DHL"), ("CustomsHeld", 10, "DHL"),
                     ("CustomsReleased", 30, "DHL"), ("Delivered", 60, "DHL")],
        "held": [("Dispatched", 0, "UPS"), ("CustomsHeld", 10, "UPS")],  # 90 h at FIRED
        "silent": [("Dispatched", -24, "GLS")],  # 124 h without a scan at FIRED
        "damaged": [("Dispatched", 0, "DHL"), ("Damaged", 5, "DHL"), ("Delivered", 20, "DHL")],
    }
    for order_id, parcel in scans.items():
        placed = order_placed(order_id)
        ingest(app, placed, order_paid(placed),
               *[shipment(order_id, scan, BASE + timedelta(hours=h), carrier=carrier)
                 for scan, h, carrier in parcel])
    scheduler = Scheduler(app, scheduler_principal(app))
    fired = scheduler.fire_due(FIRED)
    proactive = {f.case_id: UUID(f.related["complaint_case_id"]) for f in fired
                 if f.action == "open_complaint"}
    assert set(proactive) == {order_aggregate_id("held"), order_aggregate_id("silent")}
    # nobody answers the held parcel's complaint: its deadlines fire a month later
    answered = uuid4()
    app.complaints.file(caller(app, "customer-c-1"), case_id=answered, order_id="released",
                        channel="email", category="service", description="slow", at=FIRED)
    agent = caller(app, "agent-1")
    app.complaints.acknowledge(agent, answered, FIRED + timedelta(hours=1))
    app.complaints.resolve(agent, case_id=answered, summary="explained",
                           at=FIRED + timedelta(hours=2))
    fired = scheduler.fire_due(FIRED + timedelta(days=30))
    late = proactive[order_aggregate_id("held")]
    assert {(f.case_id, f.name) for f in fired} >= {(late, "first_response"),
                                                   (late, "resolution")}
    return {"late": late, "answered": answered}


def complaint_sla(db: ReadDatabase, complaints: dict[str, UUID], column: str) -> dict:
    rows = {r["complaint_id"]: r for r in db.query("SELECT * FROM complaints")}
    return {name: rows[str(c)][column] for name, c in complaints.items()}


def deadline_states(db: ReadDatabase, case_id: UUID) -> dict[str, str]:
    return {r["name"]: r["state"] for r in db.query(
        "SELECT name, state FROM deadlines WHERE case_id = ?", [str(case_id)])}


def exceptions(db: ReadDatabase) -> list[tuple]:
    names = {str(order_aggregate_id(o)): o for o in ("released", "held", "silent", "damaged")}
    return sorted((names[r["order_aggregate_id"]], r["carrier"], r["direction"], r["exception"])
                  for r in db.query("SELECT * FROM logistics_exceptions"))


WANTED_EXCEPTIONS = [("damaged", "DHL", "outbound", "Damaged"),
                     ("held", "UPS", "outbound", "CustomsHeld"),
                     ("silent", "GLS", "outbound", "NoScan")]


def test_complaint_breaches_and_exceptions_after_runner_and_rebuild(
        app: Services, read_db: ReadDatabase, tmp_path: Path) -> None:
    complaints = shop(app)
    applied_by_a_runner(app, read_db)
    rebuilt = rebuilt_from(app, tmp_path, ["complaints", "logistics_exceptions", "deadlines"])
    for db in (read_db, rebuilt):
        assert deadline_states(db, complaints["late"]) == {
            "first_response": "breached", "resolution": "breached"}
        assert deadline_states(db, complaints["answered"]) == {
            "first_response": "met", "resolution": "met"}
        assert complaint_sla(db, complaints, "first_response_breached") == {
            "late": 1, "answered": 0}
        assert complaint_sla(db, complaints, "resolution_breached") == {
            "late": 1, "answered": 0}
        assert exceptions(db) == WANTED_EXCEPTIONS
    # the three proactive complaints (damaged, held, silent) were never answered
    breached = read_db.query("SELECT count(*) AS n FROM deadlines WHERE case_type = "
                             "'complaint' AND name = 'first_response' AND state = 'breached'")
    headline = build(read_db).headline
    assert headline["first responses late"] == breached[0]["n"] == 3
    resolutions = read_db.query("SELECT count(*) AS n FROM deadlines WHERE case_type = "
                                "'complaint' AND name = 'resolution' AND state = 'breached'")
    assert headline["resolutions late"] == resolutions[0]["n"] == 3
    rows = load(read_db, None, None)  # what `insights complaints` counts
    assert sum(r["response_late"] for r in rows) == 3
    assert sum(r["resolution_late"] for r in rows) == 3
    assert sum(r["resolution_judged"] and not r["resolution_late"] for r in rows) == 1
    assert sorted(tuple(r) for r in logistics(read_db).rows) == [
        ("DHL", "Damaged", 1), ("GLS", "NoScan", 1), ("UPS", "CustomsHeld", 1)]
    watched = read_db.query("SELECT event_id, occurred_at, detail FROM logistics_exceptions "
                            "WHERE exception = 'CustomsHeld'")[0]
    assert watched["occurred_at"] == FIRED.isoformat()
    assert "held at customs since" in watched["detail"]
    rebuilt.close()
