"""The desk's routes, added to the service API's application (api/app.py calls ``mount``)."""

from __future__ import annotations

from fastapi import FastAPI

from desk import routes_case, routes_queue, routes_session, routes_views


def mount(app: FastAPI) -> None:
    for module in (routes_session, routes_queue, routes_case, routes_views):
        app.include_router(module.router)
