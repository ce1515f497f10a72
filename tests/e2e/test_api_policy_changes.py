"""What a change to a policy book changes, over real HTTP on SQLite and PostgreSQL: the diff
of two stored versions (or of a proposed book) and the what-if simulation over recorded
decisions answer what `aftersales policy diff|simulate --format json` print; administrators
and auditors only, a caller who may not learns nothing of the book; every bad parameter or body
is refused with a problem document naming it, as `PUT` refuses a book."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from api import models
from server.settings import ApiSettings
from tests.api_server import ApiServer
from tests.e2e.test_api_policy_books import admin_key, book
from tests.factories import ADMIN, order_paid, order_placed, shipment

EU30 = Path(__file__).resolve().parents[2] / "demo" / "books" / "uci-online-retail-eu30.toml"
PROBLEM = "application/problem+json"
DENIED = ("agent-1", "sup-1", "warehouse-1", "carrier-1", "payments-1", "analyst-1",
          "upstream-1", "customer-c-1")


def eu30() -> dict[str, Any]:
    changed = book()
    changed["returns"]["markets"]["EU"]["no_fault"] = "30 days"
    return changed


def books_of(api: ApiServer, merchant: str, *documents: dict[str, Any]) -> str:
    """The merchant's book path, its versions 1.. set to ``documents`` by the administrator."""
    admin_key(api)
    path = f"/v1/policy-books/merchants/{merchant}"
    with api.client(ADMIN) as boss:
        for n, document in enumerate(documents, 1):
            done = boss.put(path, json={"reason": f"version {n}", "book": document})
            assert done.status_code == 201, done.text
    return path


