"""Authentication over real HTTP: API keys (missing, malformed, unknown, wrong secret,
revoked, expired, a disabled principal: 401; never echoed, stored only as a hash) and OIDC
bearer tokens signed with the test's own RSA keys, published in a JWKS file and at a loopback
JWKS URL (issuer, audience, expiry, signature and algorithm checked by PyJWT; roles narrowed
by the role claim)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from aftersales_core.errors import NotAuthorisedError
from tests.api_server import ApiServer, make_server
from tests.factories import admin, caller, order_placed

ISSUER, AUDIENCE = "https://idp.example.test/", "aftersales-api"


def test_requests_without_usable_credentials_are_401_problems(api: ApiServer) -> None:
    good = api.keys["agent-1"]
    key_id = good.split("_")[1]
    for header in (None, "Basic abc", "Bearer", f"Bearer {good}x",
                   f"Bearer ask_{key_id}_{'A' * 43}", "Bearer ask_0000000000000000_" + "B" * 43,
                   "Bearer not-a-key", "Bearer a.b.c"):
        with api.client(**({"Authorization": header} if header else {})) as client:
            done = client.get("/v1/me")
        assert done.status_code == 401, header
        assert done.headers["content-type"] == "application/problem+json"
        assert done.headers["www-authenticate"].startswith("Bearer")
        assert good[-20:] not in done.text


def test_two_authorization_headers_are_401_whichever_is_good(api: ApiServer) -> None:
    """Which of two credentials counts is for no proxy and no server to guess: neither."""
    good = f"Bearer {api.keys['agent-1']}"
    for pair in ((good, "Bearer not-a-key"), ("Bearer not-a-key", good), (good, good)):
        with httpx.Client(base_url=api.url) as client:
            done = client.get("/v1/me", headers=[("Authorization", v) for v in pair])
        assert done.status_code == 401, pair
        assert "one Authorization header" in done.json()["detail"]


def test_a_key_is_stored_only_as_its_hash_and_revocation_counts_at_once(
        api: ApiServer) -> None:
    token = api.key_for("agent-7", label="revoke me")
    with api.client(Authorization=f"Bearer {token}") as client:
        assert client.get("/v1/me").json()["principal"] == "agent-7"
    db = api.settings.database_url
    if db.startswith("sqlite:///"):
        with sqlite3.connect(db.removeprefix("sqlite:///")) as conn:
            stored = " ".join(str(v) for row in conn.execute("SELECT * FROM api_keys")
                              for v in row)
        assert token.split("_")[2] not in stored
    with api.app() as services:
        from api.key_admin import KeyAdmin
        from server.keys import ApiKeys
        KeyAdmin(services, ApiKeys(services.store.recorder)).revoke(
            admin(services), "agent-7", token.split("_")[1], datetime.now(UTC))
    with api.client(Authorization=f"Bearer {token}") as client:
        done = client.get("/v1/me")
    assert done.status_code == 401 and "revoked" in done.json()["detail"]
    with api.client("auditor-1") as auditor:
        denials = auditor.get("/v1/audit/denials", params={"operation": "Authenticate"}).json()
    assert any(d["rule"] == "api.key_refused" and d["principal"] == "agent-7"
               for d in denials["items"])


def test_an_expired_key_and_a_disabled_principal_are_401(api: ApiServer) -> None:
    token = api.key_for("agent-3", expires_at=datetime.now(UTC) + timedelta(seconds=2))
    with api.client(Authorization=f"Bearer {token}") as client:
        assert client.get("/v1/me").status_code == 200
        time.sleep(2.5)
        done = client.get("/v1/me")
    assert done.status_code == 401 and "expired" in done.json()["detail"]
    with api.app() as services:
        services.principals.disable(admin(services), "analyst-1", "left", datetime.now(UTC))
    with api.client("analyst-1") as client:
        done = client.get("/v1/report")
    assert done.status_code == 401 and "disabled" in done.json()["detail"]



def test_an_administrator_keys_themselves_but_never_another_administrator(
        api: ApiServer) -> None:
    """A key for another administrator would let its issuer act, and be recorded, as them
    (SECURITY: repudiation): refused, logged, nothing stored; their own key and keys of
    principals without the admin role are issued as before."""
    from api.key_admin import KeyAdmin
    from server.keys import ApiKeys
    from tests.factories import ADMIN

    with api.app() as services:
        boss = admin(services)
        services.principals.add(boss, "admin-2", ["admin"], datetime.now(UTC))
        keys = KeyAdmin(services, ApiKeys(services.store.recorder))
        with pytest.raises(NotAuthorisedError, match="would let its issuer act as them"):
            keys.issue(boss, "admin-2", datetime.now(UTC))
        assert keys.listing(boss, "admin-2") == []
        own = keys.issue(boss, ADMIN, datetime.now(UTC)).token
        agent = keys.issue(boss, "agent-2", datetime.now(UTC), label="by an admin").token
    for token, name in ((own, ADMIN), (agent, "agent-2")):
        with api.client(Authorization=f"Bearer {token}") as client:
            assert client.get("/v1/me").json()["principal"] == name
    with api.client("auditor-1") as auditor:
        denials = auditor.get("/v1/audit/denials", params={"operation": "IssueApiKey"}).json()
    assert [(d["principal"], d["rule"]) for d in denials["items"]] == [
        (ADMIN, "access.holder_not_admin")]

# ---- OIDC -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def signing() -> dict[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    return {"key": key, "other": other, "jwks": {"keys": [{**public, "kid": "k1",
                                                           "use": "sig", "alg": "RS256"}]}}


def token(signing: dict[str, Any], *, key: Any = None, kid: str = "k1", **claims: Any) -> str:
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": "sup-2", "iat": now, "exp": now + 300,
               "roles": ["supervisor"], **claims}
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, key or signing["key"], algorithm="RS256", headers={"kid": kid})


@pytest.fixture(scope="module")
def oidc(signing: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[ApiServer]:
    path = tmp_path_factory.mktemp("oidc")
    jwks = path / "jwks.json"
    jwks.write_text(json.dumps(signing["jwks"]))
    server = make_server(path, "sqlite", {
        "AFTERSALES_OIDC_ISSUER": ISSUER, "AFTERSALES_OIDC_AUDIENCE": AUDIENCE,
        "AFTERSALES_OIDC_JWKS_FILE": str(jwks)})
    with server.app() as services:
        services.principals.grant(admin(services), "agent-1", "supervisor", datetime.now(UTC))
    server.start()
    yield server
    server.stop()


def me(server: ApiServer, bearer: str) -> tuple[int, dict[str, Any]]:
    with server.client(Authorization=f"Bearer {bearer}") as client:
        done = client.get("/v1/me")
    return done.status_code, done.json()


def test_a_valid_token_names_a_stored_principal_in_the_roles_it_may_use(
        oidc: ApiServer, signing: dict[str, Any]) -> None:
    status, data = me(oidc, token(signing))
    assert status == 200 and data["principal"] == "sup-2" and data["roles"] == ["supervisor"]
    assert data["credential"] == "oidc"
    # agent-1 holds agent and supervisor in the store; a token naming agent acts as agent only
    status, data = me(oidc, token(signing, sub="agent-1", roles=["agent", "admin"]))
    assert status == 200 and data["roles"] == ["agent"]
    with oidc.client(Authorization=f"Bearer {token(signing, sub='agent-1', roles=['agent'])}"
                     ) as client:
        assert client.get("/v1/cases/00000000-0000-4000-8000-000000000000/rerun"
                          ).status_code == 403  # RerunDecisions: supervisors, not agents
    status, data = me(oidc, token(signing, sub="agent-1", roles="agent supervisor"))
    assert sorted(data["roles"]) == ["agent", "supervisor"]


@pytest.mark.parametrize("change", [
    {"iss": "https://evil.example.test/"}, {"aud": "someone-else"},
    {"exp": int(time.time()) - 3600}, {"sub": "nobody-here"}, {"sub": None},
    {"roles": None}, {"roles": 7}, {"sub": "ALICE\u202e"},
])
def test_tokens_for_another_issuer_audience_expired_or_naming_nobody_are_401(
        oidc: ApiServer, signing: dict[str, Any], change: dict[str, Any]) -> None:
    status, data = me(oidc, token(signing, **change))
    assert status == 401, data
    assert data["type"] == "urn:aftersales:problem:unauthenticated"


@pytest.mark.parametrize(("sub", "roles"), [("system.scheduler", ["scheduler"]),
                                           ("system.upstream", ["upstream"]),
                                           ("SYSTEM.Upstream", ["upstream"])])
def test_a_token_naming_a_built_in_principal_is_401_and_logged(
        oidc: ApiServer, signing: dict[str, Any], sub: str, roles: list[str]) -> None:
    with oidc.app() as services:  # both exist, as in a running engine
        caller(services, "system.scheduler")
        caller(services, "system.upstream")
    bearer = token(signing, sub=sub, roles=roles)
    status, data = me(oidc, bearer)
    assert status == 401 and "built-in principals" in data["detail"], data
    with oidc.client(Authorization=f"Bearer {bearer}") as client:
        fact = order_placed(f"o-{sub}")
        assert client.post("/v1/upstream-events", json=fact).status_code == 401
        assert client.get("/v1/deadlines").status_code == 401
    with oidc.client("auditor-1") as auditor:
        denials = auditor.get("/v1/audit/denials", params={"operation": "Authenticate"}).json()
    assert any(d["rule"] == "api.system_principal" and d["principal"] == sub.lower()
               for d in denials["items"]), denials


@pytest.mark.parametrize("sub", ["Sup-2", "SUP-2", "sup-\uff12", "\uff53up-2"])
def test_a_subject_differing_only_in_case_or_width_is_not_that_principal(
        oidc: ApiServer, signing: dict[str, Any], sub: str) -> None:
    """OIDC subjects are case-sensitive and opaque: ``Sup-2`` is another person than ``sup-2``.
    Principal names fold case and width (look-alikes are one identity), so only the subject
    spelt exactly as the principal's name is that principal: 401, logged, for any other."""
    status, data = me(oidc, token(signing, sub=sub))
    assert status == 401 and "spelt exactly as the principal's name" in data["detail"], data
    assert me(oidc, token(signing, sub="sup-2"))[0] == 200  # the principal's own subject
    with oidc.client("auditor-1") as auditor:
        denials = auditor.get("/v1/audit/denials", params={"operation": "Authenticate"}).json()
    assert any(d["rule"] == "api.oidc_subject_folded" and d["principal"] == "sup-2"
               for d in denials["items"]), denials
    assert repr(sub) in oidc.log.read_text()  # the log line names the subject refused

