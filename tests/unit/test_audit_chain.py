"""The audit hash chain (audit/auditor.py), as a pure function of the stored rows."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from audit.chain import GENESIS, Row, chain, link

IDS = st.text(alphabet="0123456789abcdef", min_size=1, max_size=32)
TOPICS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz.ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1,
                 max_size=40)
ROW = st.tuples(
    st.integers(1, 2**62), IDS, st.integers(1, 2**31), TOPICS, st.binary(min_size=1, max_size=200)
)
ROWS = st.lists(ROW, min_size=1, max_size=12)


def _changed_byte(data: bytes, index: int, delta: int) -> bytes:
    """``data`` with the byte at ``index`` (mod its length) changed by ``delta`` (1..255)."""
    index %= len(data)
    return data[:index] + bytes([(data[index] + delta) % 256]) + data[index + 1:]


def _changed_field(row: Row, which: int, index: int, delta: int) -> Row:
    """The row with one byte of one field changed: of the position or version as 8-byte
    big-endian integers, of the id or topic as ASCII (kept printable), of the state."""
    fields: list[Any] = list(row)
    value = fields[which]
    if which in (0, 2):
        raw = _changed_byte(value.to_bytes(8, "big", signed=True), index, delta)
        fields[which] = int.from_bytes(raw, "big", signed=True)
    elif which in (1, 3):
        at = index % len(value)
        fields[which] = value[:at] + chr(33 + (ord(value[at]) - 33 + delta) % 94) + value[at + 1:]
    else:
        fields[which] = _changed_byte(value, index, delta)
    changed = tuple(fields)
    assert changed != row
    return changed


@given(ROWS, st.data())
def test_any_single_byte_change_anywhere_changes_the_head(rows: list[Row], data: Any) -> None:
    at = data.draw(st.integers(0, len(rows) - 1), label="row")
    which = data.draw(st.integers(0, 4), label="field")
    index = data.draw(st.integers(0, 10_000), label="byte")
    delta = data.draw(st.integers(1, 93), label="delta")
    tampered = [*rows]
    tampered[at] = _changed_field(rows[at], which, index, delta)
    assert chain(GENESIS, tampered) != chain(GENESIS, rows)


@given(ROWS, st.data())
def test_deleting_or_swapping_events_changes_the_head(rows: list[Row], data: Any) -> None:
    head = chain(GENESIS, rows)
    gone = data.draw(st.integers(0, len(rows) - 1), label="deleted")
    assert chain(GENESIS, rows[:gone] + rows[gone + 1:]) != head
    i, j = data.draw(st.integers(0, len(rows) - 1)), data.draw(st.integers(0, len(rows) - 1))
    if rows[i] != rows[j]:
        swapped = [*rows]
        swapped[i], swapped[j] = rows[j], rows[i]
        assert chain(GENESIS, swapped) != head


@given(ROWS, st.integers(0, 12))
def test_the_chain_is_link_folded_and_can_be_extended_batch_by_batch(
    rows: list[Row], cut: int
) -> None:
    folded = GENESIS
    for row in rows:
        folded = link(folded, *row)
    assert chain(GENESIS, rows) == folded
    assert chain(chain(GENESIS, rows[:cut]), rows[cut:]) == folded


def test_a_byte_moved_from_one_field_to_the_next_changes_the_head() -> None:
    assert link(GENESIS, 1, "ab", 1, "c", b"") != link(GENESIS, 1, "a", 1, "bc", b"")
    assert link(GENESIS, 1, "a", 1, "b", b"c") != link(GENESIS, 1, "a", 1, "bc", b"")


def test_a_value_stored_with_another_type_never_matches_the_original() -> None:
    """SQLite keeps any type in any column: the same text as TEXT instead of BLOB, a version
    as text, a NULL, all hash differently from the well-typed event and do not crash."""
    row: Row = (7, "ab", 3, "aftersales.return.Approved", b'{"a":1}')
    head = chain(GENESIS, [row])
    odd: list[Any] = [
        (7, "ab", 3, "aftersales.return.Approved", '{"a":1}'),
        (7, "ab", "3", "aftersales.return.Approved", b'{"a":1}'),
        (7, "ab", 3.0, "aftersales.return.Approved", b'{"a":1}'),
        (7, b"ab", 3, "aftersales.return.Approved", b'{"a":1}'),
        (7, "ab", 3, None, b'{"a":1}'),
        (7, "ab", 3, "aftersales.return.Approved", None),
    ]
    heads = {chain(GENESIS, [o]) for o in odd}
    assert head not in heads and len(heads) == len(odd)
    assert all(chain(GENESIS, [o]) == link(GENESIS, *o) for o in odd)
