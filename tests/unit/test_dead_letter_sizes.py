"""A dead letter always fits its topic: an original too large is cut to a bounded prefix, with
headers saying what was cut, the original's size and its SHA-256 (consumers/dead_letters.py)."""

from __future__ import annotations

import hashlib

import pytest

from consumers.dead_letters import SAFE_BYTES, DeadLetter, fitted, record_bytes

OWN = [("error", b"too large"), ("error_type", b"oversized"), ("source_topic", b"orders.v1"),
       ("source_partition", b"2"), ("source_offset", b"41")]


def test_a_letter_that_fits_is_sent_unchanged() -> None:
    value = b"x" * (SAFE_BYTES - 10_000)
    key, kept, headers = fitted(b"o-1", value, OWN, [("traceparent", b"00-1")], SAFE_BYTES)
    assert (key, kept, headers) == (b"o-1", value, [*OWN, ("traceparent", b"00-1")])


@pytest.mark.parametrize("size", [SAFE_BYTES, 1_500_615, 20 * 1024 * 1024])
def test_a_value_too_large_keeps_a_prefix_its_size_and_its_hash(size: int) -> None:
    value = (b"\xc3\xa9" * size)[:size]  # UTF-8 "é"s: the cut must not split one
    key, kept, headers = fitted(b"o-1", value, OWN, [("traceparent", b"00-1")], SAFE_BYTES)
    named = dict(headers)
    assert key == b"o-1" and value.startswith(kept) and len(kept) > SAFE_BYTES - 10_000
    assert record_bytes(key, kept, headers) <= SAFE_BYTES
    assert named["cut"] == b"value" and named["original_bytes"] == str(size).encode()
    assert named["original_sha256"] == hashlib.sha256(value).hexdigest().encode()
    assert named["traceparent"] == b"00-1" and headers[:len(OWN)] == OWN
    kept.decode()  # whole characters only
    letter = DeadLetter(0, 7, 0, key, kept, tuple(headers))
    assert letter.cut == "value" and letter.original_bytes == size
    assert letter.original_headers() == [("traceparent", b"00-1")]


def test_a_huge_key_and_huge_headers_are_cut_too() -> None:
    key, value = b"k" * 600_000, b"v" * 900_000
    original = [("h1", b"a" * 100_000), ("h2", b"b" * 100_000)]
    kept_key, kept, headers = fitted(key, value, OWN, original, SAFE_BYTES)
    named = dict(headers)
    assert record_bytes(kept_key, kept, headers) <= SAFE_BYTES
    assert named["cut"] == b"value,key,headers"
    assert kept_key == key[:SAFE_BYTES // 8]
    assert named["original_key_bytes"] == b"600000"
    assert named["original_key_sha256"] == hashlib.sha256(key).hexdigest().encode()
    assert "h1" in named and "h2" not in named


def test_a_tombstone_with_a_huge_key_keeps_no_value() -> None:
    key, kept, headers = fitted(b"k" * 2_000_000, None, OWN, [], SAFE_BYTES)
    assert kept is None and dict(headers)["cut"] == b"key" and len(key or b"") < SAFE_BYTES
