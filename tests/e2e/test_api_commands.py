"""Commands over real HTTP against `aftersales serve`, on SQLite and PostgreSQL: the answer is
what `aftersales submit` prints, If-Match refuses a stale version (412) and changes nothing,
Idempotency-Key replays the first answer (also after a restart) and refuses another body
under the same key (422)."""

from __future__ import annotations

import json
import subprocess
import uuid
from datetime import UTC, datetime

import pytest

from consumers.case_events import to_cloud_event
from schemas.outbound import CASE_EVENT
from tests.api_server import ApiServer
from tests.e2e.conftest import World, command, deliver, now
from tests.e2e.test_cli import AFTERSALES
from tests.factories import caller, shipment


def stored_events(api: ApiServer) -> int:
    with api.app() as services:
        return services.store.recorder.max_notification_id() or 0


def new_return(api: ApiServer, **extra: str) -> dict[str, object]:
    with api.client("customer-c-1") as customer:
        return command(customer, {"command": "RequestReturn", "order_id": "o-1",
                                  "reason": "changed_mind", "at": now(),
                                  "lines": [{"line_id": "1", "quantity": 1}], **extra}, 201)


def test_a_command_answers_what_submit_prints_and_where_the_case_is(
        api: ApiServer, world: World) -> None:
    with api.client("customer-c-1") as customer:
        done = customer.post("/v1/commands", json={
            "command": "RequestReturn", "order_id": "o-1", "reason": "changed_mind", "at": now(),
            "lines": [{"line_id": "1", "quantity": 1}]})
    assert done.status_code == 201, done.text
    data = done.json()
    assert set(data) == {"command", "case_id", "case_type", "status", "version", "decisions",
                         "related"}
    assert data["command"] == "RequestReturn" and data["case_type"] == "return"
    assert {d["policy_id"] for d in data["decisions"]} >= {"return.eligibility"}
    assert done.headers["location"] == f"/v1/cases/{data['case_id']}"
    assert done.headers["etag"] == f'"{data["version"]}"'
    with api.client("customer-c-1") as customer:
        shown = customer.get(done.headers["location"])
    assert shown.status_code == 200 and shown.json()["version"] == data["version"]


def test_the_answer_is_word_for_word_what_submit_prints_for_the_same_command(
        api: ApiServer, world: World) -> None:
    """Two new customers with the same history each file the same complaint: one through
    `aftersales submit`, one over HTTP."""
    customers = ("c-cli", "c-http")
    with api.app() as services:
        for customer in customers:
            caller(services, f"customer-{customer}")
    api.keys["customer-c-http"] = api.key_for("customer-c-http")
    for customer in customers:
        deliver(api, f"o-{customer}", customer)

    at = now()  # the same moment for both (the complaint's deadlines count from it)

    def complaint(customer: str) -> dict[str, object]:  # the same key: each customer's own
        return {"command": "FileComplaint", "idempotency_key": "complaint-1",
                "order_id": f"o-{customer}", "channel": "email", "category": "damaged",
                "description": "cracked", "at": at}

    printed = subprocess.run(
        [*AFTERSALES, "submit", "-"], input=json.dumps(complaint("c-cli")), text=True,
        capture_output=True, timeout=120, check=False,
        env={**api.env, "AFTERSALES_PRINCIPAL": "customer-c-cli"})
    assert printed.returncode == 0, printed.stderr
    with api.client("customer-c-http") as customer:
        answered = command(customer, complaint("c-http"), 201)
    first = json.loads(printed.stdout)["case_id"]
    assert first != answered["case_id"]
    assert json.loads(printed.stdout.replace(first, str(answered["case_id"]))) == answered


def test_if_match_with_the_current_version_runs_and_a_stale_one_is_412_changing_nothing(
        api: ApiServer, world: World) -> None:
    opened = new_return(api)
    case_id, version = opened["case_id"], int(str(opened["version"]))
    with api.client("agent-1") as agent:
        stale = agent.post("/v1/commands", headers={"If-Match": f'"{version - 1}"'},
                           json={"command": "RejectReturn", "case_id": case_id, "reason": "no",
                                 "at": now()})
        before = stored_events(api)
        assert stale.status_code == 412, stale.text
        assert stale.headers["content-type"] == "application/problem+json"
        assert stale.json()["type"] == "urn:aftersales:problem:precondition_failed"
        assert stored_events(api) == before
        current = agent.get(f"/v1/cases/{case_id}").headers["etag"]
        done = agent.post("/v1/commands", headers={"If-Match": current},
                          json={"command": "IssueReturnLabel", "case_id": case_id,
                                "carrier": "DHL", "tracking_number": "T-1", "at": now()})
        assert done.status_code == 200, done.text
        again = agent.post("/v1/commands", headers={"If-Match": current},
                           json={"command": "CloseReturn", "case_id": case_id, "at": now()})
        assert again.status_code == 412


