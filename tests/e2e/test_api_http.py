"""The HTTP edge of the real server: problem documents for every kind of bad input (each bad
field named, nothing sent echoed back), 413 over the body limit (declared or streamed), 415,
unknown routes, slow and malformed HTTP that never takes the server down, per-principal rate
limits, metrics, request logs without credentials, a graceful stop, and one server per port."""

from __future__ import annotations

import gzip
import json
import secrets
import signal
import socket
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from aftersales import children
from aftersales_core.domain.ids import order_aggregate_id
from tests.api_server import ApiServer, make_server
from tests.e2e.conftest import World
from tests.e2e.test_cli import AFTERSALES
from tests.factories import order_placed

SECRET_TEXT = "PERSONAL-Jane-Doe-+44-20-7946-0958"


def problem(done: httpx.Response, status: int) -> dict[str, object]:
    assert done.status_code == status, done.text
    assert done.headers["content-type"] == "application/problem+json"
    data: dict[str, object] = done.json()
    assert {"type", "title", "status", "detail", "instance"} <= set(data)
    assert data["status"] == status
    return data


def test_bad_bodies_are_400_problems_naming_the_trouble(api: ApiServer, world: World) -> None:
    with api.client("agent-1", **{"content-type": "application/json"}) as agent:
        cases = {
            b"{": "not_json",
            b'{"command": "CloseReturn", "command": "RejectReturn"}': "duplicate_key",
            b"[" * 40 + b"]" * 40: "too_deep",
            b'{"command": "CloseReturn", "case_id": "' + b"\xff" + b'"}': "not_json",
            b'{"n": 1e999}': "out_of_range",
        }
        for raw, kind in cases.items():
            data = problem(agent.post("/v1/commands", content=raw), 400)
            assert data["type"] == f"urn:aftersales:problem:{kind}", raw
            # every 400 names its bad field; a refusal of the whole body names the document
            assert [e["field"] for e in data["errors"]] == ["(document)"], raw  # type: ignore[attr-defined]
        early = problem(agent.post("/v1/commands", json={
            "command": "FileComplaint", "order_id": "o-1", "channel": "email",
            "category": "damaged", "description": "x", "at": "2000-01-01T00:00:00Z"}), 400)
        assert [e["field"] for e in early["errors"]] == ["at"], early  # type: ignore[attr-defined]
        data = problem(agent.post("/v1/commands", json={
            "command": "RequestReturn", "order_id": "o-1", "reason": "nope", "lines": [
                {"line_id": "1", "quantity": -1}], "note": SECRET_TEXT + "\x00",
            "extra": SECRET_TEXT}), 400)
        fields = {e["field"] for e in data["errors"]}  # type: ignore[attr-defined]
        assert {"reason", "lines.0.quantity", "note", "extra"} <= fields
        assert SECRET_TEXT not in str(data)
        assert data["exit_code"] == 2


def test_other_media_types_and_empty_bodies(api: ApiServer, world: World) -> None:
    with api.client("agent-1") as agent:
        problem(agent.post("/v1/commands", content=b"command=x",
                           headers={"content-type": "application/x-www-form-urlencoded"}), 415)
        problem(agent.post("/v1/commands", content=b"",
                           headers={"content-type": "application/json"}), 400)
        problem(agent.get("/v1/no-such-thing"), 404)
        problem(agent.delete("/v1/commands"), 405)
        problem(agent.get("/v1/cases/not-a-uuid"), 400)
        problem(agent.get("/v1/cases", params={"status": "x", "nosuch": "1"}), 400)
        problem(agent.get(f"/v1/cases/{world.return_case}",
                          params={"as_of": "0001-01-01T00:00:00Z"}), 400)
        problem(agent.get("/v1/cases", params={"cursor": "garbage!"}), 400)


def test_an_unknown_path_is_said_back_cut_and_escaped(api: ApiServer) -> None:
    """The path of a 404 is the caller's text: the detail quotes it cut and escaped, and the
    problem's instance is a URI reference (percent-encoded), never raw control or bidi
    characters, nor 3,000 characters said back."""
    path = "/v1/nope%E2%80%AE%1B%5B31m" + "x" * 3000  # the server reads U+202E, ESC
    with api.client("agent-1") as agent:
        data = problem(agent.get(path), 404)
    body = json.dumps(data, ensure_ascii=False)
    assert "\u202e" not in body and "\x1b" not in body and "x" * 300 not in body
    assert str(data["instance"]).startswith("/v1/nope%E2%80%AE%1B%5B31m")
    assert "\\u202e" in str(data["detail"]) and str(data["detail"]).endswith("…")


