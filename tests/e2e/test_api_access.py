"""The permission matrix over real HTTP, route by route, on SQLite and PostgreSQL, and a BOLA
sweep: customer c-2 sends every route and every command with customer c-1's ids, and gets
word for word what ids that do not exist give."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from aftersales_core.policies.access import roles_for
from tests.api_server import ApiServer
from tests.e2e.conftest import T0, World, now
from tests.e2e.test_exit_codes import ACTORS, REFUSALS
from tests.factories import STAFF, shipment

ROLE_OF = {name: roles[0] for name, roles in STAFF.items()}
ROLE_OF["customer-c-1"] = "customer"
PRINCIPALS = ["agent-2", "sup-1", "warehouse-1", "carrier-1", "payments-1", "auditor-1",
              "analyst-1", "upstream-1", "customer-c-1"]
MISSING = "00000000-0000-4000-8000-000000000000"


def body_of(name: str, case_id: str, who: str) -> dict[str, Any]:
    """A valid body of command ``name`` on ``case_id`` (a case-opening command: on an order
    that does not exist)."""
    fields = next(f for n, _, f, _ in REFUSALS if n == name)
    body = {k: v for k, v in fields.items() if k not in ACTORS}
    if "order_id" in body:
        body["order_id"] = "o-none"
    if name == "FileComplaint":
        body["customer_id"] = "c-1" if who.startswith("customer") else "c-9"
        body["order_id"] = "o-none"
    else:
        body.setdefault("case_id", case_id)
    if name in ("RequestReturn", "RequestRefund", "FileComplaint"):
        body.pop("case_id", None)
    return {"command": name, "at": now(), **body}


@pytest.mark.parametrize("who", PRINCIPALS)
def test_every_command_is_403_for_a_role_the_matrix_does_not_list_and_reaches_the_case_else(
        api: ApiServer, world: World, who: str) -> None:
    with api.client(who) as client:
        for name, *_ in REFUSALS:
            done = client.post("/v1/commands", json=body_of(name, MISSING, who))
            allowed = ROLE_OF[who] in roles_for(name)
            assert done.status_code == (404 if allowed else 403), (name, done.text)
            assert done.headers["content-type"] == "application/problem+json"


PROJECTION_PATHS = [path for path in json.loads(
    (Path(__file__).parents[2] / "api" / "openapi.json").read_text())["paths"]
                    if path.startswith("/v1/projections/")]
CUSTOMER_TABLES = ("cases", "complaints", "refunds", "orders")
CASE_READERS = {"customer", "agent", "supervisor", "warehouse", "payments", "auditor", "analyst"}
LISTERS = CASE_READERS - {"payments"}  # payments: refunds, and cases redacted, nothing else
READS = {  # path template: the roles SECURITY.md and README's role table let read it
    "/v1/cases/{case}": CASE_READERS,
    "/v1/cases/{case}/events": CASE_READERS,
    "/v1/cases/{case}/decisions": CASE_READERS,
    "/v1/cases/{case}/deadlines": CASE_READERS,
    "/v1/cases/{case}/rerun": {"supervisor", "auditor"},
    "/v1/orders/{order}": CASE_READERS,
    "/v1/orders/{order}/cases": LISTERS,
    "/v1/cases": LISTERS,
    **{path: LISTERS if path.rsplit("/", 1)[1] in CUSTOMER_TABLES  # customers: their own
       else LISTERS - {"customer"} for path in PROJECTION_PATHS},  # rows of these only
    "/v1/report": {"agent", "supervisor", "auditor", "analyst"},
    "/v1/deadlines": {"agent", "supervisor", "auditor"},
    "/v1/audit/denials": {"auditor"},
    "/v1/audit/verification": {"auditor"},
    "/v1/audit/erasures": {"auditor"},
}


@pytest.mark.parametrize("template", sorted(READS))
def test_every_read_is_allowed_exactly_to_the_roles_the_documents_list(
        api: ApiServer, world: World, template: str) -> None:
    path = template.format(case=world.return_case, order=world.order)
    for who in PRINCIPALS:
        with api.client(who) as client:
            done = client.get(path)
        allowed = ROLE_OF[who] in READS[template]
        assert done.status_code == (200 if allowed else 403), (who, path, done.text)


def test_who_may_deliver_upstream_facts(api: ApiServer, world: World) -> None:
    scan = shipment("o-1", "InTransit", datetime.now(UTC), direction="return")
    outbound = shipment("o-1", "InTransit", T0 + timedelta(days=2))
    for who, body, status in [("upstream-1", scan, 200), ("carrier-1", scan, 200),
                              ("carrier-1", outbound, 403), ("agent-2", scan, 403),
                              ("customer-c-1", scan, 403)]:
        with api.client(who) as client:
            assert client.post("/v1/upstream-events", json=body).status_code == status, who


def _same(a: httpx.Response, b: httpx.Response, mine: str, missing: str) -> None:
    assert a.status_code == b.status_code, (a.text, b.text)
    left, right = a.json(), b.json()
    if a.status_code >= 400:
        for data in (left, right):
            data.pop("request_id"), data.pop("instance")
        assert left == {k: (v.replace(missing, mine) if isinstance(v, str) else v)
                        for k, v in right.items()}
    else:
        assert left == right


def test_bola_sweep_another_customers_ids_read_as_ids_that_do_not_exist(
        api: ApiServer, world: World) -> None:
    missing_case, missing_order = str(uuid.uuid4()), "o-nope"
    with api.client("customer-c-2") as other:
        for case in (world.return_case, world.refund_case, world.complaint_case):
            for template in list(READS)[:5]:  # the case routes
                _same(other.get(template.format(case=case)),
                      other.get(template.format(case=missing_case)), case, missing_case)
            for name, *_ in REFUSALS:
                body = body_of(name, case, "customer-c-2")
                if "case_id" not in body:
                    continue
                _same(other.post("/v1/commands", json=body),
                      other.post("/v1/commands", json={**body, "case_id": missing_case}),
                      case, missing_case)
        for template in ("/v1/orders/{order}", "/v1/orders/{order}/cases"):
            _same(other.get(template.format(order=world.order)),
                  other.get(template.format(order=missing_order)), world.order, missing_order)
        api.refresh_projections()
        for path in ("/v1/cases", "/v1/projections/cases", "/v1/projections/refunds",
                     "/v1/projections/complaints", "/v1/projections/orders"):
            rows = other.get(path).json()["items"]
            assert all(r.get("customer_id") in (None, "c-2") for r in rows), path
            assert other.get(path, params={"customer_id": "c-1"}).json()["items"] == []
        mine = other.get("/v1/cases").json()["items"]
        assert world.return_case not in {r["case_id"] for r in mine}
    with api.client("customer-c-1") as owner:
        assert owner.get(f"/v1/cases/{world.return_case}").status_code == 200
        assert world.return_case in {r["case_id"] for r in owner.get("/v1/cases").json()["items"]}


def test_a_body_naming_another_actor_is_refused_and_logged(api: ApiServer, world: World
                                                           ) -> None:
    with api.client("agent-2") as agent:
        done = agent.post("/v1/commands", json={"command": "ApproveRefund", "at": now(),
                                                 "case_id": world.refund_case,
                                                 "approver": "sup-1"})
    assert done.status_code == 403
    with api.client("auditor-1") as auditor:
        denials = auditor.get("/v1/audit/denials", params={"principal": "agent-2"}).json()
    assert any(d["rule"] == "access.actor_in_body" and d["via"] == "http"
               for d in denials["items"])


def test_a_command_for_another_kind_of_case_is_404_naming_it_not_a_denial_by_that_kinds_rules(
        api: ApiServer, world: World) -> None:
    """ApproveReturn with a refund's id, ApproveRefund with a return's: the refund's rules
    (the threshold, who asked for it) were judged on the wrong case, so an agent was told 403
    "above the approval threshold only a supervisor approves" or "nobody approves what they
    requested" (and the denial logged for auditors). Whoever may read the case is told what it
    is; a customer who may not gets what a missing case gets."""
    since = datetime.now(UTC).isoformat()
    tries = [("agent-1", "ApproveReturn", world.refund_case, "refund", "return"),
             ("agent-2", "ApproveRefund", world.return_case, "return", "refund"),
             ("agent-2", "IssueRefund", world.return_case, "return", "refund"),
             ("customer-c-1", "CancelReturn", world.refund_case, "refund", "return")]
    for who, name, case, kind, wanted in tries:
        with api.client(who) as client:
            done = client.post("/v1/commands", json=body_of(name, case, who))
        if who == "agent-2" and name == "IssueRefund":  # a role the matrix does not list
            assert done.status_code == 403, done.text
            continue
        assert done.status_code == 404, (who, name, done.text)
        assert done.json()["detail"] == f"{case} is a {kind} case, not a {wanted} case", done.text
    with api.client("customer-c-2") as other:
        hidden = other.post("/v1/commands", json=body_of("CancelReturn", world.refund_case,
                                                         "customer-c-2"))
    assert hidden.status_code == 404 and hidden.json()["detail"] == f"no case {world.refund_case}"
    with api.client("auditor-1") as auditor:
        denials = auditor.get("/v1/audit/denials", params={"since": since}).json()["items"]
    assert [(d["principal"], d["operation"], d["rule"]) for d in denials] == [
        ("agent-2", "IssueRefund", "access.role"), ("customer-c-2", "ReadCase", "access.own")]
