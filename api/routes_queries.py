"""Reads beyond one case: every projection table (filters and sort orders of `aftersales
query`, cursor pagination), the report's figures, open deadlines, the audit verification,
the denial log and the erasures of personal data, and who the caller is. The permission
matrix decides each (a customer reads only their own rows of cases, complaints, refunds and
orders)."""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import orjson
from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from aftersales_core.text import is_digits
from api import models
from api.http import PROBLEMS, answer, caller
from audit.auditor import Auditor
from audit.denials import SqlDenialLog
from projections.catalog import queryable_tables
from projections.pages import PageError, page, sort_order, table, value_of
from projections.report import build as build_report
from scheduling.deadline_index import IndexedDeadline
from schemas.common import shown
from schemas.limits import TEXT_PATTERN
from server.auth import Authenticated
from server.problems import Problem
from server.requests import runtime, time_param

router = APIRouter()
Who = Annotated[Authenticated, Depends(caller)]
PAGING = {"order_by", "limit", "cursor"}
SCHEMA_TYPES = {"TEXT": "string", "INTEGER": "integer", "REAL": "number", "NUMERIC": "string",
                "TIMESTAMPTZ": "string", "JSONB": "string"}
FORMATS: dict[str, dict[str, Any]] = {  # what each column type takes beyond its JSON type
    "TEXT": {"maxLength": 1000, "pattern": TEXT_PATTERN},
    "NUMERIC": {"pattern": r"^-?[0-9]{1,30}(\.[0-9]{1,18})?$",
                "description": "an amount, compared as a number"},
    "TIMESTAMPTZ": {"format": "date-time", "description": "a time with its offset, compared "
                                                         "as a time"},
    "JSONB": {"maxLength": 1000, "description": "a JSON document, compared as JSON"},
}
MAX_LIMIT = 1000


def _bad(field: str, message: str) -> Problem:
    return Problem(400, "invalid", f"{field}: {message}", fields=((field, message),))


def _cursor_print(name: str, filters: list[tuple[str, Any]], order_by: str | None) -> str:
    return hashlib.sha256(orjson.dumps([name, sorted(filters), order_by])).hexdigest()[:16]


def _decode_cursor(text: str, fingerprint: str) -> list[Any]:
    try:
        padded = text + "=" * (-len(text) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeEncodeError, orjson.JSONDecodeError):
        raise _bad("cursor", "not a cursor this API gave") from None
    if not isinstance(data, list) or not data or data[0] != fingerprint:
        raise _bad("cursor", "not a cursor of this listing (same filters and order_by)")
    return data[1:]


def _encode_cursor(fingerprint: str, key: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([fingerprint, *key])).decode().rstrip("=")


def list_table(request: Request, who: Authenticated, name: str,
               forced: list[tuple[str, Any]] | None = None) -> Response:
    """One page of a projection table, as far as the caller may read it."""
    spec = table(name)
    params = request.query_params  # only those its operation declares (api/params.py)
    filters: list[tuple[str, Any]] = list(forced or [])
    for field in params:
        column = spec.column(field)
        if field in PAGING or column is None:
            continue
        try:
            filters.append((field, value_of(column, params[field], field)))
        except PageError as error:
            raise _bad(field, str(error).split(": ", 1)[1]) from None
    order_by = params.get("order_by")
    if order_by is not None and spec.column(sort_order(order_by)[0]) is None:
        # one column, with at most one - before it (--opened_at is no column, not "descending
        # twice"): as the CLI's --order-by; the value is the caller's: said back cut short
        raise _bad("order_by", f"{shown(order_by)} is not a column of {name}, nor one with "
                               "one - before it (descending)")
    limit_text = params.get("limit", "100")
    if not is_digits(limit_text) or not 1 <= int(limit_text) <= MAX_LIMIT:
        raise _bad("limit", f"an integer from 1 to {MAX_LIMIT}")
    fingerprint = _cursor_print(name, filters, order_by)
    after = _decode_cursor(params["cursor"], fingerprint) if "cursor" in params else None
    rt = runtime(request)
    scope = rt.services.reads.query_scope(who.caller, name)
    try:
        rows, key = rt.read(lambda db: page(db, scope, filters, order_by, int(limit_text),
                                            after))
    except PageError as error:
        raise _bad(error.field, str(error).split(": ", 1)[1]) from None
    return answer({"items": rows,
                   "next_cursor": None if key is None else _encode_cursor(fingerprint, key)})


