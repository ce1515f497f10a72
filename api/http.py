"""What every route shares: the authenticated caller (a dependency), JSON bodies read within
the limits, JSON answers, the documented problem answers, and the middleware that times,
counts and logs each request (principal, route, status, case id, latency; never a credential,
a body or personal data)."""

from __future__ import annotations

import logging
import re
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schemas import strict_json
from server.auth import Authenticated, Unauthenticated
from server.keys import key_id_of
from server.metrics import AUTH_FAILURES, LATENCY, RATE_LIMITED, REQUESTS, method_label
from server.problems import MEDIA_TYPE, Problem
from server.requests import runtime
from server.runtime import Runtime

log = logging.getLogger("aftersales.api.requests")
JSON = "application/json"


def note(request: Request, **facts: Any) -> None:
    """Facts the request log line names (principal, case id, command)."""
    request.state.log = {**getattr(request.state, "log", {}), **facts}


async def caller(request: Request) -> Authenticated:
    """The authenticated caller (401 otherwise), within its rate limit (429 otherwise)."""
    rt = runtime(request)
    headers = request.headers.getlist("authorization")
    client = request.client.host if request.client else "unknown"
    now = datetime.now(UTC)
    if await run_in_threadpool(failures_exhausted, rt, client, headers, now):
        RATE_LIMITED.labels("auth_failures").inc()
        raise Problem(429, "rate_limited", "too many failed authentications from this "
                      "address with this credential: slow down", headers={"Retry-After": "1"})
    try:
        if len(headers) > 1:  # which one counts is for no proxy and no server to guess
            raise Unauthenticated("send one Authorization header, not several", "malformed")
        who = await run_in_threadpool(rt.auth.authenticate, headers[0] if headers else None,
                                      now)
    except Unauthenticated as failed:
        await run_in_threadpool(count_failure, rt, client, headers)
        AUTH_FAILURES.labels(failed.reason).inc()
        raise Problem(401, "unauthenticated", str(failed), headers={
            "WWW-Authenticate": 'Bearer realm="aftersales", error="invalid_token"'
            if failed.reason not in ("missing",) else 'Bearer realm="aftersales"'}) from None
    note(request, principal=str(who.caller.principal_id))
    if rt.principal_rate.wait_needed(who.caller.principal_id):
        RATE_LIMITED.labels("principal").inc()
        wait = rt.principal_rate.peek(who.caller.principal_id)
        raise Problem(429, "rate_limited", "too many requests for this principal: slow down",
                      headers={"Retry-After": str(max(1, int(wait + 0.999)))})
    return who


def presented_key_id(headers: list[str]) -> str | None:
    """The key id of the one well-formed API key the request sends (None for any other
    credential, none, or several Authorization headers), whether or not it exists."""
    if len(headers) == 1:
        _, _, token = headers[0].strip().partition(" ")
        return key_id_of(token.strip())
    return None


def failure_bucket(client: str, known_key_id: str | None) -> tuple[str, str]:
    """Whose failed authentications a request counts with: its address and the API key id it
    presents when a stored key has that id (revoked and expired ones included); any other
    credential, a key id no key has, or none, shares the address's bucket. So behind a proxy
    every caller has the proxy's address, one client sending a wrong or revoked key slows
    only that key (and a correct secret passes even then: ``failures_exhausted``), and one
    sending made-up key ids is limited by its address and adds no bucket per id."""
    return (client, "other") if known_key_id is None else (client, f"key:{known_key_id}")


def count_failure(rt: Runtime, client: str, headers: list[str]) -> None:
    """Take a token from the failed authentication's bucket (``failure_bucket``)."""
    key_id = presented_key_id(headers)
    known = key_id is not None and rt.keys.exists(key_id)
    rt.failure_rate.wait_needed(failure_bucket(client, key_id if known else None))


def failures_exhausted(rt: Runtime, client: str, headers: list[str], now: datetime) -> bool:
    """Whether the request is answered 429 before it is authenticated: its failure bucket
    (``failure_bucket``) has no token left, unless it sends a stored key's id with that key's
    right secret (failures on a key id, which is no secret, never lock out its holder). Only a
    request that meets an empty bucket costs a look-up here; nothing here adds a bucket."""
    address = failure_bucket(client, None)
    key_id = presented_key_id(headers)
    if key_id is None:
        return bool(rt.failure_rate.peek(address))
    own = failure_bucket(client, key_id)
    if not rt.failure_rate.peek(address) and not rt.failure_rate.peek(own):
        return False
    if not rt.keys.exists(key_id):  # a made-up id: the address's bucket
        return bool(rt.failure_rate.peek(address))
    if not rt.failure_rate.peek(own):
        return False
    _, _, token = headers[0].strip().partition(" ")
    return not rt.keys.accepts(token.strip(), now)


def is_json_media(content_type: str) -> bool:
    """Whether a Content-Type is application/json as this API reads it: UTF-8 JSON, so no
    parameter but ``charset=utf-8`` (any case, quoted or not). Another charset would be read
    as UTF-8 all the same, and the +json types (merge-patch, json-patch, problem…) mean
    something else than a command or a fact."""
    media, *params = (part.strip() for part in content_type.split(";"))
    if media.lower() != JSON:
        return False
    for param in filter(None, params):
        name, _, value = param.partition("=")
        if name.strip().lower() != "charset" or value.strip().strip('"').lower() != "utf-8":
            return False
    return True


