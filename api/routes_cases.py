"""One case, as of any moment (``as_of``): its state, its events (who, in which role, when,
what), its decisions and its deadlines, and the re-run of its decisions; one order's facts and
its cases. A case or order the caller may not see is "not found", word for word what one that
does not exist gives (the application decides: ``ReadService.case``)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import TypeAdapter, ValidationError
from starlette.responses import Response

from aftersales_core.application.history import CaseHistory, rerun_row
from aftersales_core.application.store import unknown_order
from aftersales_core.domain.ids import order_aggregate_id
from aftersales_core.errors import UnknownCaseError
from api import models
from api.http import ETAG_HEADER, PROBLEMS, answer, caller, note
from api.routes_queries import list_table, table_parameters
from schemas.common import Ident
from schemas.errors import validation_fields
from server.auth import Authenticated
from server.problems import Problem
from server.requests import runtime, time_param

router = APIRouter(tags=["cases"])
Who = Annotated[Authenticated, Depends(caller)]
CaseId = Annotated[UUID, Path(description="the case id (a UUID)")]
OrderId = Annotated[str, Path(description="the order id", min_length=1, max_length=200)]
AsOf = Annotated[str | None, Query(description="RFC 3339 with an offset: the case as it was "
                                               "then (default: now)",
                                   json_schema_extra={"format": "date-time"})]
IDENT: TypeAdapter[str] = TypeAdapter(Ident)


def _history(request: Request, who: Authenticated, case_id: UUID, as_of: str | None,
             operation: str = "ReadCase") -> CaseHistory:
    note(request, case_id=str(case_id))
    at = time_param(as_of, "as_of")
    return runtime(request).services.reads.case(who.caller, case_id, at, operation)


def _etag(history: CaseHistory) -> dict[str, str]:
    return {} if history.as_of is not None else {"ETag": f'"{history.aggregate.version}"'}


def _case(history: CaseHistory) -> dict[str, Any]:
    if history.to_json()["case_type"] == "order":
        raise UnknownCaseError(f"no case {history.aggregate.id}")
    return history.to_json()


@router.get("/v1/cases/{case_id}", responses={
    200: {"model": models.CaseView, "headers": ETAG_HEADER}, **PROBLEMS})
def get_case(request: Request, who: Who, case_id: CaseId, as_of: AsOf = None) -> Response:
    """The case's state, its events in order and every policy decision (with inputs, policy
    and version, outcome and reasons), as of now or ``as_of``; personal data redacted for
    roles that may not read it. The ETag is the case's version (for If-Match)."""
    history = _history(request, who, case_id, as_of)
    return answer(_case(history), headers=_etag(history))


@router.get("/v1/cases/{case_id}/events", responses={
    200: {"model": models.Events, "headers": ETAG_HEADER}, **PROBLEMS})
def get_events(request: Request, who: Who, case_id: CaseId, as_of: AsOf = None) -> Response:
    """The case's events in order: when, what, who (``by``) and in which role."""
    history = _history(request, who, case_id, as_of)
    data = _case(history)
    return answer({"case_id": data["case_id"], "version": data["version"],
                   "events": data["events"]}, headers=_etag(history))


@router.get("/v1/cases/{case_id}/decisions",
            responses={200: {"model": models.Decisions, "headers": ETAG_HEADER}, **PROBLEMS})
def get_decisions(request: Request, who: Who, case_id: CaseId, as_of: AsOf = None
                  ) -> Response:
    """Every policy decision recorded on the case: policy, version, inputs, outcome, reasons."""
    history = _history(request, who, case_id, as_of)
    data = _case(history)
    return answer({"case_id": data["case_id"], "version": data["version"],
                   "decisions": data["decisions"]}, headers=_etag(history))


@router.get("/v1/cases/{case_id}/deadlines",
            responses={200: {"model": models.CaseDeadlines, "headers": ETAG_HEADER},
                       **PROBLEMS})
def get_deadlines(request: Request, who: Who, case_id: CaseId, as_of: AsOf = None
                  ) -> Response:
    """The case's deadlines by due time: state, due, action, who set them and why."""
    history = _history(request, who, case_id, as_of)
    data = _case(history)
    deadlines = sorted(data["state"].get("deadlines", {}).values(), key=lambda d: d["due_at"])
    return answer({"case_id": data["case_id"], "version": data["version"],
                   "deadlines": deadlines}, headers=_etag(history))


@router.get("/v1/cases/{case_id}/rerun", responses={200: {"model": models.Reruns}, **PROBLEMS})
def get_rerun(request: Request, who: Who, case_id: CaseId) -> Response:
    """Re-run every recorded decision from its recorded inputs and policy version (auditors,
    supervisors); ``all_same`` is false when any comes out differently."""
    history = _history(request, who, case_id, None, "RerunDecisions")
    _case(history)
    books = runtime(request).services.store.books
    rows = [rerun_row(decision, books.rerun) for decision in history.decisions]
    return answer({"case_id": str(case_id), "decisions": rows,
                   "all_same": all(r["same"] for r in rows)})


def _order(request: Request, who: Authenticated, order_id: str, as_of: str | None
           ) -> CaseHistory:
    try:
        IDENT.validate_python(order_id)
    except ValidationError as error:
        raise Problem(400, "invalid", "order_id: not an order id", fields=tuple(
            ("order_id", m) for _, m in validation_fields(error))) from None
    at = time_param(as_of, "as_of")
    try:
        history = runtime(request).services.reads.case(
            who.caller, order_aggregate_id(order_id), at)
    except UnknownCaseError:  # missing, or not the caller's: the same words
        raise unknown_order(order_id) from None
    if history.to_json()["case_type"] != "order":
        raise unknown_order(order_id)
    return history


@router.get("/v1/orders/{order_id}", tags=["orders"],
            responses={200: {"model": models.CaseView}, **PROBLEMS})
def get_order(request: Request, who: Who, order_id: OrderId, as_of: AsOf = None) -> Response:
    """What upstream events told us about an order (market, currency, lines, amounts paid,
    customs release, delivery, cancellation), as of now or ``as_of``."""
    return answer(_order(request, who, order_id, as_of).to_json())


@router.get("/v1/orders/{order_id}/cases", tags=["orders"],
            responses={200: {"model": models.Page}, **PROBLEMS},
            openapi_extra={"parameters": table_parameters("cases", frozenset({"order_id"}))})
def get_order_cases(request: Request, who: Who, order_id: OrderId) -> Response:
    """The order's cases, from the ``cases`` read model (as far as it has caught up)."""
    _order(request, who, order_id, None)
    return list_table(request, who, "cases", forced=[("order_id", order_id)])