def table_parameters(name: str, fixed: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """The query parameters of a listing of table ``name``, as its OpenAPI operation declares
    them (the ones a listing takes): a filter per column (but the ``fixed`` ones, which its
    path names), ``order_by``, ``limit`` and ``cursor``."""
    spec = table(name)
    columns = [c.name for c in spec.columns]
    found: list[dict[str, Any]] = [
        {"name": c.name, "in": "query", "required": False,
         "description": f"only rows whose {c.name} equals this",
         "schema": {"type": SCHEMA_TYPES[c.type], **FORMATS.get(c.type, {})}}
        for c in spec.columns if c.name not in fixed]
    ladders = "".join(f"; {c.name} sorts by its ladder: {', '.join(c.ladder)}"
                      for c in spec.columns if c.ladder)
    found += [
        {"name": "order_by", "in": "query", "required": False,
         "description": "a column; prefix - for descending (rows without a value last)"
                        + ladders,
         "schema": {"type": "string", "enum": columns + [f"-{c}" for c in columns]}},
        {"name": "limit", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 100}},
        {"name": "cursor", "in": "query", "required": False,
         "description": "next_cursor of the previous page", "schema": {"type": "string"}},
    ]
    return found


def _add_table_route(name: str, path: str, tag: str, operation_id: str) -> None:
    def read_table(request: Request, who: Who) -> Response:
        return list_table(request, who, name)

    read_table.__doc__ = (f"Rows of the `{name}` read model (also a plain SQL table of that "
                          "name), filtered by any column, in pages.")
    router.add_api_route(path, read_table, methods=["GET"], tags=[tag],
                         name=f"read_{name}", operation_id=operation_id,
                         responses={200: {"model": models.Page}, **PROBLEMS},
                         openapi_extra={"parameters": table_parameters(name)})


_add_table_route("cases", "/v1/cases", "cases", "list_cases")
for _table in queryable_tables():
    # a table without a key is a projection's work queue (product_deltas: rows waiting to be
    # added up), not a view: it has no stable order to page through
    if table(_table).key:
        _add_table_route(_table, f"/v1/projections/{_table}", "projections", f"read_{_table}")


@router.get("/v1/report", tags=["projections"],
            responses={200: {"model": models.Report}, **PROBLEMS})
def get_report(request: Request, who: Who) -> Response:
    """The analyst's key figures (what `aftersales report` prints)."""
    rt = runtime(request)
    rt.services.reads.require(who.caller, "ReadReport")
    return answer(rt.read(build_report).to_json())


@router.get("/v1/deadlines", tags=["cases"],
            responses={200: {"model": models.Deadlines}, **PROBLEMS})
def get_open_deadlines(
    request: Request, who: Who,
    case: Annotated[UUID | None, Query(description="only this case's")] = None,
    due_before: Annotated[str | None, Query(description="RFC 3339: only those due before")
                          ] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    cursor: Annotated[str | None, Query(max_length=400, description="next_cursor of the "
                                        "previous page")] = None,
) -> Response:
    """Open deadlines by due time, then case id and deadline name, in pages (staff,
    auditors)."""
    rt = runtime(request)
    before = time_param(due_before, "due_before")
    fingerprint = _cursor_print("deadlines", [("case", str(case)), ("due_before", due_before)],
                                None)
    after = None if cursor is None else _deadline_after(_decode_cursor(cursor, fingerprint))
    rt.services.reads.require(who.caller, "ListDeadlines")
    rows = rt.deadlines(lambda index: index.listing(case, before, after, limit + 1))
    more = len(rows) > limit
    last = rows[limit - 1] if more else None
    return answer({"items": [d.to_json() for d in rows[:limit]],
                   "next_cursor": None if last is None else _encode_cursor(
                       fingerprint, [last.due_at.isoformat(), str(last.case_id), last.name])})


