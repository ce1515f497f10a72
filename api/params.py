"""The query parameters each route takes are the ones its operation in the OpenAPI document
declares: any other, or one given twice, is a 400 naming it, on every route of the document
(README "Service API"). One check for all of them, so a typo (``?verison=1``) or a repeated
parameter (``?as_of=A&as_of=B``: which one counts?) is never silently ignored, and what the
document says a route takes is what it takes. The desk's pages are not in the document: their
forms are checked by the desk."""

from __future__ import annotations

from collections.abc import Collection

from fastapi import FastAPI, Request

from api.http import bad_param
from schemas.errors import short_name

Declared = dict[tuple[str, str], frozenset[str]]


def only_params(request: Request, allowed: Collection[str]) -> None:
    """Each query parameter one of ``allowed``, and given once: else 400 naming the first
    that is not (an unknown name cut short: it is the caller's text)."""
    params = request.query_params
    for field in params:
        if field not in allowed:
            raise bad_param(short_name(field), (
                f"not a parameter of this route; it takes {', '.join(sorted(allowed))}"
                if allowed else "not a parameter of this route; it takes none"))
        if len(params.getlist(field)) > 1:
            raise bad_param(field, "give it once")


async def declared_params_only(request: Request) -> None:
    """A dependency of every route: the request's query parameters against those its
    operation declares (routes outside the document, the desk's, are left to themselves)."""
    route = request.scope.get("route")
    method = "GET" if request.method == "HEAD" else request.method
    allowed = _declared(request.app).get((getattr(route, "path", ""), method))
    if allowed is not None:
        only_params(request, allowed)


def _declared(app: FastAPI) -> Declared:
    """(path template, method) -> the query parameters the OpenAPI document declares; built
    once per application, from the document it serves."""
    found: Declared | None = getattr(app.state, "declared_params", None)
    if found is None:
        found = {(path, method.upper()): frozenset(
                    p["name"] for p in operation.get("parameters", []) if p.get("in") == "query")
                 for path, operations in app.openapi()["paths"].items()
                 for method, operation in operations.items()}
        app.state.declared_params = found
    return found
