"""The desk in a real headless browser: Debian's ``chromium`` (installed by `make test`)
driven by Playwright for Python, against `aftersales serve` started once per module over a
real SQLite store (tests/api_server.py), with axe-core (from the PyPI package
``axe-playwright-python``, injected by the test, never fetched at run time) checking each page
for serious or critical accessibility violations. Screenshots go to ``var/screenshots/``."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.api_server import ApiServer, make_server
from tests.factories import T0, order_paid, order_placed, run, shipment

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
BIG_ORDER_LINES = [{"line_id": "1", "sku": "TV-55", "category": "electronics", "quantity": 1,
                    "unit_price": "900.00"}]


@dataclass
class DeskWorld:
    """What the module's store holds: an overdue complaint (filed long ago on a big order),
    a fresh one (its first response still ahead) and a return."""

    overdue_complaint: str
    fresh_complaint: str
    return_case: str
    audited_complaint: str  # filed on day 5 at 09:00 UTC, answered at 15:00 UTC


AUDITED_REPLY = "Your parcel is held at customs; we have sent the invoice."


def _post(server: ApiServer, who: str, body: dict[str, Any], path: str = "/v1/commands"
          ) -> dict[str, Any]:
    with server.client(who) as client:
        done = client.post(path, json=body)
    assert done.status_code in (200, 201), done.text
    result: dict[str, Any] = done.json()
    return result


def populate(server: ApiServer) -> DeskWorld:
    """Orders through the service API; the cases of day 5 loaded as history through the
    operator's path (the service API dates a customer's act when it arrives), the fresh
    complaint through the service API now."""
    placed = order_placed("o-big", customer_id="c-1", lines=BIG_ORDER_LINES, market="DE")
    for message in (placed, order_paid(placed),
                    shipment("o-big", "Delivered", T0 + timedelta(days=3))):
        _post(server, "upstream-1", message, "/v1/upstream-events")
    placed = order_placed("o-2", customer_id="c-2")
    for message in (placed, order_paid(placed),
                    shipment("o-2", "Delivered", T0 + timedelta(days=3))):
        _post(server, "upstream-1", message, "/v1/upstream-events")
    at = (T0 + timedelta(days=5)).isoformat()
    with server.app() as history:
        overdue = run(history, "customer-c-1", {
            "command": "FileComplaint", "customer_id": "c-1", "order_id": "o-big",
            "channel": "email", "category": "damaged", "at": at,
            "description": "The television arrived with a cracked screen."})
        returned = run(history, "customer-c-2", {
            "command": "RequestReturn", "order_id": "o-2", "reason": "defective", "at": at,
            "lines": [{"line_id": "2", "quantity": 1}]})
        audited = run(history, "customer-c-2", {
            "command": "FileComplaint", "customer_id": "c-2", "order_id": "o-2",
            "channel": "chat", "category": "customs", "at": at,
            "description": "Customs asks me for an invoice."})
        run(history, "agent-3", {
            "command": "AddComplaintMessage", "case_id": str(audited.case_id),
            "direction": "out", "channel": "chat", "text": AUDITED_REPLY,
            "at": (T0 + timedelta(days=5, hours=6)).isoformat()})
    fresh = _post(server, "customer-c-2", {
        "command": "FileComplaint", "customer_id": "c-2", "order_id": "o-2",
        "channel": "platform", "category": "logistics_delay",
        "at": datetime.now(UTC).isoformat(), "description": "Where is my parcel?"})
    server.refresh_projections()
    return DeskWorld(str(overdue.case_id), fresh["case_id"], str(returned.case_id),
                     str(audited.case_id))


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    server = make_server(tmp_path_factory.mktemp("desk"), "sqlite",
                         {"AFTERSALES_DESK_POLL_SECONDS": "2"})
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def world(desk: ApiServer) -> DeskWorld:
    return populate(desk)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if shutil.which("chromium") is None and not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: `make test` installs it "
                    "(apt-get install -y chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=["--no-sandbox", "--disable-gpu"])
        yield launched
        launched.close()


def context(browser: Browser, server: ApiServer, *, zone: str = "Europe/Berlin",
            locale: str = "en-GB") -> BrowserContext:
    found = browser.new_context(base_url=server.url, timezone_id=zone, locale=locale,
                                viewport={"width": 1280, "height": 900})
    found.set_default_timeout(30_000)
    return found


def sign_in(page: Page, key: str, language: str | None = None) -> None:
    page.goto("/desk/sign-in")
    page.locator("#credential").fill(key)
    if language:
        page.locator("#lang").select_option(language)
    page.locator("form[action='/desk/sign-in'] button[type=submit]").click()


def shot(page: Page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _axe_source() -> str:
    return resources.files("axe_playwright_python").joinpath(
        "axe.min.js").read_text(encoding="utf-8")


def axe(page: Page) -> list[dict[str, Any]]:
    """Serious or critical axe-core violations on the page as it is now (none expected)."""
    page.evaluate(_axe_source())  # evaluated by the test driver: the page's CSP still holds
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    found = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    if found:
        print(json.dumps([{k: v[k] for k in ("id", "impact", "help")} |
                          {"nodes": [n["target"] for n in v["nodes"]][:5]} for v in found],
                         indent=1))
    return found
