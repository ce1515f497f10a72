"""Every route of the OpenAPI document refuses a query parameter it does not take, and one it
takes given twice, with a 400 naming it (README "Service API"): swept over the committed
document, so a route added later is covered without a line here."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from api.export import OUT
from tests.api_server import ApiServer
from tests.e2e.conftest import World

DOCUMENT: dict[str, Any] = orjson.loads(OUT.read_bytes())
OPERATIONS = [(method.upper(), path, [p["name"] for p in operation.get("parameters", [])
                                      if p["in"] == "query"])
              for path, operations in DOCUMENT["paths"].items()
              for method, operation in operations.items()]


def _url(path: str, world: World) -> str:
    return path.format(case_id=world.return_case, order_id=world.order, merchant_id="m-1",
                       name="products")


def _refused(done: Any, field: str, words: str) -> None:
    assert done.status_code == 400, (done.request.url, done.text)
    found = done.json()
    assert found["errors"] == [{"field": field, "detail": found["detail"].split(": ", 1)[1]}]
    assert found["detail"].startswith(f"{field}: ") and words in found["detail"], found


@pytest.mark.parametrize(("method", "path", "declared"), OPERATIONS,
                         ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
def test_every_route_refuses_an_unknown_or_repeated_query_parameter(
        api: ApiServer, world: World, method: str, path: str, declared: list[str]) -> None:
    url = _url(path, world)
    with api.client("auditor-1") as auditor:
        _refused(auditor.request(method, url, params={"x": "1"}), "x",
                 "not a parameter of this route; it takes "
                 + (", ".join(sorted(declared)) if declared else "none"))
        repeated = declared[0] if declared else "x"
        _refused(auditor.request(method, url, params=[(repeated, "1"), (repeated, "2")]),
                 repeated, "give it once" if declared else "not a parameter")


def test_a_long_parameter_name_is_not_said_back_whole(api: ApiServer, world: World) -> None:
    with api.client("auditor-1") as auditor:
        done = auditor.get("/v1/me", params={"p" * 4000: "1"})
    assert done.status_code == 400 and len(done.content) < 1000, done.text
    assert done.json()["errors"][0]["field"] == "p" * 40 + "…"


def test_the_order_cases_listing_takes_the_cases_filters_but_its_order(api: ApiServer,
                                                                        world: World) -> None:
    with api.client("auditor-1") as auditor:
        listed = auditor.get(f"/v1/orders/{world.order}/cases",
                             params={"limit": "1", "case_type": "return"})
        assert listed.status_code == 200, listed.text
        _refused(auditor.get(f"/v1/orders/{world.order}/cases", params={"order_id": "o-2"}),
                 "order_id", "not a parameter of this route")


@pytest.mark.parametrize("order_by", ["--opened_at", "-", "", "opened_at-", "- opened_at"])
def test_order_by_is_one_column_with_at_most_one_minus(api: ApiServer, world: World,
                                                       order_by: str) -> None:
    with api.client("auditor-1") as auditor:
        assert auditor.get("/v1/cases", params={"order_by": "-opened_at"}).status_code == 200
        _refused(auditor.get("/v1/cases", params={"order_by": order_by}), "order_by",
                 f"{order_by!r} is not a column of cases")


TIMED = [(method, path, name) for method, path, declared in OPERATIONS
         for name in declared if name in ("as_of", "due_before", "since")]


@pytest.mark.parametrize(("method", "path", "name"), TIMED,
                         ids=[f"{m} {p} {n}" for m, p, n in TIMED])
def test_a_query_time_whose_plus_arrived_as_a_space_says_so_and_how_to_write_it(
        api: ApiServer, world: World, method: str, path: str, name: str) -> None:
    """The README's own form, sent with a bare '+': the query string made it a space. The
    message names that and the fix (%2B), not a mistake the caller did not make."""
    assert TIMED
    with api.client("auditor-1") as auditor:
        done = auditor.request(method, f"{_url(path, world)}?{name}=2026-12-02T05:45:00+00:00")
    _refused(done, name, "'+' arrived as a space")
    assert "%2B" in done.json()["detail"] and "seconds" not in done.json()["detail"]
