"""What a change to a policy book changes, over HTTP, as `aftersales policy diff` and `aftersales
policy simulate` answer it: the settings that differ between two stored versions (or from a
version to a proposed book), and the merchant's recorded decisions evaluated again under a
proposed book or a stored version. Both store nothing; administrators and auditors only (the
permission matrix, asked before anything is read: a caller who may not gets 403 whether the
book exists or not)."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import TypeAdapter
from starlette.responses import Response

from aftersales.policy_render import html as simulation_html
from aftersales_core.application.access import Caller
from aftersales_core.application.services import Services
from aftersales_core.decisions import JSON
from aftersales_core.policybook.model import Book
from aftersales_core.policybook.publish.render import HTML_POLICY
from aftersales_core.policybook.simulate import Report
from api import models
from api.http import PROBLEMS, answer, bad_param, caller, json_body, note
from api.routes_policy import BOOK_FIELD, MAX_VERSION, Merchant, body_fields, checked_book
from schemas.common import Timestamp
from server.auth import Authenticated
from server.problems import Problem
from server.requests import runtime, time_param

router = APIRouter(tags=["policy books"])
Who = Annotated[Authenticated, Depends(caller)]
Before = Annotated[int | None, Query(ge=0, le=MAX_VERSION, description=(
    "the version to compare from (default: the one before `after`); it may be the later one"))]
After = Annotated[int | None, Query(ge=0, le=MAX_VERSION, description=(
    "the version to compare to (default: the latest)"))]
ReportFormat = Annotated[Literal["json", "html"], Query(
    alias="format", description="JSON (as `--format json`) or a standalone HTML page")]

_JSON = "application/json"
_VERSION = {"type": "integer", "minimum": 0, "maximum": MAX_VERSION}
_TIME = TypeAdapter(Timestamp).json_schema()
Responses = dict[int | str, dict[str, Any]]
_MORE: Responses = {415: {"description": "the body is not application/json",
                          "content": PROBLEMS[400]["content"]}}
DIFF: Responses = {200: {"model": models.PolicyBookDiff,
                         "description": "the versions compared and each setting that differs"},
                   **PROBLEMS}
DRAFT_DIFF: Responses = {200: {"model": models.PolicyBookDiff,
                               "description": "the version compared and each setting the "
                                              "proposed book changes"}, **PROBLEMS, **_MORE}
DRAFT_DIFF_BODY = {"requestBody": {"required": True, "content": {_JSON: {"schema": {
    "type": "object", "required": ["book"], "additionalProperties": False,
    "properties": {"book": BOOK_FIELD, "before": {
        **_VERSION, "description": "the stored version to compare from (default: the "
                                   "latest)"}}}}}}}
SIMULATED: Responses = {
    200: {"model": models.Simulation, "description": "what would have been decided differently "
          "(JSON, or HTML with ?format=html)",
          "content": {"text/html": {"schema": {"type": "string"}}}},
    **PROBLEMS, **_MORE,
    422: {"description": "the proposed book falls short of the law (exit code 1)",
          "content": PROBLEMS[400]["content"]}}
SIMULATE_BODY = {"requestBody": {"required": True, "content": {_JSON: {"schema": {
    "type": "object", "additionalProperties": False,
    "oneOf": [{"required": ["book"]}, {"required": ["version"]}],
    "properties": {
        "book": {**BOOK_FIELD, "description": "the proposed book (the JSON form of a book "
                                              "file); or give version"},
        "version": {**_VERSION, "description": "a stored version of the merchant's own book "
                                               "(0: the built-in defaults); or give book"},
        "since": {**_TIME, "description": "only decisions recorded at or after this time"},
        "until": {**_TIME, "description": "only decisions recorded before this time"}}}}}}}
# Each simulation reads the whole store: one at a time per server process, so that a few
# callers cannot hold every request thread.
SIMULATIONS = threading.Lock()




def _version(body: dict[str, Any], field: str) -> int | None:
    if field not in body:
        return None
    value = body[field]
    if isinstance(value, bool) or not isinstance(value, int) or \
            not 0 <= value <= MAX_VERSION:
        raise bad_param(field, f"a stored version: an integer from 0 to {MAX_VERSION}")
    return value


def _time(body: dict[str, Any], field: str) -> datetime | None:
    if field not in body:
        return None
    if not isinstance(body[field], str):
        raise bad_param(field, "an RFC 3339 time with an offset, e.g. 2026-03-02T09:00:00+00:00")
    return time_param(body[field], field, in_query=False)


def _diff(request: Request, who: Authenticated, merchant: str | None, before: int | None,
          after: int | None, proposed: Book | None = None) -> Response:
    note(request, merchant=merchant or "platform")
    found = runtime(request).services.books.compare(who.caller, merchant, before, after,
                                                    proposed)
    return answer(found.to_json())


async def _draft_diff(request: Request, who: Authenticated, merchant: str | None) -> Response:
    body = body_fields(await json_body(request), ("book", "before"))
    if "book" not in body:
        raise bad_param("book", "the proposed book to compare with (the JSON form of a book "
                               "file)")
    before, book = _version(body, "before"), checked_book(body["book"])
    return await run_in_threadpool(_diff, request, who, merchant, before, None, book)


def run_simulation(services: Services, caller: Caller, merchant: str, proposed: Book | int,
                   since: datetime | None, until: datetime | None) -> tuple[Report, JSON]:
    """The simulation, unless another is running in this process (429); a caller who may not
    simulate is told so (403), never to wait for another's simulation."""
    services.access.require(caller, "SimulatePolicyBook", {"merchant_id": merchant})
    if not SIMULATIONS.acquire(blocking=False):
        raise Problem(429, "busy", "a simulation is running in this server process: try "
                      "again when it has finished", headers={"Retry-After": "5"})
    try:
        return services.books.simulate(caller, merchant, proposed, since, until)
    finally:
        SIMULATIONS.release()


