"""The ASGI application: ``create_app()`` builds it (granian calls it in each worker process);
``openapi_document()`` is the OpenAPI 3.1 document it serves at ``/v1/openapi.json`` (kept in
``api/openapi.json``; a test fails when that file is stale)."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
import psycopg
from eventsourcing.persistence import PersistenceError
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from starlette.exceptions import HTTPException
from starlette.responses import Response

from aftersales.secrets import ScrubSecrets
from aftersales.settings import Settings
from aftersales_core.errors import DomainError
from api import models
from api.http import HeadAsGet, Observe, answer, problem_response
from api.params import declared_params_only
from api.routes_cases import router as cases_router
from api.routes_commands import router as commands_router
from api.routes_insights import router as insights_router
from api.routes_policy import router as policy_router
from api.routes_policy_changes import router as policy_changes_router
from api.routes_queries import router as queries_router
from desk.mount import DeskSettings
from desk.mount import mount as mount_desk
from schemas.commands import COMMAND
from schemas.common import shown
from schemas.errors import InputRefused
from schemas.inbound import ANY_INBOUND
from server.guards import BodyGuard, BodyTimeout, BodyTooLarge, body_problem
from server.metrics import exposition
from server.oidc import KeysUnavailable
from server.problems import Problem, problem_for
from server.runtime import Runtime
from server.settings import ApiSettings

VERSION = "1.0.0"
DESCRIPTION = """Every command (SPEC §4.3) and query (§4.4) of the after-sales case engine.

Authenticate with `Authorization: Bearer <API key>` (from `aftersales principals key NAME`)
or an OIDC token from the configured identity provider. The permission matrix decides every
operation: 401 without usable credentials, 403 for a role that may not, 404 for what the
caller may not see. Failures are RFC 9457 problem documents (`application/problem+json`)
whose `exit_code` is the CLI's exit code for the same failure."""


def create_app(settings: Settings | None = None, api: ApiSettings | None = None,
               desk: DeskSettings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    api = api or ApiSettings.from_env()
    desk = desk or DeskSettings.from_env()  # read once, here: never per request

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = api.threads
        app.state.runtime = await anyio.to_thread.run_sync(Runtime, settings, api)
        try:
            yield
        finally:
            app.state.runtime.close()

    app = FastAPI(title="After-sales case engine", version=VERSION, description=DESCRIPTION,
                  openapi_url="/v1/openapi.json", docs_url=None, redoc_url=None,
                  lifespan=lifespan, dependencies=[Depends(declared_params_only)])
    app.include_router(commands_router)
    app.include_router(cases_router)
    app.include_router(queries_router)
    app.include_router(policy_router)
    app.include_router(policy_changes_router)
    app.include_router(insights_router)
    mount_desk(app, desk)  # the desk: web pages under /desk (desk/)
    _operations(app)
    _errors(app, api)
    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]
    app.add_middleware(BodyGuard, max_bytes=api.max_body_bytes, timeout=api.body_timeout)
    app.add_middleware(Observe)
    app.add_middleware(HeadAsGet)
    for handler in logging.getLogger().handlers:
        handler.addFilter(ScrubSecrets())
    return app


def _operations(app: FastAPI) -> None:
    @app.get("/healthz", tags=["operations"], responses={200: {"model": models.Health}})
    def healthz() -> Response:
        """The process answers."""
        return answer({"status": "ok"})

    @app.get("/readyz", tags=["operations"], responses={
        200: {"model": models.Readiness}, 503: {"model": models.Readiness}})
    def readyz(request: Request) -> Response:
        """The event store and the read database answer (503 naming which does not)."""
        found = request.app.state.runtime.ready()
        ok = all(v == "ok" for v in found.values())
        return answer({"status": "ok" if ok else "unavailable", **found}, 200 if ok else 503)

    @app.get("/metrics", tags=["operations"], responses={200: {"content": {"text/plain": {}}}})
    def metrics() -> Response:
        """Prometheus metrics: requests by route and status, latency, commands by outcome,
        denials, store commit batch sizes."""
        data, media = exposition()
        return Response(data, media_type=media)


def _errors(app: FastAPI, api: ApiSettings) -> None:
    def respond(request: Request, problem: Problem) -> Response:
        request_id = getattr(request.state, "request_id", "")
        return problem_response(problem, request_id, request.url.path)

    @app.exception_handler(Problem)
    async def on_problem(request: Request, error: Problem) -> Response:
        return respond(request, error)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, error: RequestValidationError) -> Response:
        fields = tuple((".".join(str(p) for p in e["loc"]),
                        str(e["msg"]).removeprefix("Value error, ")) for e in error.errors())
        detail = "; ".join(f"{f}: {m}" for f, m in fields)
        return respond(request, Problem(400, "invalid", detail, fields=fields))

    @app.exception_handler(HTTPException)
    async def on_http(request: Request, error: HTTPException) -> Response:
        code = {404: "no_route", 405: "method_not_allowed"}.get(error.status_code, "error")
        detail = {404: f"no such resource: {shown(request.url.path, 100)}",
                  405: f"{request.method} is not allowed here"}.get(
            error.status_code, str(error.detail))
        return respond(request, Problem(error.status_code, code, detail,
                                        headers=dict(error.headers or {})))

    @app.exception_handler(BodyTooLarge)
    @app.exception_handler(BodyTimeout)
    async def on_body(request: Request, error: Exception) -> Response:
        return respond(request, body_problem(error, api.max_body_bytes, api.body_timeout))

    async def on_error(request: Request, error: Exception) -> Response:
        request_id = getattr(request.state, "request_id", "")
        return respond(request, problem_for(error, request_id))

    # failures with a meaning of their own (answered here, not logged as crashes)...
    for known in (DomainError, InputRefused, PersistenceError, psycopg.Error, sqlite3.Error,
                  KeysUnavailable, OSError):
        app.add_exception_handler(known, on_error)
    # ...and anything else: a bug, answered 500 and logged with its traceback
    app.add_exception_handler(Exception, on_error)


def openapi_document(app: FastAPI | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document, with the command and upstream-event schemas of ``schemas/``
    (the same models every entry point validates with) and the problem document."""
    if app is None:
        app = create_app(Settings.from_env({}), ApiSettings.from_env({}),
                         DeskSettings.from_env({}))
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(title=app.title, version=app.version, openapi_version="3.1.0",
                           description=app.description, routes=app.routes)
    components = document.setdefault("components", {}).setdefault("schemas", {})
    ref = "#/components/schemas/{model}"
    for name, adapter in (("Command", COMMAND), ("UpstreamEvent", ANY_INBOUND)):
        schema = adapter.json_schema(ref_template=ref)
        components.update(schema.pop("$defs", {}))
        components[name] = schema
    components["Problem"] = models.Problem.model_json_schema(ref_template=ref)
    components.update(components["Problem"].pop("$defs", {}))
    document["components"]["securitySchemes"] = {"bearer": {
        "type": "http", "scheme": "bearer",
        "description": "an API key (ask_…) or an OIDC token"}}
    for path, operations in document["paths"].items():
        for operation in operations.values():
            if path.startswith("/v1/"):
                operation["security"] = [{"bearer": []}]
            responses = operation.get("responses", {})
            if responses.get("422", {}).get("description") == "Validation Error":
                del responses["422"]  # FastAPI's default: this API answers bad input with 400
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    app.openapi_schema = document
    return document
