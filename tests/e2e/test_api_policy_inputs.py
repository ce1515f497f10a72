"""What the policy-book routes refuse, over real HTTP on SQLite and PostgreSQL, in the words the
CLI uses: a reason with control characters or over 1000 characters; a PUT whose If-Match is
stale (412), ``*`` before any version (412) or malformed (400); unknown or repeated query
parameters (400 naming them, as `/v1/cases` answers); a proposed book below the law in a
draft's diff (422, as PUT); an unknown version (its own problem type); an empty what-if
period; an order whose merchant id no URL could name; and the denial log names the merchant
whose book was refused."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from aftersales_core.domain.ids import MERCHANT_ID_RULE
from tests.api_server import ApiServer
from tests.e2e.test_api_policy_books import admin_key, book
from tests.e2e.test_api_policy_changes import books_of, cli, eu30, problem
from tests.factories import ADMIN, order_placed

PREFIX = "urn:aftersales:problem:"


def refused_field(response: httpx.Response, field: str, status: int = 400) -> dict[str, Any]:
    found = problem(response, status)
    assert found["errors"][0]["field"] == field, found
    assert found["detail"].startswith(f"{field}: "), found
    return found


@pytest.mark.parametrize(("reason", "words"), [
    ("EU \u009b2J window", "(U+009B at position 3)"),
    ("a\u0000b", "(U+0000 at position 1)"),
    ("\u001b]0;owned\u0007", "(U+001B at position 0)"),
    ("next line\u0085", "(U+0085 at position 9)"),
    ("x" * 1001, "at most 1000 characters, not 1001"),
    (" ", "say why the book changes"),
])
def test_a_reason_with_control_characters_or_too_long_is_refused_naming_it(
        api: ApiServer, reason: str, words: str) -> None:
    path = books_of(api, "reasons")
    with api.client(ADMIN) as boss:
        found = refused_field(boss.put(path, json={"reason": reason, "book": book()}), "reason")
        assert words in found["detail"] and found["type"] == PREFIX + "invalid"
        assert found["exit_code"] == 2
        assert [v["version"] for v in boss.get(f"{path}/history").json()["versions"]] == [0]
    if "\u0000" not in reason:  # no argv holds NUL; every other reason, the CLI's same words
        printed = cli(api, "policy", "set", "-", "--merchant", "reasons", "--reason", reason,
                      principal=ADMIN, stdin=json.dumps(book()))
        assert printed.returncode == 2, printed.stderr
        assert printed.stderr.strip() == f"error: {found['detail']}"


def test_a_thousand_character_reason_is_stored_and_read_back(api: ApiServer) -> None:
    path = books_of(api, "long-reason")
    with api.client(ADMIN) as boss:
        reason = "line one\n\tline two " + "x" * 980
        stored = boss.put(path, json={"reason": reason, "book": book()})
        assert stored.status_code == 201, stored.text
        assert boss.get(path).json()["reason"] == reason


def test_put_honours_if_match(api: ApiServer) -> None:
    admin_key(api)
    path = "/v1/policy-books/merchants/if-match"
    with api.client(ADMIN) as boss:
        fresh = boss.get(path)
        assert fresh.headers["etag"] == '"0"' and fresh.json()["version"] == 0
        first = boss.put(path, json={"reason": "first", "book": book()},
                         headers={"If-Match": fresh.headers["etag"]})
        assert first.status_code == 201 and first.headers["etag"] == '"1"', first.text
        stale = problem(boss.put(path, json={"reason": "stale", "book": eu30()},
                                 headers={"If-Match": '"0"'}), 412)
        assert stale["type"] == PREFIX + "precondition_failed"
        assert "at version 1, not 0" in stale["detail"]
        ahead = problem(boss.put(path, json={"reason": "ahead", "book": eu30()},
                                 headers={"If-Match": '"7"'}), 412)
        assert "at version 1, not 7" in ahead["detail"]
        for bad in ("1", '"a"', 'W/"1"', '"1", "2"', '"1234567890"', ""):
            refused_field(boss.put(path, json={"reason": "bad", "book": eu30()},
                                   headers={"If-Match": bad}), "If-Match")
        assert [v["version"] for v in boss.get(f"{path}/history").json()["versions"]] == [0, 1]
        current = boss.get(path).headers["etag"]
        second = boss.put(path, json={"reason": "second", "book": eu30()},
                          headers={"If-Match": current})
        assert second.status_code == 201 and second.headers["etag"] == '"2"', second.text
        anyway = boss.put(path, json={"reason": "any", "book": book()},
                          headers={"If-Match": "*"})
        assert anyway.status_code == 201 and anyway.headers["etag"] == '"3"'


def test_if_match_star_on_a_merchant_without_a_book_is_412_and_stores_nothing(
        api: ApiServer) -> None:
    """RFC 9110 §13.1.1: ``If-Match: *`` is false when the resource has no current
    representation; a merchant's own book before its first version has none (its ETag is "0",
    the platform's book answers for it)."""
    admin_key(api)
    path = "/v1/policy-books/merchants/star-none-yet"
    with api.client(ADMIN) as boss:
        refused = problem(boss.put(path, json={"reason": "first", "book": book()},
                                   headers={"If-Match": "*"}), 412)
        assert refused["type"] == PREFIX + "precondition_failed"
        assert refused["detail"].startswith("If-Match: * failed: the policy book of"), refused
        assert "has no version yet" in refused["detail"]
        assert [v["version"] for v in boss.get(f"{path}/history").json()["versions"]] == [0]
        first = boss.put(path, json={"reason": "first", "book": book()})
        assert first.status_code == 201, first.text
        second = boss.put(path, json={"reason": "second", "book": eu30()},
                          headers={"If-Match": "*"})
        assert second.status_code == 201 and second.headers["etag"] == '"2"', second.text