def test_if_match_that_is_not_one_strong_etag_or_on_a_new_case_is_invalid(
        api: ApiServer, world: World) -> None:
    with api.client("agent-1") as agent:
        # "0001" names version 1 by number, but a strong ETag compares character by
        # character (RFC 9110): it is no ETag the server gave (found cold)
        for header in ('W/"1"', "1", '"1", "2"', '"x"', '"0001"', '"01"'):
            bad = agent.post("/v1/commands", headers={"If-Match": header}, json={
                "command": "RejectReturn", "case_id": world.return_case, "reason": "x"})
            assert bad.status_code == 400, header
            assert bad.json()["errors"][0]["field"] == "If-Match"
        opening = agent.post("/v1/commands", headers={"If-Match": '"1"'}, json={
            "command": "RequestRefund", "order_id": "o-1", "source": "goodwill",
            "reason": "x", "amount": "1.00", "at": now()})
        assert opening.status_code == 400


def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer(
        api: ApiServer, world: World) -> None:
    key = uuid.uuid4().hex
    body = {"command": "RequestRefund", "order_id": "o-1", "source": "goodwill",
            "reason": "sorry", "amount": "2.00", "at": now()}
    with api.client("agent-2") as agent:
        first = agent.post("/v1/commands", json=body, headers={"Idempotency-Key": key})
        assert first.status_code == 201, first.text
        events = stored_events(api)
        second = agent.post("/v1/commands", json={**body}, headers={"Idempotency-Key": key})
        assert second.status_code == 201
        assert second.json() == first.json()
        assert second.headers["idempotent-replayed"] == "true"
        assert second.headers["location"] == first.headers["location"]
        assert stored_events(api) == events
        other = agent.post("/v1/commands", json={**body, "amount": "3.00"},
                           headers={"Idempotency-Key": key})
        assert other.status_code == 422
        assert other.json()["type"] == "urn:aftersales:problem:idempotency_key_reused"
    with api.client("agent-3") as someone_else:  # keys are per principal
        theirs = someone_else.post("/v1/commands", json=body, headers={"Idempotency-Key": key})
        assert theirs.status_code == 201 and theirs.json()["case_id"] != first.json()["case_id"]


def test_a_refused_command_is_kept_for_its_key_and_an_invalid_one_is_not(
        api: ApiServer, world: World) -> None:
    key, at = uuid.uuid4().hex, now()  # a retry sends the same body
    with api.client("agent-1") as agent:
        refused = agent.post("/v1/commands", headers={"Idempotency-Key": key}, json={
            "command": "CloseReturn", "case_id": world.return_case, "at": at})
        assert refused.status_code == 422, refused.text
        again = agent.post("/v1/commands", headers={"Idempotency-Key": key}, json={
            "command": "CloseReturn", "case_id": world.return_case, "at": at})
        assert again.status_code == 422 and again.headers["idempotent-replayed"] == "true"
        assert again.json()["detail"] == refused.json()["detail"]
        key2 = uuid.uuid4().hex
        invalid = agent.post("/v1/commands", headers={"Idempotency-Key": key2}, json={
            "command": "CloseReturn", "case_id": "not-a-uuid"})
        assert invalid.status_code == 400
        fixed = agent.post("/v1/commands", headers={"Idempotency-Key": key2}, json={
            "command": "CloseReturn", "case_id": "not-a-uuid"})
        assert "idempotent-replayed" not in fixed.headers


