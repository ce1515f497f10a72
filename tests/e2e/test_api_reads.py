"""Reads over real HTTP on SQLite and PostgreSQL: cursor pages that hold every row once in
order (also sorted by a column with empty values, and while rows are added), filters, a case
as of an earlier moment, an order's facts (and who sent them) and cases."""

from __future__ import annotations

import base64
import json
import subprocess
import time
from datetime import timedelta
from typing import Any

from aftersales_core.application.principals import principal_id_of
from api.export import OUT
from tests.api_server import ApiServer
from tests.e2e.conftest import T0, World, command, now
from tests.e2e.test_cli import AFTERSALES


def pages(api: ApiServer, who: str, path: str, **params: Any) -> list[list[dict[str, Any]]]:
    found, cursor = [], None
    with api.client(who) as client:
        while True:
            query = {**params, **({"cursor": cursor} if cursor else {})}
            done = client.get(path, params=query)
            assert done.status_code == 200, done.text
            data = done.json()
            found.append(data["items"])
            cursor = data["next_cursor"]
            if cursor is None:
                return found


def test_pages_hold_every_row_once_in_order(api: ApiServer, world: World) -> None:
    with api.client("agent-1") as agent:
        for i in range(7):
            command(agent, {"command": "RequestRefund", "order_id": "o-2", "source": "goodwill",
                            "reason": f"page {i}", "amount": f"0.{i + 1}0",
                            "at": now()}, 201)
    api.refresh_projections()
    with api.client("auditor-1") as auditor:
        everything = auditor.get("/v1/cases", params={"limit": 1000}).json()["items"]
    for order_by in (None, "opened_at", "-opened_at", "next_deadline", "-next_deadline",
                     "amount", "-version"):
        params = {"limit": 3, **({"order_by": order_by} if order_by else {})}
        got = pages(api, "auditor-1", "/v1/cases", **params)
        rows = [r for page in got for r in page]
        assert len(rows) == len(everything) and all(len(p) <= 3 for p in got), order_by
        assert {r["case_id"] for r in rows} == {r["case_id"] for r in everything}
        if order_by:
            column = order_by.lstrip("-")
            present = [r[column] for r in rows if r[column] is not None]
            assert present == sorted(present, reverse=order_by.startswith("-")), order_by
            assert all(r[column] is None for r in rows[len(present):]), order_by
    refunds = [r for page in pages(api, "auditor-1", "/v1/projections/refunds",
                                   order_id="o-2", limit=2) for r in page]
    assert len(refunds) == 7 and {r["order_id"] for r in refunds} == {"o-2"}


def test_a_cursor_belongs_to_its_listing(api: ApiServer, world: World) -> None:
    api.refresh_projections()
    with api.client("auditor-1") as auditor:
        first = auditor.get("/v1/cases", params={"limit": 1}).json()
        assert first["next_cursor"]
        other = auditor.get("/v1/cases", params={"limit": 1, "order_by": "opened_at",
                                                 "cursor": first["next_cursor"]})
        assert other.status_code == 400 and other.json()["errors"][0]["field"] == "cursor"
        forged = first["next_cursor"][:-4] + "AAAA"
        assert auditor.get("/v1/cases", params={"limit": 1, "cursor": forged}
                           ).status_code == 400
        assert auditor.get("/v1/projections/decisions", params={"position": "x"}
                           ).status_code == 400


def test_a_limit_in_other_digits_than_ascii_is_refused_not_a_crash(api: ApiServer,
                                                                    world: World) -> None:
    with api.client("auditor-1") as auditor:
        for limit in ("\u00b26", "\u0663", "\uff15", "1\u2070", " 5", "+5", "0", "1001"):
            done = auditor.get("/v1/projections/shipment_orders", params={"limit": limit})
            assert done.status_code == 400, (limit, done.text)
            assert done.json()["errors"][0]["field"] == "limit"


def test_a_case_as_of_an_earlier_moment(api: ApiServer, world: World) -> None:
    between = now()  # after the complaint was filed, before it is acknowledged
    time.sleep(0.01)
    with api.client("agent-1") as agent:
        command(agent, {"command": "AcknowledgeComplaint", "case_id": world.complaint_case,
                        "at": now()})
    with api.client("auditor-1") as auditor:
        current = auditor.get(f"/v1/cases/{world.complaint_case}").json()
        then = auditor.get(f"/v1/cases/{world.complaint_case}", params={"as_of": between})
        assert then.status_code == 200 and "etag" not in then.headers
        earlier = then.json()
        assert earlier["as_of"] is not None and earlier["version"] < current["version"]
        assert earlier["status"] != current["status"]
        events = auditor.get(f"/v1/cases/{world.complaint_case}/events").json()["events"]
        acknowledged = [e for e in events if e["type"].endswith("Acknowledged")]
        assert acknowledged and acknowledged[0]["data"]["role"] == "agent"
        assert acknowledged[0]["data"]["by"]
        before = auditor.get(f"/v1/cases/{world.complaint_case}",
                             params={"as_of": (T0 - timedelta(days=1)).isoformat()})
        assert before.status_code == 404


