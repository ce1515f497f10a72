"""Auditors (and administrators) list the erasures the store recorded: the customer id, when,
by which principal in which role, why, and the store position; nobody else. SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aftersales_core.application.principals import principal_id_of
from aftersales_core.application.services import Services
from aftersales_core.errors import NotAuthorisedError
from tests.factories import ADMIN, caller
from tests.personal import plant

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


def test_an_auditor_lists_every_erasure_in_store_order(app: Services) -> None:
    plant(app)
    plant(app, customer_id="c-8", order_id="o-8")
    assert app.privacy.erasures(caller(app, "auditor-1")) == []
    app.privacy.erase(caller(app, ADMIN), "c-8", "request DSR-8", NOW)
    app.privacy.erase(caller(app, ADMIN), "c-9", "request DSR-9", NOW + timedelta(hours=1))
    positions = [n.id for n in app.store.recorder.select_notifications(1, 100_000)
                 if n.topic == "aftersales.customer.PersonalDataErased"]

    listed = app.privacy.erasures(caller(app, "auditor-1"))

    admin = str(principal_id_of(ADMIN))
    assert listed == [
        {"position": positions[0], "customer_id": "c-8", "erased_at": NOW.isoformat(),
         "by": admin, "principal": ADMIN, "role": "admin", "reason": "request DSR-8"},
        {"position": positions[1], "customer_id": "c-9",
         "erased_at": (NOW + timedelta(hours=1)).isoformat(), "by": admin,
         "principal": ADMIN, "role": "admin", "reason": "request DSR-9"},
    ]
    assert app.privacy.erasures(caller(app, ADMIN)) == listed


@pytest.mark.parametrize("who", ["agent-1", "sup-1", "analyst-1", "customer-c-9"])
def test_nobody_else_lists_erasures_and_the_denial_is_logged(app: Services, who: str) -> None:
    plant(app)
    app.privacy.erase(caller(app, ADMIN), "c-9", "request DSR-9", NOW)
    with pytest.raises(NotAuthorisedError):
        app.privacy.erasures(caller(app, who))
    denials = app.access.denials.list(operation="ListErasures")  # type: ignore[attr-defined]
    assert len(denials) == 1