def test_head_answers_as_get_without_the_body(api: ApiServer, world: World) -> None:
    with api.client("agent-1") as agent:
        for path in ("/healthz", "/v1/cases", f"/v1/cases/{world.return_case}", "/v1/nope"):
            got, head = agent.get(path), agent.head(path)
            assert (head.status_code, head.content) == (got.status_code, b""), path
            assert head.headers["content-type"] == got.headers["content-type"]
            assert head.headers["content-length"] == str(len(got.content)), path
        assert agent.head("/v1/commands").status_code == 405  # no GET there either


@pytest.mark.parametrize("moment", ["1764590000", "1764590000000", "0", "1764590000.5"])
def test_numeric_strings_are_not_times_in_bodies_or_query_parameters(
        api: ApiServer, world: World, moment: str) -> None:
    with api.client("auditor-1") as auditor, api.client("agent-1") as agent, \
            api.client("upstream-1") as upstream:
        for path, field in ((f"/v1/cases/{world.return_case}", "as_of"),
                            (f"/v1/cases/{world.return_case}/events", "as_of"),
                            (f"/v1/orders/{world.order}", "as_of"),
                            ("/v1/deadlines", "due_before")):
            data = problem(auditor.get(path, params={field: moment}), 400)
            assert data["errors"][0]["field"] == field, data  # type: ignore[index]
            assert "RFC 3339" in str(data["detail"]), data
        data = problem(agent.post("/v1/commands", json={
            "command": "AddComplaintMessage", "case_id": world.complaint_case,
            "direction": "out", "text": "t", "at": moment}), 400)
        assert [e["field"] for e in data["errors"]] == ["at"], data  # type: ignore[attr-defined]
        late = order_placed("o-numeric-time") | {"occurred_at": moment}
        data = problem(upstream.post("/v1/upstream-events", json=late), 400)
        assert [e["field"] for e in data["errors"]] == ["occurred_at"], data  # type: ignore


@pytest.mark.parametrize("media", [
    "application/json; charset=latin-1", "application/json; charset=utf-16",
    "application/json-patch+json", "application/merge-patch+json", "application/problem+json",
    "application/vnd.api+json", "text/json", "application/json; boundary=x"])
def test_only_application_json_in_utf_8_is_read(api: ApiServer, world: World, media: str
                                                 ) -> None:
    body = json.dumps({"command": "AddComplaintMessage", "case_id": world.complaint_case,
                       "direction": "out", "text": "media"}).encode()
    with api.client("agent-1") as agent:
        data = problem(agent.post("/v1/commands", content=body, headers={"content-type": media}),
                       415)
        assert data["type"] == "urn:aftersales:problem:unsupported_media_type"
        for good in ("application/json", "Application/JSON; Charset=\"UTF-8\""):
            done = agent.post("/v1/commands", content=body, headers={"content-type": good})
            assert done.status_code == 200, done.text


def test_a_compressed_body_is_415_not_read_as_json_text(api: ApiServer, world: World) -> None:
    """Content-Encoding is not taken: gzip bytes were read as the JSON text (400 "not UTF-8")."""
    body = json.dumps({"command": "AddComplaintMessage", "case_id": world.complaint_case,
                       "direction": "out", "text": "compressed"}).encode()
    with api.client("agent-1", **{"content-type": "application/json"}) as agent:
        for coding, raw in (("gzip", gzip.compress(body)), ("deflate", zlib.compress(body)),
                            ("br", body)):
            refused = agent.post("/v1/commands", content=raw,
                                 headers={"content-encoding": coding})
            data = problem(refused, 415)
            assert data["type"] == "urn:aftersales:problem:unsupported_media_type", data
            assert data["errors"] == [{"field": "Content-Encoding", "detail": "not taken"}]
            assert refused.headers["accept-encoding"] == "identity"
        done = agent.post("/v1/commands", content=body, headers={"content-encoding": "identity"})
        assert done.status_code == 200, done.text


