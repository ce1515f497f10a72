"""The queue page, its rows as a fragment (the page asks for them again every few seconds, and
after "assign to me", without a full reload), and assigning a case to oneself."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from aftersales_core.application.access import CASE_TYPES, case_facts
from aftersales_core.errors import UnknownCaseError
from desk.assignments import AssignmentChanged
from desk.queue import FILTERS, TYPES, VIEWS, Query, queue
from desk.routes_case import page
from desk.web import (
    PATH,
    DeskRoute,
    Viewer,
    case_uuid,
    check_csrf,
    nav_of,
    read_form,
    render,
    see_other,
    state,
    viewer,
)
from schemas.commands import Channel
from server.requests import runtime

router = APIRouter(route_class=DeskRoute, include_in_schema=False)
Who = Annotated[Viewer, Depends(viewer)]
CHANNELS = Channel.__args__  # type: ignore[attr-defined]


def _context(request: Request, who: Viewer) -> dict[str, Any]:
    rt, desk = runtime(request), state(request)
    query = Query.parse(dict(request.query_params))
    scope = rt.services.reads.query_scope(who.caller, "cases")
    page = rt.read(lambda db: queue(db, desk.assignments, query, who.name, who.reader, who.now,
                                    scope.customer_id))
    may_assign = "AssignCase" in nav_of(who)
    return {"who": who, "query": query, "page": page, "views": VIEWS, "types": TYPES,
            "channels": CHANNELS, "filters": FILTERS, "may_assign": may_assign,
            "link": lambda **changes: f"{PATH}/queue?" + urlencode(query.params(**changes)),
            "rows_url": f"{PATH}/queue/rows?" + urlencode(query.params(shown=query.shown)),
            "poll": desk.settings.poll_seconds, "csrf": who.session.csrf}


@router.get(f"{PATH}/queue")
def queue_page(request: Request, who: Who) -> Response:
    return render(request, "queue.html", who.reader, **_context(request, who), nav=nav_of(who))


@router.get(f"{PATH}/queue/rows")
def queue_rows(request: Request, who: Who) -> Response:
    return render(request, "queue_rows.html", who.reader, **_context(request, who))


@router.post(f"{PATH}/cases/{{case_text}}/assign")
async def assign(request: Request, case_text: str) -> Response:
    form = await read_form(request)
    who = await run_in_threadpool(viewer, request)
    check_csrf(request, who, form)
    case_id = case_uuid(case_text)

    def work() -> None:
        rt = runtime(request)
        history = rt.services.reads.case(who.caller, case_id)  # may see it (404 otherwise)
        if not isinstance(history.aggregate, CASE_TYPES):
            raise UnknownCaseError(f"no case {case_id}")
        rt.services.access.require(who.caller, "AssignCase", case_facts(history.aggregate),
                                   case_id=case_id)
        state(request).assignments.assign(str(case_id), who.name, who.name, who.now,
                                          was=form.get("was"))

    try:
        await run_in_threadpool(work)
    except AssignmentChanged as changed:
        if request.headers.get("x-desk-fetch"):
            return Response(status_code=409)  # the script shows the server's page instead
        now = changed.now if changed.now is not None else "?"
        problem = who.reader.t("assign.changed", name=now or who.reader.t("nobody"))
        return await run_in_threadpool(page, request, who, case_id, None, 409, problem=problem)
    if request.headers.get("x-desk-fetch"):
        return Response(status_code=204)
    back = form.get("back", "")
    return see_other(back if back.startswith(f"{PATH}/") and not back.startswith("//")
                     else f"{PATH}/cases/{case_id}")
