"""``POST /v1/commands``: every command of SPEC §4.3, one route, the same JSON body as
`aftersales submit` takes and the same answer it prints; ``POST /v1/upstream-events``: an
order or shipment fact (SPEC §4.1) as `aftersales ingest` takes it.

Every command and upstream event reaches the application through ``Runtime.run_command`` and
``Runtime.apply_upstream`` (server/runtime.py), the one seam where concurrent requests can be
committed together: the HTTP layer around it only authenticates, reads the body, and keeps
answers for ``Idempotency-Key``. A request's W3C ``traceparent`` (and ``tracestate``) header
goes with the events it causes (dispatch/tracing.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from aftersales_core.application.access import Caller, Expectation
from api import models
from api.http import (
    COMMAND_PROBLEMS,
    ETAG_HEADER,
    LOCATION_HEADER,
    answer,
    caller,
    if_match_version,
    json_body,
    note,
)
from dispatch.bodies import parse
from dispatch.tracing import from_headers
from schemas.boundary import inbound
from schemas.commands import AnyCommand, NewCase
from server.auth import Authenticated
from server.idempotency import MAX_KEY, Answer, check_key, fingerprint
from server.metrics import COMMANDS
from server.problems import Problem, problem_for
from server.requests import runtime
from server.runtime import Runtime

router = APIRouter()
Who = Annotated[Authenticated, Depends(caller)]
IfMatch = Annotated[str | None, Header(
    alias="If-Match", description='"<version>" of the case as you last saw it (its ETag): '
    "the command is refused with 412 when the case has moved on")]
IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", json_schema_extra={"maxLength": MAX_KEY},  # checked by
    # check_key, as every bad key is: one field name, one wording
    description="a retry with the same key gets the "
    "first answer (kept at least 24 h, per principal); the same key with another body: 422")]
KEPT = {200, 201, 422}  # answers an Idempotency-Key keeps (the module server/idempotency.py)
OUTCOMES = {400: "invalid", 403: "denied", 404: "not_found", 409: "conflict",
            412: "precondition_failed", 413: "invalid", 422: "refused", 503: "unavailable"}


def expectation(if_match: str | None, command: AnyCommand) -> Expectation | None:
    version = if_match_version(if_match)
    if version is None:
        return None
    if isinstance(command, NewCase):
        raise Problem(400, "invalid", "If-Match applies to commands on an existing case; "
                      f"{command.command} opens one", fields=(("If-Match", "not applicable"),))
    return Expectation(command.case_id, version)


@router.post("/v1/commands", tags=["commands"], responses={
    200: {"description": "done: the case's new state and the decisions taken",
          "model": models.CommandAnswer, "headers": {**ETAG_HEADER, **LOCATION_HEADER}},
    201: {"description": "done: a case was opened", "model": models.CommandAnswer,
          "headers": {**ETAG_HEADER, **LOCATION_HEADER}},
    **COMMAND_PROBLEMS,
}, openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/Command"}}}}})
async def post_command(request: Request, who: Who, if_match: IfMatch = None,
                       idempotency_key: IdempotencyKey = None) -> Response:
    """Run one command (SPEC §4.3) as the authenticated principal. The body is the command's
    JSON object, as `aftersales submit` takes it (``at`` defaults to now); the answer is what
    `aftersales submit` prints. A case opened answers 201 with its Location."""
    body = await json_body(request)
    rt = runtime(request)
    return await run_in_threadpool(_run, rt, request, who, body, if_match, idempotency_key)


def _run(rt: Runtime, request: Request, who: Authenticated, body: Any, if_match: str | None,
         key: str | None) -> Response:
    now = datetime.now(UTC)
    name = body.get("command") if isinstance(body, dict) else None
    name = name if isinstance(name, str) and name.isidentifier() and len(name) < 64 else "?"
    note(request, command=name)
    principal = str(who.caller.principal_id)
    if key is not None:
        check_key(key)
        kept = rt.answers.claim(principal, key, fingerprint(
            "POST", request.url.path, if_match, body), now)
        if kept is not None:
            COMMANDS.labels(name, "replayed").inc()
            note(request, case_id=kept.body.get("case_id", "-"))
            return answer(kept.body, kept.status,
                          {**kept.headers, "Idempotent-Replayed": "true"})
    try:
        command = parse(rt.services, who.caller, body)
        caller_ = who.caller
        expected = expectation(if_match, command)
        if expected is not None:
            caller_ = Caller(caller_.principal_id, caller_.received_at, caller_.via,
                             roles=caller_.roles, if_match=expected)
        result = rt.run_command(caller_, command, now, from_headers(request.headers.items()))
    except Exception as error:
        problem = problem_for(error, request.state.request_id)
        COMMANDS.labels(name, OUTCOMES.get(problem.status, "internal")).inc()
        if key is not None:
            if problem.status in KEPT:
                rt.answers.keep_answer(principal, key, Answer(
                    problem.status, problem.headers, problem.to_json(request.url.path)), now)
            else:
                rt.answers.release(principal, key)
        raise problem from None
    data = {"command": command.command, **result.to_json()}
    status = 201 if isinstance(command, NewCase) else 200
    headers = {"ETag": f'"{result.version}"', "Location": f"/v1/cases/{result.case_id}"}
    note(request, case_id=str(result.case_id))
    COMMANDS.labels(command.command, "done").inc()
    if key is not None:
        rt.answers.keep_answer(principal, key, Answer(status, headers, data), now)
    return answer(data, status, headers)


@router.post("/v1/upstream-events", tags=["commands"], responses={
    200: {"description": "applied, or already seen (applied: false)",
          "model": models.UpstreamAnswer},
    **COMMAND_PROBLEMS,
}, openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/UpstreamEvent"}}}}})
async def post_upstream(request: Request, who: Who) -> Response:
    """Deliver one order or shipment fact (SPEC §4.1), as the Kafka inbound consumer and
    `aftersales ingest` do: for principals with the upstream role (carriers: return shipment
    scans). A redelivered ``event_id`` changes nothing."""
    body = await json_body(request)
    rt = runtime(request)

    def apply() -> Response:
        message = inbound(body)
        note(request, command=message.event_type)
        result = rt.apply_upstream(who.caller, message, from_headers(request.headers.items()))
        return answer(result.to_json())

    return await run_in_threadpool(apply)