def test_an_orders_facts_and_cases(api: ApiServer, world: World) -> None:
    api.refresh_projections()
    with api.client("customer-c-1") as customer:
        order = customer.get(f"/v1/orders/{world.order}")
        assert order.status_code == 200 and order.json()["case_type"] == "order"
        cases = customer.get(f"/v1/orders/{world.order}/cases").json()["items"]
        assert world.return_case in {c["case_id"] for c in cases}
        assert {c["order_id"] for c in cases} == {world.order}
    with api.client("analyst-1") as analyst:
        shown = analyst.get(f"/v1/cases/{world.complaint_case}").json()
        assert shown["view"] == "redacted" and "broken lamp" not in str(shown)


def test_an_orders_facts_sent_over_http_name_the_principal_that_sent_them(
        api: ApiServer, world: World) -> None:
    """The world's orders were delivered by upstream-1 with its API key: every fact of the
    order records that principal's id and the role it sent them in."""
    with api.client("auditor-1") as auditor:
        events = auditor.get(f"/v1/orders/{world.order}").json()["events"]
    facts = [e for e in events if e["type"].rsplit(".", 1)[1] in
             ("Placed", "Paid", "ShipmentScanned")]
    assert len(facts) >= 3
    upstream = str(principal_id_of("upstream-1"))
    assert {(e["data"]["by"], e["data"]["role"]) for e in facts} == {(upstream, "upstream")}


def test_the_denial_log_in_pages(api: ApiServer, world: World) -> None:
    with api.client("analyst-1") as analyst:
        for _ in range(5):
            assert analyst.get("/v1/audit/verification").status_code == 403
    with api.client("auditor-1") as auditor:
        whole = auditor.get("/v1/audit/denials", params={"principal": "analyst-1"}).json()
        assert whole["next_cursor"] is None and len(whole["items"]) >= 5
        got = pages(api, "auditor-1", "/v1/audit/denials", principal="analyst-1", limit=2)
        rows = [r for page in got for r in page]
        assert [r["id"] for r in rows] == [r["id"] for r in whole["items"]]
        assert all(len(p) <= 2 for p in got)
        first = auditor.get("/v1/audit/denials", params={"principal": "analyst-1", "limit": 2})
        other = auditor.get("/v1/audit/denials", params={
            "principal": "agent-1", "limit": 2, "cursor": first.json()["next_cursor"]})
        assert other.status_code == 400 and other.json()["errors"][0]["field"] == "cursor"


def test_the_report_is_what_aftersales_report_prints(api: ApiServer, world: World) -> None:
    api.refresh_projections()
    with api.client("analyst-1") as analyst:
        done = analyst.get("/v1/report")
    assert done.status_code == 200, done.text
    printed = subprocess.run(
        [*AFTERSALES, "report", "--format", "json", "--output", str(api.log.parent / "r.html")],
        text=True, capture_output=True, timeout=300, check=False,
        env={**api.env, "AFTERSALES_PRINCIPAL": "analyst-1"})
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout) == done.json()  # one object, as the API answers
    assert done.json()["sections"] and done.json()["headline"]


def test_every_projection_pages_filters_and_sorts(api: ApiServer, world: World) -> None:
    api.refresh_projections()
    document = json.loads(OUT.read_bytes())
    paths = [p for p in document["paths"] if p.startswith("/v1/projections/")]
    assert "/v1/projections/product_deltas" not in paths  # a work queue, not a view
    with api.client("auditor-1") as auditor:
        for path in paths:
            parameters = document["paths"][path]["get"]["parameters"]
            column = parameters[0]
            value = "x" if column["schema"]["type"] == "string" else 0
            for params in ({"limit": 1}, {"order_by": f"-{column['name']}", "limit": 2},
                           {column["name"]: value}):
                done = auditor.get(path, params=params)
                assert done.status_code == 200, (path, params, done.text)
        assert auditor.get("/v1/projections/product_deltas").status_code == 404


def test_open_deadlines_come_in_pages_each_once_in_due_order(api: ApiServer,
                                                              world: World) -> None:
    with api.client("auditor-1") as auditor:
        everything = auditor.get("/v1/deadlines").json()
        assert everything["next_cursor"] is None and len(everything["items"]) >= 3
        rows = [r for page in pages(api, "auditor-1", "/v1/deadlines", limit=2) for r in page]
        assert rows == everything["items"]
        keys = [(r["due_at"], r["case_id"], r["deadline"]) for r in rows]
        assert keys == sorted(keys) and len(set(keys)) == len(keys)
        first = auditor.get("/v1/deadlines", params={"limit": 1}).json()
        other = auditor.get("/v1/deadlines", params={
            "limit": 1, "case": world.complaint_case, "cursor": first["next_cursor"]})
        assert other.status_code == 400 and other.json()["errors"][0]["field"] == "cursor"
        text = first["next_cursor"]
        fingerprint = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))[0]
        crafted = [[fingerprint, "0001-01-01T00:00:00+14:00", world.return_case, "x"],
                   [fingerprint, "2026-01-01T00:00:00", world.return_case, "x"],
                   [fingerprint, "2026-01-01T00:00:00Z", "not-a-uuid", "x"],
                   [fingerprint, "2026-01-01T00:00:00Z", world.return_case, 7],
                   [fingerprint, "2026-01-01T00:00:00Z"]]
        for forged in ("AAAA", text[:-6] + "AAAAAA", *(
                base64.urlsafe_b64encode(json.dumps(c).encode()).decode() for c in crafted)):
            done = auditor.get("/v1/deadlines", params={"cursor": forged})
            assert done.status_code == 400, (forged, done.text)
