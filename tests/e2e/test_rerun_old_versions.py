"""`aftersales case rerun` of a case decided under v1 policies: each recorded decision re-runs
to its recorded outcome under its own version, though the current version decides otherwise."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path
from uuid import uuid4

from aftersales import children
from aftersales.bootstrap import open_app
from aftersales.settings import eventsourcing_env
from aftersales_core import policies
from aftersales_core.domain.returns import ReturnCase
from tests.factories import caller, ingest, order_paid, order_placed, pid, shipment

DELIVERED = datetime.fromisoformat("2026-06-01T10:00:00+00:00")
EVENING_OF_DAY_14 = datetime.fromisoformat("2026-06-15T20:00:00+00:00")  # 22:00 in Berlin


def test_a_v1_decision_reruns_to_its_recorded_outcome_from_the_cli(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'events.sqlite'}"
    app = open_app(eventsourcing_env(url, None))
    placed = order_placed("o-1", market="DE", currency="EUR",
                          at=datetime.fromisoformat("2026-05-25T10:00:00+00:00"))
    ingest(app, placed, order_paid(placed), shipment("o-1", "Delivered", DELIVERED))
    inputs = {
        "market": "DE", "fulfilment": "direct_mail", "currency": "EUR",
        "reason": "changed_mind", "wanted_outcome": "refund",
        "requested_at": EVENING_OF_DAY_14.isoformat(), "delivered_at": DELIVERED.isoformat(),
        "customs_released_at": None,
        "lines": [{"line_id": "2", "sku": "LAMP-9", "category": "home", "quantity": 1,
                   "unit_price": "60.00"}],
        "non_returnable_line_ids": [], "goods_intact": None, "buyer_timezone": None,
        "already_returned": [],
    }
    v1 = policies.evaluate("return.eligibility", inputs, version=1)  # 14 x 24 h: too late
    assert v1.outcome == "reject"
    assert policies.evaluate("return.eligibility", inputs).outcome == "approve"  # v2
    abuse = policies.evaluate("buyer.abuse_signal", {"customer_id": "c-1", "recent_orders": 1,
                                                     "recent_returns": 0})
    case = ReturnCase(id=uuid4(), order_id="o-1", customer_id="c-1",
                      lines=[{"line_id": "2", "quantity": 1}], reason="changed_mind",
                      wanted_outcome="refund", note=None, evidence=[], channel="web",
                      by=pid(app, "customer-c-1"), role="customer",
                      timestamp=EVENING_OF_DAY_14)
    case.decide(v1, abuse, None, EVENING_OF_DAY_14)
    app.work.commit(case)
    caller(app, "auditor-1")
    app.close()

    env = {**os.environ, "AFTERSALES_DATABASE_URL": url}
    done = children.run([sys.executable, "-m", "aftersales", "case", "rerun", str(case.id),
                           "--format", "json", "--as", "auditor-1"], capture_output=True,
                          text=True, env=env,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    eligibility = [r for r in rows if r["policy_id"] == "return.eligibility"]
    assert eligibility == [{"policy_id": "return.eligibility", "policy_version": 1,
                            "book": None, "recorded": "reject", "rerun": "reject",
                            "same": True}]  # recorded before policy books: built-in settings
    assert all(r["same"] for r in rows)
