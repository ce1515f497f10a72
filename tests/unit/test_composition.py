"""The composition root: small services over one store and one unit of work, whose save steps
are named (no save can skip the deadline bookkeeping)."""

from __future__ import annotations

from dataclasses import fields

from aftersales.bootstrap import open_app
from aftersales_core.application.services import Services


def test_every_service_shares_the_one_store_and_unit_of_work() -> None:
    app = open_app({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    assert isinstance(app, Services)
    assert app.work.step_names == ("deadlines",)
    for field in fields(app):
        service = getattr(app, field.name)
        if hasattr(service, "store"):
            assert service.store is app.store, field.name
        if hasattr(service, "work"):
            assert service.work is app.work, field.name
        if hasattr(service, "access"):
            assert service.access is app.access, field.name
    app.close()
