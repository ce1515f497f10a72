"""A policy book changed in the store is the operators' problem, not the caller's: over HTTP it
is 503 ``policy_unavailable`` with a request id, and neither hash nor advice about backups
reaches the caller (a customer may be the one asking); the server log has both hashes."""

from __future__ import annotations

import logging

import pytest

from aftersales_core.policybook.rulebook import CorruptBookError, merchant_book
from server.problems import problem_for

RECORDED, FOUND = "sha256:" + "a" * 64, "sha256:" + "b" * 64


def test_a_corrupt_book_is_503_naming_no_hash_and_logged_with_both(
        caplog: pytest.LogCaptureFixture) -> None:
    error = CorruptBookError(merchant_book("uci"), 2, RECORDED, FOUND)
    with caplog.at_level(logging.ERROR):
        problem = problem_for(error, "req-7")
    body = problem.to_json("/v1/commands", "req-7")
    assert problem.status == 503 and body["type"].endswith("policy_unavailable")
    assert problem.headers == {"Retry-After": "60"}
    assert "merchant uci" in body["detail"] and "req-7" in body["detail"]
    assert RECORDED not in str(body) and FOUND not in str(body)
    assert "backup" not in str(body)
    [logged] = [r.getMessage() for r in caplog.records if "req-7" in r.getMessage()]
    assert RECORDED in logged and FOUND in logged
