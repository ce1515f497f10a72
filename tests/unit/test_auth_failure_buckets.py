"""Failed authentications are counted per client address, and per key id only for ids a
stored key has: made-up key ids add no bucket, so the limiter's state stays bounded."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from api.http import count_failure, failures_exhausted
from server.guards import RateLimiter

REAL = "0123456789abcdef"
SECRET = "A" * 43
NOW = datetime(2026, 3, 1, tzinfo=UTC)


class Keys:
    def exists(self, key_id: str) -> bool:
        return key_id == REAL

    def accepts(self, token: str, now: datetime) -> bool:
        return token == f"ask_{REAL}_{SECRET}"


def runtime() -> Any:
    return SimpleNamespace(keys=Keys(), failure_rate=RateLimiter(1, 4))


def made_up() -> list[str]:
    return [f"Bearer ask_{secrets.token_hex(8)}_{secrets.token_urlsafe(32)}"]


def test_made_up_key_ids_share_one_bucket_per_address() -> None:
    rt = runtime()
    for _ in range(1000):
        count_failure(rt, "10.0.0.1", made_up())
    assert len(rt.failure_rate._buckets) == 1
    assert failures_exhausted(rt, "10.0.0.1", made_up(), NOW)
    assert failures_exhausted(rt, "10.0.0.1", ["Bearer junk"], NOW)
    assert not failures_exhausted(rt, "10.0.0.2", made_up(), NOW)


def test_a_stored_keys_right_secret_passes_its_exhausted_bucket() -> None:
    rt = runtime()
    wrong = [f"Bearer ask_{REAL}_{'B' * 43}"]
    for _ in range(10):
        count_failure(rt, "10.0.0.1", wrong)
    assert len(rt.failure_rate._buckets) == 1  # the key's own, not the address's
    assert failures_exhausted(rt, "10.0.0.1", wrong, NOW)
    assert not failures_exhausted(rt, "10.0.0.1", [f"Bearer ask_{REAL}_{SECRET}"], NOW)
    assert not failures_exhausted(rt, "10.0.0.1", made_up(), NOW)  # the address is not
    for _ in range(10):
        count_failure(rt, "10.0.0.1", made_up())
    assert not failures_exhausted(rt, "10.0.0.1", [f"Bearer ask_{REAL}_{SECRET}"], NOW)
