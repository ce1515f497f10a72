"""An open desk session is checked again at every request against what authentication would
say of its API key now: a key another principal issued stops working when its holder becomes
an administrator (access v4), also for a session signed in with it before (the same denial as
the API's); a revoked key or a disabled principal ends the session too. Over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx
import pytest

from api.key_admin import KeyAdmin
from server.keys import ApiKeys
from tests.api_server import ApiServer, make_server
from tests.factories import admin

REFRESH = {"X-Desk-Fetch": "1"}  # the queue's own refresh: 401 instead of a redirect


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    server = make_server(tmp_path_factory.mktemp("desk-sessions"), "sqlite")
    server.start()
    yield server
    server.stop()


@contextmanager
def _signed_in(desk: ApiServer, token: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=desk.url, follow_redirects=False, timeout=60) as client:
        client.get("/desk/sign-in")
        signed = client.post("/desk/sign-in", data={"csrf": client.cookies["desk_signin"],
                                                    "credential": token})
        assert signed.status_code == 303, signed.text
        assert client.get("/desk/queue").status_code == 200
        yield client


def _signed_out(client: httpx.Client) -> None:
    page = client.get("/desk/queue")
    assert page.status_code == 303 and "/desk/sign-in" in page.headers["location"]


def _denials(desk: ApiServer, principal: str) -> list[tuple[str, str]]:
    with desk.client("auditor-1") as auditor:
        found = auditor.get("/v1/audit/denials", params={"operation": "Authenticate"}).json()
    return [(d["rule"], d["via"]) for d in found["items"] if d["principal"] == principal]


def test_a_session_of_a_key_another_admin_issued_ends_when_its_holder_becomes_an_admin(
        desk: ApiServer) -> None:
    token = desk.keys["analyst-1"]  # issued by the test's administrator
    with _signed_in(desk, token) as client:
        with desk.app() as services:
            services.principals.grant(admin(services), "analyst-1", "admin", datetime.now(UTC))
        assert client.get("/desk/queue/rows", headers=REFRESH).status_code == 401
        _signed_out(client)  # the session ended: signing in again is refused as well
        client.get("/desk/sign-in")
        again = client.post("/desk/sign-in", data={"csrf": client.cookies["desk_signin"],
                                                   "credential": token})
        assert again.status_code == 401
    with desk.client("analyst-1") as api:
        assert api.get("/v1/me").status_code == 401
    assert sorted(_denials(desk, "analyst-1")) == [  # the desk's check, the sign-in, the API
        ("api.admin_key_by_other", "desk"), *[("api.admin_key_by_other", "http")] * 2]


def test_revoking_the_key_ends_an_open_session(desk: ApiServer) -> None:
    token = desk.key_for("agent-7", label="desk")
    with _signed_in(desk, token) as client:
        with desk.app() as services:
            KeyAdmin(services, ApiKeys(services.store.recorder)).revoke(
                admin(services), "agent-7", token.split("_")[1], datetime.now(UTC))
        assert client.get("/desk/queue/rows", headers=REFRESH).status_code == 401
        _signed_out(client)
    # the use of the dead key is on record, as the API's would be
    assert _denials(desk, "agent-7") == [("api.key_refused", "desk")]


def test_disabling_the_principal_ends_an_open_session(desk: ApiServer) -> None:
    with _signed_in(desk, desk.keys["agent-3"]) as client:
        with desk.app() as services:
            services.principals.disable(admin(services), "agent-3", "left", datetime.now(UTC))
        refused = client.get("/desk/queue")
        assert refused.status_code == 403 and "disabled" in refused.text  # says why, once
        _signed_out(client)