def cli(api: ApiServer, *args: str, principal: str = "auditor-1",
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`aftersales ARGS` over the server's own store, as ``principal``."""
    return subprocess.run([sys.executable, "-m", "aftersales", *args], input=stdin,
                          env={**api.env, "AFTERSALES_PRINCIPAL": principal},
                          capture_output=True, text=True, timeout=120, check=False)


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    found: dict[str, Any] = response.json()
    return found


def test_the_diff_of_two_versions_is_the_clis(api: ApiServer) -> None:
    path = books_of(api, "uci-diff", book(), eu30())
    with api.client("auditor-1") as auditor:
        latest = auditor.get(f"{path}/diff")  # no parameters: the latest and the one before
        assert latest.status_code == 200, latest.text
        found = latest.json()
        models.PolicyBookDiff.model_validate(found)  # as the OpenAPI document says
        assert found["changes"] == [{"path": "returns.markets.EU.no_fault", "change": "changed",
                                     "before": "14 days", "after": "30 days"}]
        assert (found["book"], found["merchant_id"]) == ("merchant", "uci-diff")
        assert (found["before"]["version"], found["after"]["version"]) == (1, 2)
        assert (found["before"]["reason"], found["after"]["reason"]) == ("version 1",
                                                                         "version 2")
        explicit = auditor.get(f"{path}/diff", params={"before": 1, "after": 2}).json()
        assert explicit == found
        only_after = auditor.get(f"{path}/diff", params={"after": 1}).json()
        assert (only_after["before"]["version"], only_after["after"]["version"]) == (0, 1)
        assert len(only_after["changes"]) > 1  # from the built-in defaults
        backwards = auditor.get(f"{path}/diff", params={"before": 2, "after": 1}).json()
        assert backwards["changes"] == [{"path": "returns.markets.EU.no_fault",
                                         "change": "changed", "before": "30 days",
                                         "after": "14 days"}]
        for n in (0, 1, 2):
            same = auditor.get(f"{path}/diff", params={"before": n, "after": n}).json()
            assert same["changes"] == [] and same["before"] == same["after"]
    for before, after in ((None, None), (0, 2), (2, 0), (1, 1)):
        options = [*(["--from", str(before)] if before is not None else []),
                   *(["--to", str(after)] if after is not None else [])]
        printed = cli(api, "policy", "diff", "--merchant", "uci-diff", "--format", "json",
                      *options)
        assert printed.returncode == 0, printed.stderr
        with api.client(ADMIN) as boss:
            served = boss.get(f"{path}/diff", params={k: v for k, v in (
                ("before", before), ("after", after)) if v is not None}).json()
        assert served["changes"] == json.loads(printed.stdout), (before, after)


def test_the_platform_book_and_a_merchant_without_a_book_have_diffs_too(
        api: ApiServer) -> None:
    admin_key(api)
    with api.client("auditor-1") as auditor:
        platform = auditor.get("/v1/policy-books/platform/diff")
        assert platform.status_code == 200, platform.text
        assert platform.json()["book"] == "platform" and platform.json()["merchant_id"] is None
        nobody = auditor.get("/v1/policy-books/merchants/nobody-yet/diff")
        assert nobody.status_code == 200, nobody.text
        assert nobody.json()["changes"] == []  # version 0 with itself: nothing set yet
        assert (nobody.json()["before"]["version"], nobody.json()["after"]["version"]) == (0, 0)
        missing = problem(auditor.get("/v1/policy-books/merchants/nobody-yet/diff",
                                      params={"after": 1}), 404)
        assert "version 1 to compare to" in missing["detail"] and missing["exit_code"] == 3


def test_unknown_versions_are_named_and_bad_parameters_refused(api: ApiServer) -> None:
    path = books_of(api, "uci-edges", book())
    with api.client("auditor-1") as auditor:
        after = problem(auditor.get(f"{path}/diff", params={"after": 7}), 404)
        assert "no policy book version 7 to compare to" in after["detail"]
        assert "versions 0 to 1" in after["detail"]
        before = problem(auditor.get(f"{path}/diff", params={"before": 9, "after": 1}), 404)
        assert "version 9 to compare from" in before["detail"]
        both = problem(auditor.get(f"{path}/diff", params={"before": 9, "after": 7}), 404)
        assert "version 9 to compare from nor version 7 to compare to" in both["detail"]
        for name, value in (("before", "abc"), ("before", "-1"), ("after", "1.5"),
                            ("after", "1000001"), ("before", "9" * 40), ("after", ""),
                            ("before", "0x1"), ("after", "1e3")):
            refused = problem(auditor.get(f"{path}/diff", params={name: value}), 400)
            assert refused["errors"][0]["field"] == f"query.{name}", (name, value, refused)
        assert problem(auditor.get("/v1/policy-books/merchants/bad%20id/diff"), 400)
        assert problem(auditor.get("/v1/policy-books/merchants/" + "m" * 201 + "/diff"), 400)


def test_who_may_read_a_diff_and_a_caller_who_may_not_learns_nothing(api: ApiServer) -> None:
    path = books_of(api, "uci-secret", book(), eu30())
    for name in ("auditor-1", ADMIN):
        with api.client(name) as allowed:
            assert allowed.get(f"{path}/diff").status_code == 200
            assert allowed.post(f"{path}/diff", json={"book": book()}).status_code == 200
    for name in DENIED:
        with api.client(name) as denied:
            answers = [
                denied.get(f"{path}/diff"),  # a book with versions
                denied.get(f"{path}/diff", params={"after": 99}),  # an unknown version
                denied.get("/v1/policy-books/merchants/no-such-merchant/diff"),
                denied.get("/v1/policy-books/platform/diff"),
                denied.post(f"{path}/diff", json={"book": book()}),
                denied.post("/v1/policy-books/merchants/no-such-merchant/diff",
                            json={"book": book()}),
            ]
            bodies = [problem(a, 403) for a in answers]
            # the same words whether the book or the version exists or not
            assert len({(b["detail"], b["type"]) for b in bodies}) == 1, (name, bodies)
            assert "uci-secret" not in bodies[0]["detail"], bodies[0]
            assert "version" not in bodies[0]["detail"], bodies[0]
    with api.client() as anonymous:
        assert problem(anonymous.get(f"{path}/diff"), 401)
        assert problem(anonymous.post(f"{path}/simulate", json={"version": 1}), 401)


def test_the_diff_of_a_proposed_book_is_checked_as_put_checks_it(api: ApiServer) -> None:
    path = books_of(api, "uci-draft", book())
    with api.client(ADMIN) as boss:
        found = boss.post(f"{path}/diff", json={"book": eu30()})
        assert found.status_code == 200, found.text
        assert found.json()["after"] is None and found.json()["before"]["version"] == 1
        models.PolicyBookDiff.model_validate(found.json())
        assert [c["path"] for c in found.json()["changes"]] == ["returns.markets.EU.no_fault"]
        from_zero = boss.post(f"{path}/diff", json={"book": eu30(), "before": 0}).json()
        assert len(from_zero["changes"]) > 1
        printed = cli(api, "policy", "diff", "-", "--merchant", "uci-draft", "--format",
                      "json", principal=ADMIN, stdin=json.dumps(eu30()))
        assert json.loads(printed.stdout) == found.json()["changes"]
        assert "compare from" in problem(boss.post(f"{path}/diff", json={
            "book": eu30(), "before": 4}), 404)["detail"]
        assert "book" in problem(boss.post(f"{path}/diff", json={"before": 1}), 400)["detail"]
        assert "after" in problem(boss.post(f"{path}/diff", json={
            "book": eu30(), "after": 1}), 400)["detail"]
        assert problem(boss.post(f"{path}/diff", json={"book": eu30(), "before": "1"}), 400)
        assert problem(boss.post(f"{path}/diff", json={"book": eu30(), "before": True}), 400)
        history = boss.get(f"{path}/history").json()["versions"]
    assert [v["version"] for v in history] == [0, 1]  # nothing stored


def bad_books() -> list[tuple[str, Any]]:
    short = book()
    short["returns"]["markets"]["GB"]["fault"] = "20 days"
    no_currency = book()
    no_currency["approval"]["thresholds"].pop(sorted(no_currency["approval"]["thresholds"])[0])
    return [("unlawful", short), ("returnless.share", {**book(), "returnless": {"share": 0.6}}),
            ("not an object", [1, 2]), ("a currency left out", no_currency),
            ("a float", {**book(), "returnless": {**book().get("returnless", {}),
                                                   "share": 0.5}}),
            ("unknown setting", {**book(), "surprise": 1}), ("empty", {})]


@pytest.mark.parametrize(("what", "document"), bad_books(), ids=[w for w, _ in bad_books()])
def test_simulating_a_bad_book_is_refused_as_put_refuses_it(api: ApiServer, what: str,
                                                            document: Any) -> None:
    path = books_of(api, "uci-bad")
    with api.client(ADMIN) as boss:
        stored = boss.put(path, json={"reason": "bad", "book": document})
        simulated = boss.post(f"{path}/simulate", json={"book": document})
        assert stored.status_code in (400, 422), stored.text
        assert simulated.status_code == stored.status_code, (what, simulated.text)
        assert simulated.headers["content-type"] == PROBLEM
        assert simulated.json()["detail"] == stored.json()["detail"], what
        if what != "unlawful":  # the law is not a diff's matter: it compares any valid book
            assert boss.post(f"{path}/diff", json={"book": document}).status_code == 400


def late_return(api: ApiServer, order_id: str, merchant: str) -> dict[str, Any]:
    """A delivered order of the merchant and a changed-mind return 20 days after delivery,
    asked now (a customer's act is dated when it arrives); ``asked`` is its time."""
    asked = datetime.now(UTC)
    placed = order_placed(order_id, customer_id="c-1", merchant_id=merchant,
                          at=asked - timedelta(days=23))
    with api.client("upstream-1") as upstream:
        for message in (placed, order_paid(placed),
                        shipment(order_id, "Delivered", asked - timedelta(days=20))):
            assert upstream.post("/v1/upstream-events", json=message).status_code == 200
    with api.client("customer-c-1") as customer:
        done = customer.post("/v1/commands", json={
            "command": "RequestReturn", "order_id": order_id, "reason": "changed_mind",
            "outcome": "refund", "lines": [{"line_id": "1", "quantity": 1}],
            "at": asked.isoformat()})
    assert done.status_code == 201, done.text
    found: dict[str, Any] = {**done.json(), "asked": asked}
    return found


def test_simulate_replays_the_merchants_decisions_as_the_cli_does(api: ApiServer) -> None:
    path = books_of(api, "uci-sim", book())
    case = late_return(api, "o-sim", "uci-sim")
    assert case["status"] == "rejected"
    with api.client("auditor-1") as auditor:
        done = auditor.post(f"{path}/simulate", json={"book": eu30()})
        assert done.status_code == 200, done.text
        assert done.headers["cache-control"] == "no-store"
        report = done.json()
        models.Simulation.model_validate(report)  # as the OpenAPI document says
        eligibility = next(o for o in report["outcomes"]
                           if o["policy_id"] == "return.eligibility")
        assert eligibility["pairs"] == [{"before": "reject", "after": "approve", "count": 1,
                                         "examples": [case["case_id"]]}]
        assert report["merchant_id"] == "uci-sim" and report["decisions"]["failed"] == 0
        assert report["timing"]["evaluate_seconds"] >= 0
        printed = cli(api, "policy", "simulate", str(EU30), "--merchant", "uci-sim",
                      "--format", "json")
        assert printed.returncode == 0, printed.stderr
        from_cli = json.loads(printed.stdout)
        assert {k: v for k, v in from_cli.items() if k not in ("timing",
                                                                "proposed_book_hash")} == \
            {k: v for k, v in report.items() if k not in ("timing", "proposed_book_hash")}
        unchanged = auditor.post(f"{path}/simulate", json={"version": 1}).json()
        assert unchanged["decisions"]["re_evaluated"] > 0
        assert all(o["changed"] == 0 for o in unchanged["outcomes"])  # what was recorded
        by_version = cli(api, "policy", "simulate", "--version", "1", "--merchant", "uci-sim",
                         "--format", "json")
        assert json.loads(by_version.stdout)["outcomes"] == unchanged["outcomes"]
        page = auditor.post(f"{path}/simulate", params={"format": "html"},
                            json={"book": eu30(), "since": "2026-01-01T00:00:00+00:00"})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "<table>" in page.text and case["case_id"] in page.text
        later = auditor.post(f"{path}/simulate", json={
            "book": eu30(), "since": "2030-01-01T00:00:00+00:00"}).json()
        assert later["decisions"]["seen"] == 0 and later["since"].startswith("2030-01-01")
        asked = case["asked"]  # when the return's decisions were recorded
        for since, until, seen in ((asked - timedelta(days=30), asked, False),
                                   (asked, asked + timedelta(seconds=1), True)):  # [since, until)
            window = auditor.post(f"{path}/simulate", json={
                "book": eu30(), "since": since.isoformat(), "until": until.isoformat()}).json()
            assert (case["case_id"] in str(window)) is seen, (since, until, window)
        assert "no policy book version 5" in problem(auditor.post(
            f"{path}/simulate", json={"version": 5}), 404)["detail"]
        nobody = auditor.post("/v1/policy-books/merchants/nobody-sim/simulate",
                              json={"version": 0}).json()
        assert nobody["decisions"]["seen"] == 0


def test_every_bad_simulate_body_is_refused_naming_what_is_wrong(api: ApiServer) -> None:
    path = books_of(api, "uci-bodies", book())
    url = f"{path}/simulate"
    with api.client("auditor-1") as auditor:
        for body, words in (
            ({}, "either book"), ({"book": book(), "version": 1}, "not both"),
            ({"version": 1, "by": "x"}, "unknown field by"), ({"version": "1"}, "version"),
            ({"version": True}, "version"), ({"version": -1}, "version"),
            ({"version": 2**63}, "version"), ({"version": 1.0}, "version"),
            ({"version": None}, "version"), ({"book": None}, "book"),
            ({"version": 1, "since": "yesterday"}, "since"),
            ({"version": 1, "since": 1700000000}, "since"),
            ({"version": 1, "until": None}, "until"),
            ({"version": 1, "since": "2026-03-02T09:00:00"}, "since"),  # no offset
            ({"version": 1, "since": "0001-01-01T00:00:00+00:00"}, "since"),
            ({"version": 1, "until": "9999-12-31T23:59:59+00:00"}, "until"),
            ({"version": 1, "since": "2026-03-02T09:00:00+00:00",
              "until": "2026-03-02T09:00:00+00:00"}, "the period is empty"),
            ({"version": 1, "since": "2026-03-03T09:00:00+00:00",
              "until": "2026-03-02T09:00:00+00:00"}, "the period is empty"),
            ([{"version": 1}], "one JSON object"), ("version", "one JSON object"),
        ):
            refused = problem(auditor.post(url, json=body), 400)
            assert words in refused["detail"], (body, refused)
        for raw, words in ((b'{"version": 1, "version": 2}', "twice"),
                           (b'{"version": 1' + b"0" * 40 + b"}", "out of range"),
                           (b'{"version": NaN}', "not JSON"), (b"", "no body"),
                           (b'{"version": 1}\x00', "not JSON")):
            refused = problem(auditor.post(url, content=raw, headers={
                "content-type": "application/json"}), 400)
            assert words in refused["detail"], (raw, refused)
        assert problem(auditor.post(url, content=b'{"version": 1}', headers={
            "content-type": "text/plain"}), 415)
        limit = ApiSettings.from_env(api.env).max_body_bytes
        huge = b'{"book": {"pad": "' + b"x" * (limit + 1) + b'"}}'
        assert problem(auditor.post(url, content=huge, headers={
            "content-type": "application/json"}), 413)
        assert problem(auditor.post(url, params={"format": "csv"}, json={"version": 1}), 400)


def test_who_may_simulate_and_a_caller_who_may_not_learns_nothing(api: ApiServer) -> None:
    path = books_of(api, "uci-who", book())
    for name in ("auditor-1", ADMIN):
        with api.client(name) as allowed:
            assert allowed.post(f"{path}/simulate", json={"version": 1}).status_code == 200
    for name in DENIED:
        with api.client(name) as denied:
            bodies = [problem(denied.post(url, json=body), 403) for url, body in (
                (f"{path}/simulate", {"version": 1}),
                (f"{path}/simulate", {"version": 99}),  # an unknown version
                ("/v1/policy-books/merchants/no-such-one/simulate", {"version": 1}),
                (f"{path}/simulate", {"book": eu30()}),
                (f"{path}/simulate", {"version": 1, "since": "2026-03-03T09:00:00+00:00",
                                      "until": "2026-03-02T09:00:00+00:00"}),
            )]
            assert len({(b["detail"], b["type"]) for b in bodies}) == 1, (name, bodies)
    with api.client(ADMIN) as boss:  # nothing was stored by any of it
        assert [v["version"] for v in boss.get(f"{path}/history").json()["versions"]] == \
            [0, 1]
