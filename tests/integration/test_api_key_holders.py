"""An administrator's API keys are their own (access v4), also when the holder became an
administrator after another principal keyed them: authentication refuses such a key (logged),
while the administrator's own key and keys of principals without the role still work. SQLite
and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aftersales_core.application.services import Services
from api.key_admin import KeyAdmin
from audit.denials import SqlDenialLog
from server.auth import Authenticated, Authenticator, Unauthenticated
from server.keys import ApiKeys
from tests.factories import ADMIN, caller


def _as(app: Services, token: str) -> Authenticated:
    keys = ApiKeys(app.store.recorder)
    return Authenticator(app, keys, None).authenticate(f"Bearer {token}", datetime.now(UTC))


def test_a_key_issued_before_its_holder_became_an_administrator_stops_working(
        app: Services) -> None:
    boss = caller(app, ADMIN)
    keys = KeyAdmin(app, ApiKeys(app.store.recorder))
    own = keys.issue(boss, ADMIN, datetime.now(UTC)).token
    theirs = keys.issue(boss, "analyst-1", datetime.now(UTC)).token
    other = keys.issue(boss, "agent-2", datetime.now(UTC)).token
    assert _as(app, theirs).principal == "analyst-1"

    app.principals.grant(boss, "analyst-1", "admin", datetime.now(UTC))

    with pytest.raises(Unauthenticated, match="issued by another principal"):
        _as(app, theirs)
    assert _as(app, own).principal == ADMIN
    assert _as(app, other).principal == "agent-2"
    their_own = keys.issue(caller(app, "analyst-1"), "analyst-1", datetime.now(UTC)).token
    assert _as(app, their_own).principal == "analyst-1"
    denials = SqlDenialLog(app.store.recorder).list(operation="Authenticate")
    assert [(d["principal"], d["rule"]) for d in denials] == [
        ("analyst-1", "api.admin_key_by_other")]