def test_a_merchant_without_a_book_shows_the_platforms_with_its_own_version_as_etag(
        api: ApiServer) -> None:
    admin_key(api)
    with api.client(ADMIN) as boss:
        platform = boss.get("/v1/policy-books/platform")
        if platform.json()["version"] == 0:
            assert boss.put("/v1/policy-books/platform", json={
                "reason": "platform", "book": book()}).status_code == 201
        platform = boss.get("/v1/policy-books/platform")
        assert platform.headers["etag"] == f'"{platform.json()["version"]}"' != '"0"'
        stale = problem(boss.put("/v1/policy-books/platform", json={
            "reason": "stale", "book": eu30()}, headers={"If-Match": '"0"'}), 412)
        assert "the policy book of the platform default is at version" in stale["detail"]
        shown = boss.get("/v1/policy-books/merchants/no-own-book")
        assert shown.json()["book"] == "platform" and shown.headers["etag"] == '"0"'
        done = boss.put("/v1/policy-books/merchants/no-own-book", json={
            "reason": "its own", "book": eu30()}, headers={"If-Match": shown.headers["etag"]})
        assert done.status_code == 201 and done.headers["etag"] == '"1"', done.text


@pytest.mark.parametrize(("method", "route", "params", "field", "words"), [
    ("GET", "", "verison=1", "verison", "it takes version"),
    ("GET", "", "version=0&version=1", "version", "give it once"),
    ("GET", "/history", "version=1", "version", "it takes none"),
    ("GET", "/diff", "from=&to=", "from", "it takes after, before"),
    ("GET", "/diff", "before=0&before=1", "before", "give it once"),
    ("GET", "/diff", "after=1&after=1", "after", "give it once"),
    ("GET", "/published", "lang=en&lang=zh-CN", "lang", "give it once"),
    ("GET", "/published", "language=en", "language", "it takes format, lang"),
    ("PUT", "", "reason=x", "reason", "it takes none"),
    ("POST", "/diff", "before=0", "before", "it takes none"),
    ("POST", "/simulate", "format=json&format=html", "format", "give it once"),
    ("POST", "/simulate", "since=2026-01-01", "since", "it takes format"),
])
def test_unknown_or_repeated_query_parameters_are_refused_naming_them(
        api: ApiServer, method: str, route: str, params: str, field: str, words: str) -> None:
    path = "/v1/policy-books/merchants/params"
    admin_key(api)
    with api.client(ADMIN) as boss:
        if boss.get(path).headers["etag"] == '"0"':
            assert boss.put(path, json={"reason": "r", "book": book()}).status_code == 201
    body = {"GET": None, "PUT": {"reason": "r", "book": eu30()}, "POST": {"version": 1}}[method]
    with api.client(ADMIN) as boss:
        for base in (path, "/v1/policy-books/platform"):
            if route == "/simulate" and base.endswith("platform"):
                continue  # the simulation is per merchant
            found = refused_field(boss.request(method, f"{base}{route}?{params}", json=body),
                                  field)
            assert words in found["detail"], found
        assert [v["version"] for v in boss.get(f"{path}/history").json()["versions"]] == [0, 1]
    with api.client("auditor-1") as auditor:  # the same mechanism as /v1/cases, its words
        cases = refused_field(auditor.get("/v1/cases?status=open&status=closed"), "status")
    assert cases["detail"] == "status: give it once"
    assert cases["type"] == found["type"] == PREFIX + "invalid"


