"""The case page (as of now, or for auditors as of any past moment) and its actions.

An action is a form posted with the session's CSRF token and the case version the page showed;
the desk turns it into the command's JSON body and sends it down the one command path every
entry point uses (``dispatch``: the wire model's validation, the permission matrix, the
domain), as the signed-in principal, with the shown version as ``If-Match`` (a case that moved
on meanwhile is shown again, nothing done). Whether a button is shown never decides anything:
a forged post is checked, refused and logged like any other command."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from aftersales_core.application.access import Caller, Expectation
from aftersales_core.domain.ids import case_id_for, order_aggregate_id
from aftersales_core.errors import (
    AlreadyExistsError,
    DomainError,
    NotAuthorisedError,
    PreconditionFailedError,
    UnknownCaseError,
)
from aftersales_core.text import is_digits
from desk import actions
from desk.case_view import build, is_due
from desk.web import (
    PATH,
    DeskRoute,
    Viewer,
    case_uuid,
    check_csrf,
    nav_of,
    principal_names,
    read_form,
    render,
    see_other,
    state,
    viewer,
)
from dispatch.bodies import parse
from dispatch.commands import execute
from dispatch.tracing import from_headers, traced
from schemas.errors import InputRefused
from server.problems import Problem
from server.requests import runtime, time_param

router = APIRouter(route_class=DeskRoute, include_in_schema=False)
Who = Annotated[Viewer, Depends(viewer)]


def _as_of(who: Viewer, text: str | None) -> tuple[datetime | None, str | None]:
    """An as-of moment from the control (local time in the viewer's zone) or RFC 3339."""
    if not text:
        return None, None
    value = text.strip()
    if len(value) in (16, 19) and "T" in value:  # a datetime-local value: the viewer's zone
        try:
            local = datetime.fromisoformat(value).replace(tzinfo=who.reader.zone)
        except ValueError:
            return None, who.reader.t("case.as_of.bad", reason=value[:40])
        value = local.isoformat()
    try:
        return time_param(value, "as_of"), None
    except Problem as problem:
        return None, who.reader.t("case.as_of.bad", reason=problem.detail)


def page(request: Request, who: Viewer, case_id: UUID, as_of_text: str | None = None,
         status: int = 200, **extra: Any) -> Response:
    rt, desk = runtime(request), state(request)
    as_of, as_of_error = _as_of(who, as_of_text)
    history = rt.services.reads.case(who.caller, case_id, as_of)
    data = history.to_json()
    if data["case_type"] == "order":
        raise UnknownCaseError(f"no case {case_id}")
    order = None
    order_id = data["state"].get("order_id")
    if isinstance(order_id, str):
        try:
            order = rt.services.reads.case(who.caller, order_aggregate_id(order_id),
                                           as_of).to_json()
        except UnknownCaseError:
            order = None
    forms = [] if as_of is not None else actions.actions_for(who.caller, who.principal,
                                                              history.aggregate)
    assignment = desk.assignments.current([str(case_id)]).get(str(case_id))
    view = build(data)
    names = principal_names(request, {str(e["by"]) for e in view.timeline if e["by"]}
                            | {str(m["by"]) for m in view.conversation if m["by"]})
    return render(request, "case.html", who.reader, status=status, who=who, nav=nav_of(who),
                  case=view, names=names, is_due=is_due, order=order, order_id=order_id,
                  forms=forms,
                  assignment=assignment, as_of=as_of, as_of_error=as_of_error,
                  auditor="auditor" in who.roles, csrf=who.session.csrf,
                  may_assign=as_of is None and "AssignCase" in nav_of(who),
                  done=request.query_params.get("done"), **extra)


@router.get(f"{PATH}/cases/{{case_id}}")
def case_page(request: Request, who: Who, case_id: str) -> Response:
    return page(request, who, case_uuid(case_id), request.query_params.get("as_of"))


@router.get(f"{PATH}/cases/{{case_id}}/act")
@router.get(f"{PATH}/cases/{{case_id}}/assign")
def back_to_case(case_id: str) -> Response:
    """The address a refused action's page is shown at, opened again (reloaded, saved
    preferences, signed in again after the session ended): the case page."""
    return see_other(f"{PATH}/cases/{case_uuid(case_id)}")


@router.post(f"{PATH}/cases/{{case_id}}/act")
async def act(request: Request, case_id: str) -> Response:
    form = await read_form(request)
    who = await run_in_threadpool(viewer, request)
    check_csrf(request, who, form)
    return await run_in_threadpool(_act, request, who, case_uuid(case_id), form)


def _act(request: Request, who: Viewer, case_id: UUID, form: dict[str, str]) -> Response:
    rt = runtime(request)
    name = form.get("command", "")
    history = rt.services.reads.case(who.caller, case_id)
    kind = history.to_json()["case_type"]
    if name not in actions.WHEN.get(kind, {}):
        return page(request, who, case_id, status=400, failed=name[:60],
                    problem=f"{name[:60]!r} is no action on a {kind} case")
    version = form.get("version", "")
    caller = who.caller
    if is_digits(version) and name != "RequestRefund":
        caller = Caller(caller.principal_id, caller.received_at, caller.via, roles=caller.roles,
                        if_match=Expectation(case_id, int(version)))
    body = actions.body_of(name, form, history.aggregate)
    if name == "RequestRefund" and is_digits(form.get("order_version", "")):
        # a refund opens a case of its own, so no If-Match: it is held against the order the
        # page showed instead. Its id comes from that order version, so two agents on pages
        # of the same moment open one refund, not two; a page the order moved past is stale
        shown = int(form["order_version"])
        order = rt.services.reads.case(who.caller, order_aggregate_id(str(body["order_id"])))
        if order.aggregate.version != shown:
            return page(request, who, case_id, status=409, failed=name, values=form,
                        problem=who.reader.t("actions.stale_order"))
        body["case_id"] = str(case_id_for("refund", f"desk:{case_id}:order-v{shown}"))
    try:
        command = parse(rt.services, caller, body)
        result = traced(from_headers(request.headers.items()),
                        lambda: execute(rt.services, caller, command, who.now))()
    except InputRefused as refused:
        return page(request, who, case_id, status=400, failed=name, values=form,
                    field_errors=dict(refused.fields),
                    problem=who.reader.t("actions.invalid", action=who.reader.term("cmd", name)))
    except PreconditionFailedError:  # what was typed stays in its form, to send again
        return page(request, who, case_id, status=409, failed=name, values=form,
                    problem=who.reader.t("actions.stale"))
    except NotAuthorisedError:
        raise
    except DomainError as refused:
        if name == "RequestRefund" and isinstance(refused, AlreadyExistsError):
            # the refund of this order version: a colleague's, requested at the same moment
            return page(request, who, case_id, status=409, failed=name, values=form,
                        problem=who.reader.t("actions.stale_order"))
        return page(request, who, case_id, status=422, failed=name, values=form,
                    field_errors=actions.field_errors(name, refused),
                    problem=who.reader.t("actions.refused", action=who.reader.term("cmd", name),
                                         reason=str(refused)))
    return see_other(f"{PATH}/cases/{result.case_id}?done={quote(name)}#top")
