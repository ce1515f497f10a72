"""The suite's own settings: a hung broker or worker fails its test instead of hanging CI."""

from __future__ import annotations

import pytest


def test_every_test_has_a_default_timeout(request: pytest.FixtureRequest) -> None:
    assert request.config.pluginmanager.hasplugin("timeout"), "pytest-timeout is not active"
    assert 0 < float(request.config.getini("timeout")) <= 900