def test_a_draft_below_the_law_is_refused_by_the_diff_as_put_refuses_it(api: ApiServer) -> None:
    path = books_of(api, "draft-law", book())
    short = book()
    short["returns"]["markets"]["GB"]["fault"] = "20 days"
    with api.client(ADMIN) as boss:
        stored = problem(boss.put(path, json={"reason": "short", "book": short}), 422)
        drafted = problem(boss.post(f"{path}/diff", json={"book": short}), 422)
        assert drafted["detail"] == stored["detail"] and drafted["type"] == stored["type"]
        assert "UK 30-day short-term right to reject" in drafted["detail"]
    printed = cli(api, "policy", "diff", "-", "--merchant", "draft-law", principal=ADMIN,
                  stdin=json.dumps(short))
    assert printed.returncode == 1 and printed.stderr.strip() == f"error: {stored['detail']}"


def test_unknown_versions_empty_periods_and_missing_choices_have_their_own_words(
        api: ApiServer) -> None:
    path = books_of(api, "words", book())
    with api.client("auditor-1") as auditor:
        for answer in (auditor.get(path, params={"version": 4}),
                       auditor.get(f"{path}/diff", params={"after": 4}),
                       auditor.post(f"{path}/simulate", json={"version": 4})):
            found = problem(answer, 404)
            assert found["type"] == PREFIX + "unknown_version" and "version 4" in found["detail"]
        empty = problem(auditor.post(f"{path}/simulate", json={
            "version": 1, "since": "2026-03-02T09:00:00+00:00",
            "until": "2026-03-02T09:00:00+00:00"}), 400)
        assert empty["type"] == PREFIX + "invalid" and "the period is empty" in empty["detail"]
        assert [e["field"] for e in empty["errors"]] == ["since", "until"]
        nothing = problem(auditor.post(f"{path}/simulate", json={}), 400)
        assert "one of them is required" in nothing["detail"]
        assert "not both" not in nothing["detail"]
        both = problem(auditor.post(f"{path}/simulate", json={"version": 1, "book": book()}),
                       400)
        assert "not both" in both["detail"]


def test_an_order_no_url_could_name_the_merchant_of_is_refused(api: ApiServer) -> None:
    with api.client("upstream-1") as upstream:
        for merchant in ("a b", "shop/eu#1", "m?x", "-m"):
            found = problem(upstream.post("/v1/upstream-events", json=order_placed(
                "o-merchant", merchant_id=merchant)), 400)
            assert "merchant_id" in found["detail"] and MERCHANT_ID_RULE in found["detail"]
        accepted = upstream.post("/v1/upstream-events", json=order_placed(
            "o-merchant", merchant_id="shop.eu:1_a-b"))
        assert accepted.status_code == 200, accepted.text
    with api.client("auditor-1") as auditor:
        assert auditor.get("/v1/policy-books/merchants/shop.eu:1_a-b").status_code == 200