def _deadline_after(key: list[Any]) -> IndexedDeadline:
    """The last deadline of the previous page, from its cursor."""
    try:
        due_at, case_id, name = key
        at = datetime.fromisoformat(due_at)
        if at.tzinfo is None or not isinstance(name, str):
            raise ValueError(name)
        at.astimezone(UTC)
        return IndexedDeadline(UUID(case_id), "", name, at, "")
    except (ValueError, TypeError, AttributeError, OverflowError):
        raise _bad("cursor", "not a cursor this API gave") from None


@router.get("/v1/audit/verification", tags=["audit"],
            responses={200: {"model": models.Verification}, **PROBLEMS})
def get_verification(
    request: Request, who: Who,
    decisions: Annotated[bool, Query(description="also re-run every recorded decision")
                         ] = False,
) -> Response:
    """Recompute the hash chain over every stored event and compare it with the sealed
    checkpoints (auditors): ``intact`` false names where it first diverges."""
    rt = runtime(request)
    rt.services.reads.require(who.caller, "VerifyAudit")
    store = rt.services.store
    report = Auditor(store.recorder, store.mapper).verify(decisions=decisions)
    return answer(report.to_json())


@router.get("/v1/audit/denials", tags=["audit"],
            responses={200: {"model": models.Denials}, **PROBLEMS})
def get_denials(
    request: Request, who: Who,
    since: Annotated[str | None, Query(description="RFC 3339: at or after")] = None,
    principal: Annotated[str | None, Query(max_length=64, description="a principal's name")
                         ] = None,
    operation: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: Annotated[str | None, Query(max_length=200, description="next_cursor of the "
                                        "previous page")] = None,
) -> Response:
    """The security log: every denied operation, oldest first, in pages (auditors)."""
    rt = runtime(request)
    after = time_param(since, "since")
    fingerprint = _cursor_print("security_denials", [
        ("since", since), ("principal", principal), ("operation", operation)], None)
    after_id = None
    if cursor is not None:
        key = _decode_cursor(cursor, fingerprint)
        if len(key) != 1 or not isinstance(key[0], int):
            raise _bad("cursor", "not a cursor this API gave")
        after_id = key[0]
    rt.services.reads.require(who.caller, "ReadDenials")
    rows = SqlDenialLog(rt.services.store.recorder).list(
        since=after, principal=principal, operation=operation, limit=limit, after_id=after_id)
    more = len(rows) == limit
    return answer({"items": rows, "next_cursor": _encode_cursor(fingerprint, [rows[-1]["id"]])
                   if more else None})


@router.get("/v1/audit/erasures", tags=["audit"],
            responses={200: {"model": models.Erasures}, **PROBLEMS})
def get_erasures(request: Request, who: Who) -> Response:
    """Every erasure of personal data the store recorded, oldest first: the customer id, when,
    by which principal in which role, why, and its store position (auditors and
    administrators; `aftersales customer erasures`)."""
    return answer({"items": runtime(request).services.privacy.erasures(who.caller)})


@router.get("/v1/me", tags=["principals"], responses={200: {"model": models.Me}, **PROBLEMS})
def get_me(request: Request, who: Who) -> Response:
    """Who the credential authenticates, and the roles it may act in."""
    principal = runtime(request).services.access.principal(who.caller)
    roles = [r for r in principal.roles if who.caller.roles is None or r in who.caller.roles]
    return answer({"principal": principal.name, "principal_id": principal.principal_id,
                   "roles": roles, "customer_id": principal.customer_id,
                   "credential": who.credential})
