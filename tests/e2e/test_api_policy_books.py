"""Policy books over real HTTP, on SQLite and PostgreSQL: administrators set them, administrators
and auditors read them and their history, every role reads the published policy; a book
below the law's minimums or with a bad setting is refused with a problem document naming it,
and nothing is stored."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aftersales_core.policybook.documents import parse
from api.key_admin import KeyAdmin
from server.keys import ApiKeys
from tests.api_server import ApiServer
from tests.factories import ADMIN, admin

BOOK = Path(__file__).resolve().parents[2] / "demo" / "books" / "uci-online-retail.toml"
PATH = "/v1/policy-books/merchants/uci"


def book() -> dict[str, Any]:
    return parse(BOOK.read_bytes())


def admin_key(api: ApiServer) -> None:
    if ADMIN not in api.keys:
        with api.app() as services:
            api.keys[ADMIN] = KeyAdmin(services, ApiKeys(services.store.recorder)).issue(
                admin(services), ADMIN, datetime.now(UTC)).token


def test_admins_set_books_auditors_read_them_and_everyone_reads_the_published_policy(
        api: ApiServer) -> None:
    admin_key(api)
    with api.client("auditor-1") as auditor:
        before = auditor.get(PATH)
        assert before.status_code == 200 and before.json()["version"] == 0, before.text
        assert auditor.put(PATH, json={"reason": "r", "book": book()}).status_code == 403
    with api.client("agent-1") as agent:
        assert agent.get(PATH).status_code == 403
    with api.client(ADMIN) as boss:
        stored = boss.put(PATH, json={"reason": "the 2027 book", "book": book()})
        assert stored.status_code == 201, stored.text
        assert (stored.json()["version"], stored.json()["reason"]) == (1, "the 2027 book")
        assert stored.json()["set_by"] and stored.headers["etag"] == '"1"'
        again = boss.put(PATH, json={"reason": "same again", "book": book()})
        assert again.status_code >= 400 and "version 1" in again.json()["detail"], again.text
    with api.client("auditor-1") as auditor:
        shown = auditor.get(PATH)
        assert shown.json()["version"] == 1
        assert shown.json()["document"]["currencies"] == book()["currencies"]
        assert auditor.get(PATH, params={"version": 0}).json()["version"] == 0
        assert auditor.get(PATH, params={"version": 7}).status_code == 404
        history = auditor.get(f"{PATH}/history").json()["versions"]
        assert [v["version"] for v in history] == [0, 1]  # 0: the built-in defaults
    with api.client("customer-c-1") as customer:
        text = customer.get(f"{PATH}/published", params={"lang": "zh-CN", "format": "html"})
        assert text.status_code == 200 and text.headers["content-type"].startswith("text/html")
        assert customer.get(PATH).status_code == 403


def test_a_book_below_the_law_or_with_a_bad_setting_is_refused_and_nothing_is_stored(
        api: ApiServer) -> None:
    admin_key(api)
    short = copy.deepcopy(book())
    short["returns"]["markets"]["GB"]["fault"] = "20 days"
    path = "/v1/policy-books/merchants/uci-law"
    with api.client(ADMIN) as boss:
        unlawful = boss.put(path, json={"reason": "shorter", "book": short})
        assert unlawful.status_code in (400, 422), unlawful.text
        assert unlawful.headers["content-type"] == "application/problem+json"
        assert "30-day" in unlawful.json()["detail"]
        bad = boss.put(path, json={"reason": "bad", "book": {**book(), "returnless": {
            "share": 0.6}}})
        assert bad.status_code == 400 and "returnless.share" in bad.text, bad.text
        assert boss.put(path, json={"book": book()}).status_code == 400  # no reason
        assert boss.put(path, json={"reason": "x", "book": book(), "by": "sup-1"}
                        ).status_code == 400  # nothing but reason and book
        assert [v["version"] for v in boss.get(f"{path}/history").json()["versions"]] == [0]