async def json_body(request: Request) -> Any:
    """The request's JSON body through the strict reader (400 naming what is wrong, 413 over
    the limit, 415 for another media type or a compressed body)."""
    if not is_json_media(request.headers.get("content-type", "")):
        raise Problem(415, "unsupported_media_type", "send the body as application/json "
                                                     "(UTF-8: no charset, or charset=utf-8)")
    if request.headers.get("content-encoding", "identity").strip().lower() != "identity":
        # the body would be read as the compressed bytes (RFC 9110 15.5.16: 415, and
        # Accept-Encoding says which codings are taken)
        raise Problem(415, "unsupported_media_type", "send the body uncompressed: this API "
                      "takes no Content-Encoding", fields=(("Content-Encoding", "not taken"),),
                      headers={"Accept-Encoding": "identity"})
    raw = await request.body()
    if not raw:
        raise Problem(400, "invalid", "the request has no body: send one JSON object")
    return strict_json.loads(raw, max_bytes=runtime(request).api.max_body_bytes)


def _plain(value: Any) -> Any:
    if isinstance(value, (Decimal, UUID, datetime)):
        return str(value) if not isinstance(value, datetime) else value.isoformat()
    raise TypeError(type(value).__name__)


def bad_param(field: str, message: str) -> Problem:
    """400 naming one bad parameter (or header)."""
    return Problem(400, "invalid", f"{field}: {message}", fields=((field, message),))


ETAG = re.compile(r'^"(0|[1-9][0-9]{0,8})"$')  # a version as the ETag says it: no leading 0
#: Response headers as the OpenAPI document declares them: the version as a strong ETag (what
#: If-Match takes back) and where a new case lives.
ETAG_HEADER = {"ETag": {"description": 'the version, as a strong ETag such as "3": send it '
                                       "back in If-Match",
                        "schema": {"type": "string", "pattern": '^"(0|[1-9][0-9]*)"$'}}}
LOCATION_HEADER = {"Location": {"description": "the case: /v1/cases/{case_id}",
                                "schema": {"type": "string"}}}


def if_match_version(if_match: str | None) -> int | None:
    """The version an ``If-Match`` header expects (one strong ETag such as ``"3"``; ``*`` or
    no header: any); 400 when it is malformed."""
    if if_match is None or if_match.strip() == "*":
        return None
    found = ETAG.match(if_match.strip())
    if found is None:
        raise Problem(400, "invalid", 'If-Match: expected one strong ETag such as "3"',
                      fields=(("If-Match", 'expected "<version>"'),))
    return int(found.group(1))


def answer(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data, default=_plain), status_code=status, headers=headers,
                    media_type=JSON)


def problem_response(problem: Problem, request_id: str, instance: str) -> Response:
    return Response(orjson.dumps(problem.to_json(instance, request_id)),
                    status_code=problem.status, headers=problem.headers, media_type=MEDIA_TYPE)


_PROBLEM = {"content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {"description": text, **_PROBLEM} for status, text in {
        400: "invalid input: every bad field named (exit code 2)",
        401: "no usable credentials",
        403: "the permission matrix denies it (exit code 6)",
        404: "no such resource, or not one the caller may see (exit code 3)",
        408: "the request body did not arrive in time",
        413: "the request body is over the limit",
        429: "too many requests: see Retry-After",
        500: "internal error (exit code 70)",
        503: "the store or the read database is unavailable (exit code 5)",
    }.items()
}
COMMAND_PROBLEMS: dict[int | str, dict[str, Any]] = {
    **PROBLEMS,
    409: {"description": "a concurrent change kept winning, the Idempotency-Key's first "
                         "request is still running, or the body's idempotency_key opened a "
                         "case for a different request (exit code 4)", **_PROBLEM},
    412: {"description": "If-Match: the case is at another version", **_PROBLEM},
    415: {"description": "the body is not application/json", **_PROBLEM},
    422: {"description": "refused by the domain, or the Idempotency-Key was used for another "
                         "request (exit code 1)", **_PROBLEM},
}


# Headers every answer carries unless its route set its own (the desk's pages name the scripts
# and styles they load; HTML under /v1 names its one inline style): nothing an answer holds
# loads or runs anything, is sniffed as another type, framed, or kept by a cache.
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'; "
                                 b"base-uri 'none'; form-action 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
)


def secured(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` with every security header it lacks."""
    present = {name.lower() for name, _ in headers}
    return [*headers, *((name, value) for name, value in SECURITY_HEADERS
                        if name not in present)]


class HeadAsGet:
    """ASGI middleware: ``HEAD`` is answered as ``GET`` would be, status and headers (its
    Content-Length too), without the body (RFC 9110 9.3.2: a server that answers GET on a
    resource answers HEAD). Outermost, so the rest of the server sees the GET."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # a part of the body: dropped
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


class Observe:
    """ASGI middleware: a request id and the security headers on every answer, then after the
    answer the metrics and one log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*secured(list(message.get("headers", []))),
                                      (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope.get("method", "?")
            REQUESTS.labels(method_label(method), route, str(status)).inc()
            LATENCY.labels(method_label(method), route).observe(elapsed)
            facts = scope.get("state", {}).get("log", {})
            log.info("request_id=%s principal=%s method=%s route=%s status=%s case=%s "
                     "command=%s ms=%.1f", request_id, facts.get("principal", "-"), method,
                     route, status, facts.get("case_id", "-"), facts.get("command", "-"),
                     elapsed * 1000)
