"""Insights over real HTTP: the report's audience reads them (with the period and market
filters), customers and other roles do not; a bad filter is a 400 naming it."""

from __future__ import annotations

import pytest

from aftersales_core.policies.access import roles_for
from tests.api_server import ApiServer
from tests.e2e.conftest import World
from tests.factories import STAFF


@pytest.mark.parametrize("name", ["products", "carriers", "complaints", "refunds"])
def test_the_reports_audience_reads_each_insight_and_no_one_else(
        api: ApiServer, world: World, name: str) -> None:
    allowed = set(roles_for("ReadReport"))
    for who in ("analyst-1", "auditor-1", "agent-1", "warehouse-1", "customer-c-1"):
        role = STAFF[who][0] if who in STAFF else "customer"
        with api.client(who) as client:
            done = client.get(f"/v1/insights/{name}", params={"market": "DE"})
            assert done.status_code == (200 if role in allowed else 403), (who, done.text)
            if done.status_code == 200:
                body = done.json()
                assert body["insight"] == name and body["views"], body
                assert body["filters"]["market"] == "DE"


def test_bad_filters_are_named(api: ApiServer, world: World) -> None:
    with api.client("analyst-1") as client:
        for params, field in [({"since": "2026-13-01"}, "since"),
                              ({"since": "2026-03-01T00:00:00"}, "since"),
                              ({"since": "20261201"}, "times must be RFC 3339 strings"),
                              ({"market": "de"}, "market"),
                              ({"market": "XX"}, "'XX' is not a market"),
                              ({"market": "ZZ"}, "'ZZ' is not a market"),
                              ({"market": "EU"}, "'EU' is not a market")]:
            done = client.get("/v1/insights/carriers", params=params)
            assert done.status_code == 400, (params, done.text)
            assert field in done.text
        assert client.get("/v1/insights/nothing").status_code in (400, 404)