def test_a_token_signed_with_another_key_unsigned_or_symmetric_is_401(
        oidc: ApiServer, signing: dict[str, Any]) -> None:
    assert me(oidc, token(signing, key=signing["other"]))[0] == 401
    assert me(oidc, token(signing, kid="unknown"))[0] == 401
    payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": "sup-2", "exp": int(time.time()) + 60,
               "roles": ["supervisor"]}
    assert me(oidc, jwt.encode(payload, None, algorithm="none"))[0] == 401
    # the classic confusion: HS256 keyed with the public key, built by hand
    public_pem = signing["key"].public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}).encode())
    body = _b64(json.dumps(payload).encode())
    mac = hmac.new(public_pem, f"{head}.{body}".encode(), hashlib.sha256).digest()
    assert me(oidc, f"{head}.{body}.{_b64(mac)}")[0] == 401


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class _Jwks(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        pass


def test_keys_from_a_jwks_url(signing: dict[str, Any], tmp_path: Path) -> None:
    _Jwks.body = json.dumps(signing["jwks"]).encode()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Jwks)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/jwks.json"
    server = make_server(tmp_path, "sqlite", {
        "AFTERSALES_OIDC_ISSUER": ISSUER, "AFTERSALES_OIDC_AUDIENCE": AUDIENCE,
        "AFTERSALES_OIDC_JWKS_URL": url})
    server.start()
    try:
        status, data = me(server, token(signing))
        assert status == 200 and data["principal"] == "sup-2"
        assert me(server, token(signing, key=signing["other"]))[0] == 401
        httpd.shutdown()
        httpd.server_close()
    finally:
        server.stop()