@router.get("/v1/policy-books/platform/diff", responses=DIFF)
def get_platform_diff(request: Request, who: Who, before: Before = None,
                      after: After = None) -> Response:
    """What changes between two versions of the platform's book (default: the latest and the
    one before), setting by setting (`aftersales policy diff`): administrators and auditors."""
    return _diff(request, who, None, before, after)


@router.get("/v1/policy-books/merchants/{merchant_id}/diff", responses=DIFF)
def get_merchant_diff(request: Request, who: Who, merchant_id: Merchant,
                      before: Before = None, after: After = None) -> Response:
    """What changes between two versions of the merchant's own book (default: the latest and
    the one before; version 0 is the built-in defaults), setting by setting: administrators
    and auditors. Same versions: no changes; an unknown version: 404 naming it."""
    return _diff(request, who, merchant_id, before, after)


@router.post("/v1/policy-books/platform/diff", responses=DRAFT_DIFF,
             openapi_extra=DRAFT_DIFF_BODY)
async def post_platform_diff(request: Request, who: Who) -> Response:
    """What a proposed platform book would change against a stored version (default: the
    latest), before it is set: ``{"book", "before"?}``; nothing is stored."""
    return await _draft_diff(request, who, None)


@router.post("/v1/policy-books/merchants/{merchant_id}/diff", responses=DRAFT_DIFF,
             openapi_extra=DRAFT_DIFF_BODY)
async def post_merchant_diff(request: Request, who: Who, merchant_id: Merchant) -> Response:
    """What a proposed book would change against a stored version of the merchant's own book
    (default: the latest), before it is set: ``{"book", "before"?}``; nothing is stored."""
    return await _draft_diff(request, who, merchant_id)


@router.post("/v1/policy-books/merchants/{merchant_id}/simulate", responses=SIMULATED,
             response_class=Response, openapi_extra=SIMULATE_BODY)
async def simulate_merchant_book(request: Request, who: Who, merchant_id: Merchant,
                                 fmt: ReportFormat = "json") -> Response:
    """Every recorded decision of the merchant (in ``since``..``until``) evaluated again under
    a proposed book (``{"book": …}``, checked as `PUT` checks it, then against the law) or a
    stored version of its own (``{"version": N}``), as `aftersales policy simulate` does:
    outcomes that change, refund totals, approvals needing a supervisor, deadlines breached,
    before and after. Nothing is stored; administrators and auditors. One simulation runs at
    a time per server process (429 with Retry-After meanwhile)."""
    body = body_fields(await json_body(request), ("book", "version", "since", "until"))
    if ("book" in body) == ("version" in body):
        what = "not both" if "book" in body else "one of them is required"
        raise Problem(400, "invalid", "give either book (a proposed book) or version (a "
                      f"stored one): {what}", fields=(("book", f"book or version: {what}"),
                                                      ("version", f"book or version: {what}")))
    since, until = _time(body, "since"), _time(body, "until")
    version = _version(body, "version")
    proposed: Book | int = checked_book(body["book"]) if "book" in body else version or 0
    note(request, merchant=merchant_id)
    report, timing = await run_in_threadpool(run_simulation, runtime(request).services,
                                             who.caller, merchant_id, proposed, since, until)
    result = report.to_json()
    private = {"Cache-Control": "no-store"}  # case ids and amounts: never kept by caches
    if fmt == "html":
        return Response(simulation_html(result, timing), media_type="text/html; charset=utf-8",
                        headers={**private, "Content-Security-Policy": HTML_POLICY})
    return answer({**result, "timing": timing}, headers=private)
