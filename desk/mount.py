"""The desk's routes, added to the service API's application (api/app.py calls ``mount``)."""

from __future__ import annotations

from fastapi import FastAPI

from desk import routes_case, routes_queue, routes_session, routes_views
from desk.settings import DeskSettings

__all__ = ["DeskSettings", "mount"]  # what the server composing the desk needs of it


def mount(app: FastAPI, settings: DeskSettings) -> None:
    """The desk's routes, with its settings (read and checked when the application is made:
    ``aftersales serve`` refuses to start with a bad one, exit 2)."""
    app.state.desk_settings = settings
    for module in (routes_session, routes_queue, routes_case, routes_views):
        app.include_router(module.router)