def test_bodies_over_the_limit_are_413_declared_or_streamed(api: ApiServer, world: World
                                                            ) -> None:
    big = b'{"command": "CloseReturn", "note": "' + b"x" * (300 * 1024) + b'"}'
    with api.client("agent-1", **{"content-type": "application/json"}) as agent:
        problem(agent.post("/v1/commands", content=big), 413)

        def chunks() -> Iterator[bytes]:
            for i in range(0, len(big), 16 * 1024):
                yield big[i:i + 16 * 1024]

        problem(agent.post("/v1/commands", content=chunks()), 413)
        assert agent.get("/healthz").status_code == 200


def test_a_body_declared_over_the_limit_is_413_at_once_before_any_of_it_is_read(
        api: ApiServer, world: World) -> None:
    conn = _raw(api)
    conn.settimeout(5)  # the body deadline is 30 s: the answer must not wait for it
    started = time.monotonic()
    conn.sendall(b"POST /v1/commands HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                 b"\r\nContent-Length: 10000000\r\nAuthorization: Bearer "
                 + api.keys["agent-1"].encode() + b"\r\n\r\n")
    answer = conn.recv(4096)
    conn.close()
    assert answer.split(b"\r\n")[0].startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"application/problem+json" in answer and time.monotonic() - started < 5


def _raw(api: ApiServer) -> socket.socket:
    host, port = api.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=30)


def test_slow_and_malformed_http_never_takes_the_server_down(tmp_path: Path) -> None:
    server = make_server(tmp_path, "sqlite", {"AFTERSALES_API_BODY_TIMEOUT": "2",
                                              "AFTERSALES_API_HEADER_TIMEOUT": "2"})
    server.start()
    try:
        slow = [_raw(server) for _ in range(100)]
        for conn in slow:  # a request line and then nothing: headers never end
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        garbage = _raw(server)
        garbage.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64
                        + b"\r\n\r\n")
        trickle = _raw(server)  # a body promised and never sent
        trickle.sendall(b"POST /v1/commands HTTP/1.1\r\nHost: x\r\nContent-Type: "
                        b"application/json\r\nContent-Length: 1000\r\nAuthorization: Bearer "
                        + server.keys["agent-1"].encode() + b"\r\n\r\n{")
        with server.client() as client:  # answered while those connections are held
            assert client.get("/healthz").status_code == 200
        answer = trickle.recv(4096)
        assert b" 408 " in answer.split(b"\r\n")[0]
        time.sleep(3)
        for conn in slow:  # the header deadline closed them
            conn.settimeout(5)
            try:
                data = conn.recv(1024)
            except OSError:
                data = b""
            assert data == b"" or data.startswith(b"HTTP/1.1 408")
            conn.close()
        with server.client("agent-1") as client:
            assert client.get("/v1/me").status_code == 200
        assert server.process is not None and server.process.poll() is None
    finally:
        assert server.stop() == 0  # a graceful stop


def test_a_principal_over_its_rate_gets_429_and_others_are_unaffected(tmp_path: Path) -> None:
    server = make_server(tmp_path, "sqlite", {"AFTERSALES_API_RATE": "1",
                                              "AFTERSALES_API_BURST": "5"})
    server.start()
    try:
        with server.client("agent-1") as agent:
            statuses = [agent.get("/v1/me").status_code for _ in range(12)]
            assert statuses[:5] == [200] * 5 and 429 in statuses
            limited = agent.get("/v1/me")
            assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        with server.client("agent-2") as other:
            assert other.get("/v1/me").status_code == 200
    finally:
        server.stop()


