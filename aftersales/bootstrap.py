"""The one composition root: builds the application (and later clients) lazily, on demand."""

from __future__ import annotations

from aftersales.settings import Settings, eventsourcing_env
from aftersales_core.application.app import AfterSalesApp


def build_app(settings: Settings | None = None) -> AfterSalesApp:
    settings = settings or Settings.from_env()
    return AfterSalesApp(env=eventsourcing_env(settings.database_url, settings.postgres_schema))
