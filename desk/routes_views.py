"""The supervisor's approvals (refunds waiting for approval: amount against threshold, who
asked) and the analyst's figures (by period and market, each linking to its cases)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from aftersales_core.application.access import Access
from aftersales_core.errors import NotAuthorisedError
from aftersales_core.outcomes import Permission
from aftersales_core.policies.access import roles_for
from desk.actions import why_not
from desk.analysis import figures, waiting_approvals
from desk.i18n import as_decimal
from desk.queue import Query
from desk.web import PATH, DeskRoute, Viewer, nav_of, principal_names, render, viewer
from server.requests import runtime

router = APIRouter(route_class=DeskRoute, include_in_schema=False)
Who = Annotated[Viewer, Depends(viewer)]


@router.get(f"{PATH}/approvals")
def approvals(request: Request, who: Who) -> Response:
    if not set(who.roles) & set(roles_for("ApproveRefund")):
        raise NotAuthorisedError("ApproveRefund denied: the approvals are for the roles that "
                                 "approve refunds")
    rt = runtime(request)
    rt.services.reads.query_scope(who.caller, "refunds")
    rows = rt.read(waiting_approvals)
    names = principal_names(request, {r["requested_by"] for r in rows if r["requested_by"]})
    for row in rows:
        row["requester"] = names.get(row["requested_by"], row["requested_by"])
        threshold = as_decimal(row["approval"].get("threshold"))
        amount = as_decimal(row["approval"].get("counted") or row["amount"])  # v3: the
        # threshold is on the order's sum, shown beside the refund's own amount when it differs
        row["over"] = None if threshold is None or amount is None else amount - threshold
        row["counted"] = amount if amount != as_decimal(row["amount"]) else None
        facts = {"case_id": row["refund_id"], "case_type": "refund",
                 "customer_id": row["customer_id"],
                 "requested_by": row["requested_by"],
                 "requires_supervisor": bool(row["approval"].get("requires_supervisor", True))}
        decision = Access.decision(who.caller, who.principal, "ApproveRefund", facts)
        row["may_approve"] = Permission(decision.outcome) is Permission.ALLOW  # as the API
        row["why_not"] = None if row["may_approve"] else why_not(decision, who.reader)
    return render(request, "approvals.html", who.reader, who=who, nav=nav_of(who), rows=rows,
                  csrf=who.session.csrf)


@router.get(f"{PATH}/analysis")
def analysis(request: Request, who: Who) -> Response:
    rt = runtime(request)
    rt.services.reads.require(who.caller, "ReadReport")
    rt.services.reads.query_scope(who.caller, "cases")
    params = {k: v for k, v in request.query_params.items() if k in ("market", "from", "to")}
    query = Query.parse(params)
    found = rt.read(lambda db: figures(db, query, who.reader, who.now.isoformat()))

    def cases_link(filters: dict[str, Any]) -> str:
        wanted = {**query.filters, **{k: v for k, v in filters.items() if v is not None},
                  "scope": "all"}
        return f"{PATH}/queue?" + urlencode(wanted)

    return render(request, "analysis.html", who.reader, who=who, nav=nav_of(who),
                  query=query, data=found, cases_link=cases_link,
                  open_link=f"{PATH}/queue?" + urlencode({**query.filters, "scope": "open"}),
                  overdue_link=f"{PATH}/queue?" + urlencode(
                      {**query.filters, "scope": "open", "view": "overdue"}))
