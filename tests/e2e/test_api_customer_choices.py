"""What a cold reviewer tried over HTTP against `aftersales serve`, on SQLite and PostgreSQL: a
customer choosing who pays or a case's id is 403 naming the field; another customer's
idempotency key opens the caller's own case (never "exists already"); refunds split under
the threshold wait for a supervisor once their sum crosses it; every problem names the real
field; unknown markets are refused; every answer carries the security headers."""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.api_server import ApiServer
from tests.e2e.conftest import T0, World, command, now
from tests.factories import order_paid, order_placed, shipment


def stored_events(api: ApiServer) -> int:
    with api.app() as services:
        return services.store.recorder.max_notification_id() or 0


def problem(done: httpx.Response, status: int) -> dict[str, Any]:
    assert done.status_code == status, done.text
    assert done.headers["content-type"] == "application/problem+json"
    data: dict[str, Any] = done.json()
    assert "(message)" not in done.text
    return data


def test_a_customer_choosing_who_pays_or_the_estimate_is_forbidden_naming_the_field(
        api: ApiServer, world: World) -> None:
    before = stored_events(api)
    with api.client("customer-c-1") as customer:
        for fields, named in (({"buyer_informed_of_return_cost": False},
                               "buyer_informed_of_return_cost"),
                              ({"return_shipping_estimate": "999.00"},
                               "return_shipping_estimate"),
                              ({"case_id": str(uuid.uuid4())}, "case_id")):
            done = customer.post("/v1/commands", json={
                "command": "RequestReturn", "order_id": "o-1", "reason": "damaged",
                "lines": [{"line_id": "1", "quantity": 1}], "at": now(), **fields})
            found = problem(done, 403)
            assert found["exit_code"] == 6 and f"{named}: only the merchant's staff" in \
                found["detail"]
    assert stored_events(api) == before


def test_another_customers_idempotency_key_opens_the_callers_own_case(
        api: ApiServer, world: World) -> None:
    def complaint(order: str) -> dict[str, Any]:
        return {"command": "FileComplaint", "order_id": order, "channel": "email",
                "category": "damaged", "description": "cracked", "at": now(),
                "idempotency_key": "storefront-complaint-1"}

    with api.client("customer-c-1") as first, api.client("customer-c-2") as second:
        mine = command(first, complaint("o-1"), 201)
        again = problem(first.post("/v1/commands", json=complaint("o-1")), 422)
        assert again["type"].endswith(":already_exists") and mine["case_id"] in again["detail"]
        other = problem(first.post("/v1/commands", json={**complaint("o-1"),
                                                          "description": "dented"}), 409)
        assert other["type"].endswith(":idempotency_key_conflict") and other["exit_code"] == 4
        assert "storefront-complaint-1" in other["detail"] and "dented" not in other["detail"]
        theirs = command(second, complaint("o-2"), 201)  # not 422: nothing about c-1 shows
        assert theirs["case_id"] != mine["case_id"]
        nobody = str(uuid.uuid4())
        hidden = problem(second.get(f"/v1/cases/{mine['case_id']}"), 404)
        missing = problem(second.get(f"/v1/cases/{nobody}"), 404)
        assert hidden["detail"].replace(mine["case_id"], "ID") == \
            missing["detail"].replace(nobody, "ID")


def test_refunds_split_under_the_threshold_wait_for_a_supervisor_once_the_sum_crosses_it(
        api: ApiServer, world: World) -> None:
    order = "o-split"
    placed = order_placed(order, customer_id="c-2", at=T0, lines=[
        {"line_id": "1", "sku": "TV", "category": "electronics", "quantity": 1,
         "unit_price": "900.00"}])
    with api.client("upstream-1") as upstream:
        assert upstream.post("/v1/upstream-events", json=placed).status_code == 200
        paid = {"event_id": f"{order}-paid", "event_type": "OrderPaid", "occurred_at": now(),
                "order_id": order, "payment_id": "p-1", "method": "card",
                "amount": placed["total"], "currency": "EUR"}
        assert upstream.post("/v1/upstream-events", json=paid).status_code == 200

    def refund(amount: str) -> dict[str, Any]:
        with api.client("agent-1") as agent:
            return command(agent, {"command": "RequestRefund", "order_id": order,
                                   "source": "goodwill", "reason": "late", "amount": amount,
                                   "at": now()}, 201)

    assert refund("125.00")["status"] == "approved"
    assert refund("125.00")["status"] == "approved"  # 250.00: the threshold exactly
    over = refund("0.01")
    assert over["status"] == "awaiting_approval"
    assert "applies to the order's sum" in over["decisions"][-1]["reasons"][0]
    with api.client("agent-2") as agent:
        denied = problem(agent.post("/v1/commands", json={
            "command": "ApproveRefund", "case_id": over["case_id"], "at": now()}), 403)
    assert "above the approval threshold" in denied["detail"]


