"""What a cold tester found on the desk: a case address whose id is no UUID (mistyped,
truncated, pasted with a stray character) is a case that does not exist, the desk's "not
found" page, never an internal error with a traceback in the log; a bad desk setting stops
`aftersales serve` before it serves; the approvals name the matrix's reason for not offering
an approval; refunds by status say their currency and link to exactly their cases. Over
real HTTP."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from aftersales.brokers.process import free_port
from tests.api_server import ApiServer, make_server
from tests.factories import T0, admin, order_paid, order_placed, shipment

BIG_LINES = [{"line_id": "1", "sku": "TV-55", "category": "electronics", "quantity": 1,
              "unit_price": "900.00"}]


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    server = make_server(tmp_path_factory.mktemp("desk-odd"), "sqlite")
    server.start()
    yield server
    server.stop()


def _post(server: ApiServer, who: str, body: dict[str, Any], path: str = "/v1/commands"
          ) -> dict[str, Any]:
    with server.client(who) as client:
        done = client.post(path, json=body)
    assert done.status_code in (200, 201), done.text
    result: dict[str, Any] = done.json()
    return result


def _order(server: ApiServer, order_id: str, customer_id: str, **options: Any) -> None:
    placed = order_placed(order_id, customer_id=customer_id, **options)
    for message in (placed, order_paid(placed),
                    shipment(order_id, "Delivered", T0 + timedelta(days=3))):
        _post(server, "upstream-1", message, "/v1/upstream-events")


@pytest.fixture(scope="module")
def complaint(desk: ApiServer) -> str:
    _order(desk, "o-odd", "c-1")
    filed = _post(desk, "agent-1", {
        "command": "FileComplaint", "customer_id": "c-1", "order_id": "o-odd",
        "channel": "email", "category": "other", "description": "Where is my parcel?"})
    return str(filed["case_id"])


@contextmanager
def signed_in(desk: ApiServer, token: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=desk.url, follow_redirects=False, timeout=60) as client:
        client.get("/desk/sign-in")
        signed = client.post("/desk/sign-in", data={"csrf": client.cookies["desk_signin"],
                                                    "credential": token})
        assert signed.status_code == 303, signed.text
        yield client


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


ODD_IDS: dict[str, Callable[[str], str]] = {  # how an id of a real case may arrive mistyped
    "a word": lambda real: "not-a-uuid",
    "a number": lambda real: "12345",
    "one character too many": lambda real: real + "x",
    "one character too few": lambda real: real[:-1],
    "truncated": lambda real: real[:8],
    "a right-to-left override": lambda real: "%E2%80%AE",
}


@pytest.mark.parametrize("odd", sorted(ODD_IDS))
def test_a_case_address_that_is_no_uuid_is_not_found(desk: ApiServer, complaint: str,
                                                     odd: str) -> None:
    target = ODD_IDS[odd](complaint)
    before = desk.log.read_text()
    with signed_in(desk, desk.keys["agent-1"]) as client:
        shown = client.get(f"/desk/cases/{complaint}")
        assert shown.status_code == 200
        csrf = csrf_of(shown)
        page = client.get(f"/desk/cases/{target}")
        assert page.status_code == 404, page.text
        assert "Not found" in page.text and "internal error" not in page.text
        for action in ("act", "assign"):
            posted = client.post(f"/desk/cases/{target}/{action}",
                                 data={"csrf": csrf, "command": "AddComplaintMessage"},
                                 headers={"Origin": desk.url})
            assert posted.status_code == 404, (action, posted.text)
            assert "Not found" in posted.text
        reopened = client.get(f"/desk/cases/{target}/act")
        assert reopened.status_code == 404
    logged = desk.log.read_text()[len(before):]
    assert "Traceback" not in logged and "internal error" not in logged, logged[-3000:]


@pytest.mark.parametrize(("variable", "value"), [
    ("AFTERSALES_DESK_IDLE_MINUTES", "1"), ("AFTERSALES_DESK_SESSION_HOURS", "0"),
    ("AFTERSALES_DESK_SECURE_COOKIE", "sometimes-secret-words"),
    ("AFTERSALES_DESK_POLL_SECONDS", "often")])
def test_serve_refuses_to_start_with_a_bad_desk_setting(tmp_path: Path, variable: str,
                                                        value: str) -> None:
    """As for every other setting: exit 2 naming the variable, never its value, before
    serving (not a healthy-looking server whose every desk page fails)."""
    server = make_server(tmp_path, "sqlite", {variable: value})
    done = subprocess.run([sys.executable, "-m", "aftersales", "serve", "--port",
                           str(free_port())], env=server.env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2, done.stderr
    assert variable in done.stderr and "serving on" not in done.stderr
    assert value not in done.stderr.replace(variable, "")


def _row(page: httpx.Response, case_id: str) -> str:
    found = re.search(rf'<tr data-case="{case_id}">(.*?)</tr>', page.text, re.DOTALL)
    assert found, page.text
    return found.group(1)


def test_the_approvals_say_why_a_supervisor_may_not_approve_a_refund_paid_to_them(
        desk: ApiServer) -> None:
    """A supervisor who is also the order's customer is refused by the matrix (nobody approves
    a refund paid to themselves): the approvals name that reason, as the API does, not
    "Needs a supervisor" to a supervisor; a requester reads "your own request"."""
    with desk.app() as services:
        services.principals.add(admin(services), "carl", ["supervisor", "customer"], T0,
                                customer_id="c-1")
    carl = desk.key_for("carl")
    _order(desk, "o-carl", "c-1", lines=BIG_LINES)
    refund = _post(desk, "agent-1", {"command": "RequestRefund", "order_id": "o-carl",
                                     "source": "goodwill", "reason": "late",
                                     "amount": "500.00"})
    assert refund["status"] == "awaiting_approval", refund
    refund_id = str(refund["case_id"])
    with httpx.Client(base_url=desk.url, headers={"Authorization": f"Bearer {carl}"}) as api:
        refused = api.post("/v1/commands", json={"command": "ApproveRefund",
                                                 "case_id": refund_id})
        assert refused.status_code == 403 and "paid to themselves" in refused.text
    desk.refresh_projections()
    with signed_in(desk, carl) as client:
        row = _row(client.get("/desk/approvals"), refund_id)
        assert "The refund is paid to you" in row and "Needs a supervisor" not in row
        assert 'value="ApproveRefund"' not in row
    with signed_in(desk, desk.keys["agent-1"]) as client:
        row = _row(client.get("/desk/approvals"), refund_id)
        assert "Your own request" in row and 'value="ApproveRefund"' not in row
    with signed_in(desk, desk.keys["sup-1"]) as client:
        row = _row(client.get("/desk/approvals"), refund_id)
        assert 'value="ApproveRefund"' in row


def test_refunds_by_status_say_their_currency_and_each_number_lists_exactly_its_cases(
        desk: ApiServer) -> None:
    """One status in two currencies is two rows (and two bars), each naming its currency;
    the link behind each number carries the currency, so the queue lists its cases only."""
    _order(desk, "o-eur", "c-1")
    _order(desk, "o-gbp", "c-2", market="GB", currency="GBP")
    for order_id, amount in (("o-eur", "4.00"), ("o-gbp", "5.00"), ("o-gbp", "6.00")):
        _post(desk, "agent-2", {"command": "RequestRefund", "order_id": order_id,
                                "source": "goodwill", "reason": "late", "amount": amount})
    desk.refresh_projections()
    with signed_in(desk, desk.keys["analyst-1"]) as client:
        page = client.get("/desk/analysis")
        assert page.status_code == 200
        section = page.text.split("Refunds by status", 1)[1].split("</section>", 1)[0]
        rows = re.findall(r'<tr>\s*<th scope="row">([^<]+)</th><td>([A-Z]{3})</td>\s*'
                          r'<td class="num"><a href="([^"]+)"[^>]*>(\d+)</a>', section)
        by_status: dict[str, set[str]] = {}
        for status, currency, link, count in rows:
            by_status.setdefault(status, set()).add(currency)
            assert f"currency={currency}" in html.unescape(link)
            listed = client.get(html.unescape(link))
            assert listed.text.count("<tr data-case=") == int(count), (status, currency)
        assert any(found == {"EUR", "GBP"} for found in by_status.values()), rows
        labels = re.findall(r'class="chart-label">([^<]+)<', section)
        assert labels and all(label.endswith((" · EUR", " · GBP")) for label in labels)
        unknown = client.get("/desk/queue", params={"currency": "XYZ", "scope": "all"})
        assert unknown.status_code == 200 and "Currency" in unknown.text.split(
            'role="alert"', 1)[1].split("</p>", 1)[0]