def test_failed_authentications_slow_only_the_credential_that_fails(tmp_path: Path) -> None:
    """Behind a proxy every caller has one address: a client sending a wrong key is slowed
    (429), the keys others send through the same address are not, nor is the right secret of
    the key whose id the failures named (a key id is no secret)."""
    server = make_server(tmp_path, "sqlite", {"AFTERSALES_API_AUTH_FAILURE_RATE": "1"})
    server.start()
    try:
        key_id = server.keys["agent-1"].split("_")[1]
        wrong = f"ask_{key_id}_{'A' * 43}"  # agent-1's key id, a wrong secret
        with httpx.Client(base_url=server.url,
                          headers={"Authorization": f"Bearer {wrong}"}) as attacker:
            statuses = [attacker.get("/v1/me").status_code for _ in range(8)]
        assert statuses[:4] == [401] * 4 and statuses[-1] == 429
        with server.client("agent-2") as other:
            assert other.get("/v1/me").status_code == 200
        with server.client("agent-1") as holder:  # the key the failures named: its holder
            assert holder.get("/v1/me").status_code == 200
        with httpx.Client(base_url=server.url,
                          headers={"Authorization": f"Bearer {wrong}"}) as attacker:
            assert attacker.get("/v1/me").status_code == 429  # still slowed
        with httpx.Client(base_url=server.url,
                          headers={"Authorization": "Bearer junk"}) as junk:
            assert junk.get("/v1/me").status_code == 401  # the address's bucket
    finally:
        server.stop()


def test_made_up_key_ids_share_the_addresss_bucket(tmp_path: Path) -> None:
    """A fresh made-up key id per request is limited by the address (the ids get no bucket of
    their own); a stored key sent through that address still authenticates."""
    server = make_server(tmp_path, "sqlite", {"AFTERSALES_API_AUTH_FAILURE_RATE": "1"})
    server.start()
    try:
        statuses = []
        with httpx.Client(base_url=server.url) as attacker:
            for _ in range(8):
                made_up = f"ask_{secrets.token_hex(8)}_{secrets.token_urlsafe(32)}"
                statuses.append(attacker.get("/v1/me", headers={
                    "Authorization": f"Bearer {made_up}"}).status_code)
            assert attacker.get("/v1/me", headers={  # other credentials: the same bucket
                "Authorization": "Bearer junk"}).status_code == 429
        assert statuses[:4] == [401] * 4 and statuses[-1] == 429
        with server.client("agent-2") as other:
            assert other.get("/v1/me").status_code == 200
    finally:
        server.stop()


def test_the_servers_logs_take_the_chosen_log_format(tmp_path: Path) -> None:
    """`aftersales --log-format json serve`: the server's own lines and every request's are
    one JSON object each, as every other command's are."""
    server = make_server(tmp_path, "sqlite")
    server.start(options=("--log-format", "json"))
    try:
        with server.client("agent-1") as agent:
            assert agent.get("/v1/me").status_code == 200
    finally:
        assert server.stop() == 0
    lines = [line for line in server.log.read_text().splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines]  # each line one JSON object
    assert any(p["logger"] == "aftersales.api.requests" for p in parsed), lines


def test_metrics_count_requests_commands_and_denials(api: ApiServer, world: World) -> None:
    with api.client("customer-c-2") as other:
        other.get(f"/v1/cases/{world.return_case}")
    with api.client() as anonymous:
        text = anonymous.get("/metrics").text
    assert 'aftersales_http_requests_total{method="GET",route="/v1/cases/{case_id}",' \
           'status="404"}' in text
    assert 'aftersales_commands_total{command="RequestReturn",outcome="done"}' in text
    assert 'aftersales_denials_total{operation="ReadCase"' in text
    assert "aftersales_http_request_duration_seconds_bucket" in text
    assert "aftersales_store_commit_batch_commands_bucket" in text


def test_a_made_up_method_adds_no_metric_series(api: ApiServer) -> None:
    """Any caller, without credentials, could add a series (and a histogram's) per method."""
    with api.client() as anonymous:
        for method in ("FOO7965", "FOO7966"):
            anonymous.request(method, "/v1/cases")
        text = anonymous.get("/metrics").text
    assert "FOO79" not in text
    assert 'aftersales_http_requests_total{method="other",route=' in text
    assert 'aftersales_http_requests_total{method="GET",' in text


