"""A book file over the size limit is refused naming its real size (it was always said to be
"262145 bytes", one past the limit, where the reader stopped), or "more than" past what is
measured."""

from __future__ import annotations

from pathlib import Path

import pytest

from aftersales import cli_policy
from aftersales_core.policybook.documents import MAX_BYTES, InvalidBookError


def test_a_book_over_the_limit_is_refused_with_its_size(tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * 1_122_417)
    with pytest.raises(InvalidBookError, match=f"is 1122417 bytes, over the {MAX_BYTES} "):
        cli_policy._read(str(big))
    limit = tmp_path / "limit.toml"
    limit.write_bytes(b"#" * MAX_BYTES)
    assert len(cli_policy._read(str(limit))[0]) == MAX_BYTES


def test_past_what_is_measured_it_is_more_than(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_policy, "MEASURED", MAX_BYTES + 10)
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * (MAX_BYTES * 3))
    with pytest.raises(InvalidBookError, match=f"is more than {MAX_BYTES + 10} bytes"):
        cli_policy._read(str(big))