def test_a_refused_look_at_a_book_is_logged_with_its_merchant(api: ApiServer) -> None:
    admin_key(api)
    with api.client("analyst-1") as analyst:
        assert problem(analyst.get("/v1/policy-books/merchants/denied-shop/history"), 403)
    with api.client("auditor-1") as auditor:
        rows = auditor.get("/v1/audit/denials", params={
            "principal": "analyst-1", "operation": "ReadPolicyBook"}).json()["items"]
    assert rows and rows[-1]["merchant_id"] == "denied-shop"
    table = cli(api, "audit", "denials", "--operation", "ReadPolicyBook", "--principal",
                "analyst-1")
    assert "merchant_id" in table.stdout and "denied-shop" in table.stdout, table.stderr


@pytest.mark.parametrize(("where", "key", "entry"), [
    ("returns.markets", "UK", {"no_fault": "14 days", "fault": "30 days"}),
    ("refunds.markets", "XX", {"days": 14}),
    ("return_shipping.markets", "UK", "buyer_if_informed"),
])
def test_a_market_key_no_order_can_have_is_refused_by_every_route_and_command(
        api: ApiServer, where: str, key: str, entry: Any) -> None:
    """UK, XX: the boundary takes no order from such a market, so the entry would never apply
    (and was published as a row)."""
    section, markets = where.split(".")
    merchant = f"keys-{section}"
    path = books_of(api, merchant, book())
    document = book()
    document[section].setdefault(markets, {})[key] = entry
    named = f"{where}.{key}: '{key}' is not a market"
    with api.client(ADMIN) as boss:
        answers = [boss.put(path, json={"reason": "a key", "book": document}),
                   boss.post(f"{path}/diff", json={"book": document}),
                   boss.post(f"{path}/simulate", json={"book": document})]
        details = {problem(answer, 400)["detail"] for answer in answers}
        assert len(details) == 1 and named in details.pop()
        assert [v["version"] for v in boss.get(f"{path}/history").json()["versions"]] == [0, 1]
    for command in ("set", "diff", "simulate"):
        args = ("--reason", "a key") if command == "set" else ()
        printed = cli(api, "policy", command, "-", "--merchant", merchant, *args,
                      principal=ADMIN, stdin=json.dumps(document))
        assert printed.returncode == 2, (command, printed.stderr)
        assert named in printed.stderr


def test_a_bad_book_lists_every_bad_setting_by_its_place_and_says_chosen_names_back_cut(
        api: ApiServer) -> None:
    """PUT, diff and what-if: each bad setting in ``errors`` by its place in the body
    (``book.…``), as a command's bad fields are; a key the author chose (an unknown setting, an
    unknown field of the body) said back cut to 40 characters, invisible characters escaped."""
    path = books_of(api, "named-settings", book())
    document = book()
    document["approval"]["thresholds"]["EUR"] = "x"
    document["SECRET\u202e" + "A" * 3000] = 1
    cut = "SECRET\\u202e" + "A" * 33 + "…"
    with api.client(ADMIN) as boss:
        answers = [boss.put(path, json={"reason": "bad", "book": document}),
                   boss.post(f"{path}/diff", json={"book": document}),
                   boss.post(f"{path}/simulate", json={"book": document})]
        for answer in answers:
            found = problem(answer, 400)
            assert [e["field"] for e in found["errors"]] == [
                "book.approval.thresholds.EUR", f"book.{cut}"], found
            assert "\u202e" not in answer.text and "A" * 34 not in answer.text
        for where in (path, f"{path}/diff", f"{path}/simulate"):
            extra = {"reason": "x", "book": book(), "by\u202e" + "x" * 100: "someone"}
            if where != path:
                del extra["reason"]
            found = problem(boss.put(where, json=extra) if where == path
                            else boss.post(where, json=extra), 400)
            assert found["errors"] == [{"field": "by\\u202e" + "x" * 37 + "…",
                                        "detail": "not a field of this body"}], found
        assert [v["version"] for v in boss.get(f"{path}/history").json()["versions"]] == [0, 1]
