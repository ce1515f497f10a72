"""What the after-sales data tells the merchant, over HTTP (`aftersales insights`): product
information alerts, carrier scorecards, complaint drivers, refund economics; for the report's
audience (analysts, staff, auditors), filtered by period and market."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from aftersales_core.policies.markets import check_market
from api.http import PROBLEMS, answer, caller
from projections.db import ReadDatabase
from projections.insights import carriers, complaints, products, refunds
from projections.insights.periods import since_bound
from projections.insights.view import Insight
from server.auth import Authenticated
from server.problems import Problem
from server.requests import check_plus, runtime

router = APIRouter(tags=["insights"])
Who = Annotated[Authenticated, Depends(caller)]
Build = Callable[[ReadDatabase, str | None, str | None], Insight]
BUILDS: dict[str, Build] = {"products": products.products, "carriers": carriers.carriers,
                            "complaints": complaints.complaints, "refunds": refunds.refunds}
Name = Annotated[Literal["products", "carriers", "complaints", "refunds"],
                 Path(description="which insight")]
Since = Annotated[str | None, Query(description="only what happened from this date "
                                                "(YYYY-MM-DD, UTC midnight) or RFC 3339 time on",
                                    max_length=40)]
Market = Annotated[str | None, Query(pattern=r"^[A-Z]{2}$",
                                     description="one market, ISO 3166-1 alpha-2")]


@router.get("/v1/insights/{name}", responses=PROBLEMS)
def get_insight(request: Request, who: Who, name: Name, since: Since = None,
                market: Market = None) -> Response:
    """One insight with all its views: every rate as k of n with its 95 % interval (README,
    "Insights"), the same document `aftersales insights NAME --format json` prints."""
    rt = runtime(request)
    rt.services.reads.require(who.caller, "ReadReport")
    if since is not None:
        check_plus(since, "since")
    try:
        bound = since_bound(since)
    except (ValueError, OverflowError) as error:
        raise Problem(400, "invalid", f"since: {error}", fields=(("since", str(error)),)
                      ) from None
    if market is not None:
        try:
            check_market(market)  # assigned codes only: XX, ZZ or EU would match nothing
        except ValueError as error:
            raise Problem(400, "invalid", f"market: {error}", fields=(("market", str(error)),)
                          ) from None
    build = BUILDS[name]
    return answer(rt.read(lambda db: build(db, bound, market)).as_json())