def test_request_logs_name_principal_route_status_case_and_never_a_key(
        api: ApiServer, world: World) -> None:
    with api.client("customer-c-1") as customer:
        customer.get(f"/v1/cases/{world.return_case}")
        customer.post("/v1/commands", json={"command": "AddComplaintMessage",
                                           "case_id": world.complaint_case, "direction": "in",
                                           "text": SECRET_TEXT})
    deadline = time.monotonic() + 30  # the line is written once the answer is sent

    def found() -> str | None:
        return next((x for x in api.log.read_text().splitlines()
                     if "route=/v1/cases/{case_id} status=200" in x
                     and world.return_case in x), None)

    while found() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    line, log = found(), api.log.read_text()
    assert line is not None, log[-3000:]
    assert "principal=" in line and "ms=" in line
    for key in api.keys.values():
        assert key[len("ask_") + 17:] not in log  # the secret after ask_<key id>_
    assert SECRET_TEXT not in log


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_and_readiness(api: ApiServer, path: str) -> None:
    with api.client() as client:
        done = client.get(path)
    assert done.status_code == 200 and done.json()["status"] == "ok"


def test_a_graceful_stop_answers_the_request_in_flight_then_exits_0(tmp_path: Path) -> None:
    server = make_server(tmp_path, "sqlite")
    server.start()
    body = json.dumps(order_placed("o-stop", customer_id="c-1")).encode()
    conn = _raw(server)
    conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")  # the connection is accepted
    assert conn.recv(4096).startswith(b"HTTP/1.1 200")
    conn.sendall(b"POST /v1/upstream-events HTTP/1.1\r\nHost: x\r\nContent-Type: "
                 b"application/json\r\nContent-Length: " + str(len(body)).encode() +
                 b"\r\nAuthorization: Bearer " + server.keys["upstream-1"].encode() +
                 b"\r\n\r\n" + body[:10])
    time.sleep(2)  # the server reads the headers and waits for the rest of the body
    assert server.process is not None
    server.process.send_signal(signal.SIGTERM)
    time.sleep(1)
    conn.sendall(body[10:])
    answer = b""
    while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
        more = conn.recv(4096)
        if not more:
            break
        answer += more
    assert answer.startswith(b"HTTP/1.1 200"), answer[:500]
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["applied"] is True
    assert server.process.wait(timeout=60) == 0
    with server.app() as services:
        assert services.store.exists(order_aggregate_id("o-stop"))


def test_several_workers_serve_and_metrics_add_up_every_workers_figures(tmp_path: Path
                                                                        ) -> None:
    server = make_server(tmp_path, "sqlite")
    server.start("--workers", "2")
    try:
        with server.client("agent-1") as agent:
            for _ in range(20):  # new connections: each may land on either worker
                with httpx.Client(base_url=server.url, headers=agent.headers) as one:
                    assert one.get("/v1/me").status_code == 200
        with server.client() as anonymous:
            text = anonymous.get("/metrics").text
        line = next(x for x in text.splitlines() if x.startswith(
            'aftersales_http_requests_total{method="GET",route="/v1/me",status="200"}'))
        assert float(line.rsplit(" ", 1)[1]) == 20
        assert {"Started worker-1", "Started worker-2"} <= set(
            x.rsplit(": ", 1)[-1] for x in server.log.read_text().splitlines())
    finally:
        assert server.stop() == 0


def test_a_second_server_on_a_port_in_use_refuses_to_start_and_the_first_keeps_serving(
        tmp_path: Path) -> None:
    server = make_server(tmp_path, "sqlite")
    server.start("--workers", "2")  # granian's workers bind with SO_REUSEPORT
    port = server.url.rsplit(":", 1)[1]
    try:
        for host in ("127.0.0.1", "localhost"):
            second = children.run([*AFTERSALES, "serve", "--host", host, "--port", port],
                                  env=server.env, capture_output=True, text=True, timeout=120,
                                  check=False)
            assert second.returncode == 5, second.stderr
            assert f"127.0.0.1:{port}: address already in use" in second.stderr
            assert "serving on" not in second.stderr and "Traceback" not in second.stderr
        with server.client("agent-1") as agent:
            for _ in range(10):  # new connections: every one answered by the first server
                with httpx.Client(base_url=server.url, headers=agent.headers) as one:
                    assert one.get("/v1/me").status_code == 200
    finally:
        assert server.stop() == 0


def test_a_port_another_program_listens_on_is_refused_with_exit_5(tmp_path: Path) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        env = make_server(tmp_path, "sqlite").env
        done = children.run([*AFTERSALES, "serve", "--port", str(port)], env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 5, done.stderr
    assert f"127.0.0.1:{port}: address already in use" in done.stderr