def test_kept_answers_survive_a_restart_of_the_server(api: ApiServer, world: World) -> None:
    key = uuid.uuid4().hex
    body = {"command": "RequestRefund", "order_id": "o-1", "source": "goodwill",
            "reason": "restart", "amount": "1.50", "at": now()}
    with api.client("agent-1") as agent:
        first = agent.post("/v1/commands", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201
    assert api.stop() == 0
    api.start()
    with api.client("agent-1") as agent:
        replayed = agent.post("/v1/commands", json=body, headers={"Idempotency-Key": key})
    assert replayed.status_code == 201 and replayed.json() == first.json()
    assert replayed.headers["idempotent-replayed"] == "true"


def _batch_metric(api: ApiServer, name: str) -> float:
    with api.client() as anyone:
        text = anyone.get("/metrics").text
    return sum(float(line.split()[-1]) for line in text.splitlines()
               if line.startswith(f"aftersales_store_commit_batch_commands_{name} "))


def test_concurrent_requests_are_committed_together_and_a_refused_one_spoils_nothing(
        api: ApiServer, world: World) -> None:
    from concurrent.futures import ThreadPoolExecutor

    good = {"command": "RequestRefund", "order_id": "o-1", "source": "goodwill",
            "reason": "sorry", "amount": "0.01", "at": now()}
    bad = {**good, "order_id": "o-none"}  # no such order: refused, inside the same batches
    bodies = [bad if i % 4 == 3 else good for i in range(24)]
    before_sum, before_count = _batch_metric(api, "sum"), _batch_metric(api, "count")
    events = stored_events(api)

    def send(body: dict[str, object]) -> int:
        with api.client("agent-2") as agent:
            return agent.post("/v1/commands", json=body).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(send, bodies))
    assert [s for s, b in zip(statuses, bodies, strict=True) if b is good] == [201] * 18
    assert all(400 <= s < 500 for s, b in zip(statuses, bodies, strict=True) if b is bad), statuses
    assert stored_events(api) > events
    # every command went through a commit batch; batches never outnumber commands
    assert _batch_metric(api, "sum") - before_sum == 24
    assert 1 <= _batch_metric(api, "count") - before_count <= 24


PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_request_s_traceparent_goes_with_every_event_it_caused(
        api: ApiServer, world: World) -> None:
    """The W3C trace context of a command or an upstream fact reaches the CloudEvents of what
    it stored (the distributed-tracing extension); a malformed one is dropped, not refused."""
    traced = {"traceparent": PARENT, "tracestate": "vendor=a1,other=b2"}
    before = stored_events(api)
    with api.client("customer-c-1") as customer:
        done = command(customer, {"command": "RequestReturn", "order_id": "o-1",
                                  "reason": "changed_mind", "at": now(),
                                  "lines": [{"line_id": "1", "quantity": 1}]}, 201, **traced)
    middle = stored_events(api)
    with api.client("upstream-1") as upstream:
        scanned = upstream.post("/v1/upstream-events", headers={
            "traceparent": PARENT.replace("00f067aa", "11f067aa")}, json=shipment(
                "o-1", "Dispatched", datetime.now(UTC), direction="return"))
        assert scanned.status_code == 200, scanned.text
    after = stored_events(api)
    with api.client("customer-c-1") as customer:
        command(customer, {"command": "FileComplaint", "order_id": "o-1", "channel": "email",
                           "category": "damaged", "description": "chipped", "at": now()}, 201,
                traceparent=PARENT.upper())  # W3C: lowercase hex only
    with api.app() as services:
        recorder = services.store.recorder
        end = recorder.max_notification_id() or 0
        events = [to_cloud_event(n) for n in recorder.select_notifications(before + 1,
                                                                           end - before)]
        case_events = services.store.history(uuid.UUID(str(done["case_id"])))
    assert middle > before and after > middle and end > after
    assert {(e.get("traceparent"), e.get("tracestate")) for e in events[:middle - before]} == {
        (PARENT, "vendor=a1,other=b2")}
    assert {e.get("traceparent") for e in events[middle - before:after - before]} == {
        PARENT.replace("00f067aa", "11f067aa")}
    assert not any("traceparent" in e for e in events[after - before:])
    assert all(CASE_EVENT.validate_python(e) for e in events)
    assert case_events and not any("traceparent" in vars(e) for e in case_events)


@pytest.mark.parametrize("key", ["", "k" * 256, "k\u00e9y", "k\ty"],
                         ids=["empty", "too long", "not ASCII", "not printable"])
def test_every_bad_idempotency_key_is_one_field_with_one_wording(api: ApiServer, world: World,
                                                                 key: str) -> None:
    body = {"command": "RequestRefund", "order_id": "o-1", "source": "goodwill",
            "reason": "sorry", "amount": "1.00"}
    with api.client("agent-2") as agent:
        refused = agent.post("/v1/commands", json=body,
                             headers={"Idempotency-Key": key.encode("latin-1")})
    assert refused.status_code == 400, refused.text
    rule = "1 to 255 printable ASCII characters"
    assert refused.json()["errors"] == [{"field": "Idempotency-Key", "detail": rule}]
    assert refused.json()["detail"] == f"Idempotency-Key: {rule}"
