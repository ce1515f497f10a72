"""Principal names: one spelling per identity, and no name that passes for another."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales_core.domain.ids import principal_aggregate_id
from aftersales_core.domain.principal_names import (
    MAX_LENGTH,
    normalise_name,
    script_of,
    user_name,
)
from aftersales_core.errors import InvalidCommandError


@pytest.mark.parametrize(
    "spelling", ["alice", "Alice", "ALICE", "ａｌｉｃｅ", "\uff21lice"]
)
def test_spellings_that_normalise_alike_are_one_principal(spelling: str) -> None:
    assert normalise_name(spelling) == "alice"
    assert principal_aggregate_id(normalise_name(spelling)) == principal_aggregate_id("alice")


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("\u0430lice", "mixes the scripts"),  # Cyrillic а + Latin lice
        ("p\u0430ypal", "mixes the scripts"),
        ("\u0430\u0441\u0435", "could pass for that name"),  # all Cyrillic, reads as "ace"
        ("\u03bf\u03c1\u03b1", "could pass for that name"),  # Greek ορα reads as "opa"
        ("ali ce", "U+0020"),
        ("alice\u200b", "U+200B"),  # zero-width space
        ("alice\u202e", "U+202E"),  # right-to-left override
        ("alice\x00", "U+0000"),
        ("alice\n", "U+000A"),
        ("al/ice", "U+002F"),
        ("-alice", "starts with a letter or a digit"),
        (".alice", "starts with a letter or a digit"),
        ("", "1 to 64"),
        ("a" * (MAX_LENGTH + 1), "1 to 64"),
        ("\U000f0000", "U+F0000"),  # private use
        ("\u3164", "U+1160"),  # a Hangul filler (NFKC: U+1160), a letter that shows as nothing
        ("alice\uffa0", "U+1160"),
        ("\u115f", "U+115F"),
    ],
)
def test_names_that_could_pass_for_another_or_hide_characters_are_refused(
    name: str, problem: str
) -> None:
    with pytest.raises(InvalidCommandError, match=problem.replace("+", r"\+")):
        normalise_name(name)


@pytest.mark.parametrize(
    "name",
    ["agent-1", "sup.eu@desk", "张伟", "山田たろう", "김민준", "müller", "ολγα-2", "иван",
     "a" * MAX_LENGTH, "ｓｕｐ-１"],
)
def test_real_names_in_one_script_are_accepted(name: str) -> None:
    assert 1 <= len(normalise_name(name)) <= MAX_LENGTH


def test_the_length_limit_is_exact() -> None:
    assert normalise_name("a" * MAX_LENGTH) == "a" * MAX_LENGTH
    with pytest.raises(InvalidCommandError):
        normalise_name("a" * (MAX_LENGTH + 1))


def test_system_names_are_reserved_for_the_built_in_principals() -> None:
    assert normalise_name("system.upstream") == "system.upstream"
    with pytest.raises(InvalidCommandError, match="reserved"):
        user_name("System.Upstream")


def test_scripts_are_named_by_unicode() -> None:
    assert [script_of(c) for c in "aа张た1-"] == ["Latin", "Cyrillic", "Han", "Hiragana", None,
                                                  None]


@given(st.text(max_size=80))
def test_normalising_is_idempotent_and_what_passes_is_plain(raw: str) -> None:
    try:
        name = normalise_name(raw)
    except InvalidCommandError:
        return
    assert normalise_name(name) == name
    assert 1 <= len(name) <= MAX_LENGTH and name == name.casefold()
    assert all(unicodedata.category(c)[0] in "LMN" or c in "-_.@" for c in name)
    scripts = {script_of(c) for c in name} - {None}
    assert len(scripts) <= 1 or scripts <= {"Latin", "Han", "Hiragana", "Katakana",
                                            "Bopomofo", "Hangul"}