def test_every_problem_names_the_real_field(api: ApiServer, world: World) -> None:
    with api.client("agent-1") as agent:
        untyped = problem(agent.post("/v1/commands", json={"order_id": "o-1"}), 400)
        assert untyped["errors"] == [{"field": "command", "detail": "Field required"}]
        whole = problem(agent.post("/v1/commands", json=[1, 2]), 400)
        assert whole["errors"][0]["field"] == "(document)"
        fine = problem(agent.post("/v1/commands", json={
            "command": "RequestRefund", "order_id": "o-1", "source": "goodwill",
            "reason": "late", "amount": "1.001", "at": now()}), 400)
        assert fine["errors"] == [{"field": "amount",
                                   "detail": "1.001 has more decimals than EUR allows (2)"}]
        assert fine["detail"].startswith("amount: 1.001")
    with api.client("upstream-1") as upstream:
        untyped = problem(upstream.post("/v1/upstream-events", json={"order_id": "o-9"}), 400)
        assert untyped["errors"] == [{"field": "event_type", "detail": "Field required"}]
        nowhere = problem(upstream.post("/v1/upstream-events", json=order_placed(
            "o-xx", market="XX")), 400)
        assert nowhere["errors"][0]["field"] == "market"
        assert "'XX' is not a market" in nowhere["errors"][0]["detail"]
        assert "CN, GB, US" in nowhere["errors"][0]["detail"]


SECURITY = {"x-content-type-options": "nosniff", "x-frame-options": "DENY",
            "referrer-policy": "no-referrer"}


def secure(done: httpx.Response, html: bool = False) -> None:
    for name, value in SECURITY.items():
        assert done.headers.get(name) == value, (done.request.url, name, done.headers)
    policy = done.headers["content-security-policy"]
    assert policy.startswith("default-src 'none'") and "frame-ancestors 'none'" in policy
    if html:  # the one inline style runs, by its hash; nothing else does
        style = re.search(r"<style>(.*?)</style>", done.text, re.DOTALL)
        assert style is not None
        digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
        assert f"style-src 'sha256-{digest}'" in policy
        assert "unsafe-inline" not in policy and "script-src" not in policy


def test_every_answer_carries_the_security_headers(api: ApiServer, world: World) -> None:
    with api.client("auditor-1") as auditor, api.client() as anonymous:
        secure(auditor.get("/v1/me"))
        secure(auditor.get(f"/v1/cases/{world.return_case}"))
        secure(auditor.get("/v1/openapi.json"))
        secure(auditor.get("/v1/nowhere"))  # a problem document
        secure(anonymous.get("/v1/me"))  # 401
        secure(anonymous.get("/healthz"))
        for path in ("/v1/policy-books/platform/published?lang=en&format=html",
                     "/v1/policy-books/platform/published?lang=zh-CN&format=html"):
            page = auditor.get(path)
            assert page.status_code == 200 and page.headers["content-type"].startswith(
                "text/html")
            secure(page, html=True)
        assert auditor.get(f"/v1/cases/{world.return_case}").headers["cache-control"] == \
            "no-store"


def test_the_desk_keeps_its_own_stricter_headers(api: ApiServer, world: World) -> None:
    with httpx.Client(base_url=api.url, follow_redirects=False) as browser:
        for path in ("/desk/sign-in", "/desk/queue", "/desk/nowhere"):
            done = browser.get(path)
            assert done.headers["x-content-type-options"] == "nosniff", path
            policy = done.headers["content-security-policy"]
            assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy, path
        page = browser.get("/desk/sign-in")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        static = re.search(r'href="(/desk/static/[^"]+)"', page.text)
        if static is not None:
            asset = browser.get(static.group(1))
            assert asset.headers["x-content-type-options"] == "nosniff"


def test_a_market_nobody_assigned_changes_nothing(api: ApiServer, world: World) -> None:
    before = stored_events(api)
    with api.client("upstream-1") as upstream:
        for market in ("ZZ", "EU", "UK"):
            found = problem(upstream.post("/v1/upstream-events", json=order_placed(
                f"o-{market}", market=market)), 400)
            assert found["exit_code"] == 2 and found["errors"][0]["field"] == "market"
    assert stored_events(api) == before


def test_a_customer_cannot_date_a_return_back_into_its_window_or_freeze_a_case(
        api: ApiServer, world: World) -> None:
    """A cold reviewer's exploits: a changed-mind return asked after the 14 days, dated back
    inside them, was approved with a refund; a message dated 2199 froze the case against every
    staff act until then. Both are 400 naming ``at`` and store nothing; staff may still say an
    act happened earlier."""
    delivered = datetime.now(UTC) - timedelta(days=20)
    placed = order_placed("o-late", customer_id="c-1", at=delivered - timedelta(days=3))
    with api.client("upstream-1") as upstream:
        for message in (placed, order_paid(placed), shipment("o-late", "Delivered", delivered)):
            assert upstream.post("/v1/upstream-events", json=message).status_code == 200
    before = stored_events(api)
    back = {"command": "RequestReturn", "order_id": "o-late", "reason": "changed_mind",
            "lines": [{"line_id": "1", "quantity": 1}],
            "at": (delivered + timedelta(days=2)).isoformat()}
    future = {"command": "AddComplaintMessage", "case_id": world.complaint_case,
              "direction": "in", "text": "hello", "at": "2199-12-31T00:00:00Z"}
    with api.client("customer-c-1") as customer:
        for body in (back, future):
            found = problem(customer.post("/v1/commands", json=body), 400)
            assert [e["field"] for e in found["errors"]] == ["at"], found
        assert stored_events(api) == before
        asked = command(customer, {k: v for k, v in back.items() if k != "at"}, 201)
    assert asked["status"] == "rejected"  # decided when it was asked: 20 days after delivery
    with api.client("agent-1") as agent:
        assert problem(agent.post("/v1/commands", json={**future, "direction": "out"}),
                       400)["errors"][0]["field"] == "at"
        command(agent, {"command": "RequestRefund", "order_id": "o-late", "source": "goodwill",
                        "reason": "late", "amount": "1.00",
                        "at": (delivered + timedelta(days=5)).isoformat()}, 201)
