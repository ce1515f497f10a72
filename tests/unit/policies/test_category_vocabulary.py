"""Category vocabulary 2: names are folded with NFKC and case folding, letters of every script
are kept, and every category has its Chinese names; vocabulary 1 (what return.eligibility v2
and v3 classify with) is unchanged."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales_core.policies.categories import (
    ALIASES,
    ALIASES_V1,
    CATEGORIES,
    UNCLASSIFIED,
    VOCABULARY,
    VOCABULARY_V1,
    canonical_name,
    classify,
    normalise,
    normalise_v1,
)
from aftersales_core.policies.categories_zh import CHINESE_NAMES
from aftersales_core.policybook.publish.chinese import CATEGORIES as PUBLISHED_ZH

CHINESE = [(name, category) for category, names in CHINESE_NAMES.items() for name in names]


def full_width(text: str) -> str:
    """The full-width form of printable ASCII (U+FF01..U+FF5E), as CJK input methods type it."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@pytest.mark.parametrize(("name", "category"), CHINESE)
def test_every_chinese_name_is_an_alias_of_its_category(name: str, category: str) -> None:
    found = classify(name)
    assert (found.name, found.via_alias) == (category, True)
    assert canonical_name(name) == category


@pytest.mark.parametrize(("name", "category"), [
    ("报纸", "newspapers_periodicals"), ("报刊杂志", "newspapers_periodicals"),
    ("報紙", "newspapers_periodicals"), ("杂志", "newspapers_periodicals"),
    ("定制商品", "custom_made"), ("訂製", "custom_made"), ("生鲜", "perishable"),
    ("鲜花", "perishable"), ("鮮花", "perishable"), ("电子书", "digital_download"),
    ("音像制品", "audio_video_software"), ("服装", "apparel"), ("化妆品", "cosmetics"),
])
def test_the_common_chinese_names_of_the_issue_are_known(name: str, category: str) -> None:
    assert canonical_name(name) == category


def test_every_category_has_a_chinese_name_and_its_published_one_is_an_alias() -> None:
    """The published policy in Simplified Chinese names each category as the vocabulary knows
    it (its brackets and enumeration commas are folded like any other punctuation)."""
    assert set(CHINESE_NAMES) == set(CATEGORIES) == set(PUBLISHED_ZH)
    for category, label in PUBLISHED_ZH.items():
        assert canonical_name(label) == category, label
        assert normalise(CHINESE_NAMES[category][0]) == normalise(label)


@pytest.mark.parametrize("name", sorted({*CATEGORIES, *ALIASES_V1}))
def test_a_full_width_name_means_what_its_ascii_form_means(name: str) -> None:
    assert canonical_name(full_width(name)) == canonical_name(name)
    assert canonical_name(full_width(name.upper())) == canonical_name(name)


@pytest.mark.parametrize(("given_name", "category"), [
    ("ｎｅｗｓｐａｐｅｒｓ", "newspapers_periodicals"),  # noqa: RUF001
    ("Ｃｕｓｔｏｍ－ｍａｄｅ", "custom_made"),  # noqa: RUF001
    ("ＤＩＧＩＴＡＬ　ＤＯＷＮＬＯＡＤＳ", "digital_download"),  # noqa: RUF001
    ("Newspapers ", "newspapers_periodicals"), ("PERSONALISED", "custom_made"),
])
def test_full_width_and_differently_cased_names_are_folded(given_name: str,
                                                            category: str) -> None:
    assert canonical_name(given_name) == category


def test_every_alias_is_stored_as_its_own_key_and_names_a_canonical_category() -> None:
    assert all(normalise(key) == key for key in ALIASES)
    assert set(ALIASES.values()) <= set(CATEGORIES)
    assert not set(ALIASES) & set(CATEGORIES)
    assert dict(ALIASES_V1) == {k: v for k, v in ALIASES.items() if k in ALIASES_V1}


def test_vocabulary_1_still_has_no_key_for_chinese_or_full_width_names() -> None:
    """What return.eligibility v2 and v3 decided with, and re-run with."""
    assert (VOCABULARY_V1.version, VOCABULARY.version) == (1, 2)
    for name in ("报纸", "定制商品", "ｎｅｗｓｐａｐｅｒｓ"):  # noqa: RUF001
        assert normalise_v1(name) == ""
        assert VOCABULARY_V1.classify(name).name == UNCLASSIFIED
    assert all(key.isascii() for key in ALIASES_V1)
    assert VOCABULARY_V1.classify("Newspapers").name == "newspapers_periodicals"


def test_an_unknown_name_in_any_script_is_unclassified_and_kept() -> None:
    for name in ("widgets", "未知品类", "ｗｉｄｇｅｔｓ"):  # noqa: RUF001
        found = classify(name)
        assert (found.name, found.given, canonical_name(name)) == (UNCLASSIFIED, name, None)


@given(st.text(max_size=40))
def test_normalise_is_idempotent(text: str) -> None:
    key = normalise(text)
    assert normalise(key) == key


@given(st.text(st.characters(categories=["Lu", "Ll", "Lt", "Lm", "Lo"]), min_size=1,
               max_size=20))
def test_a_name_made_only_of_letters_never_has_the_empty_key(text: str) -> None:
    assert normalise(text) != ""


@given(st.text(st.characters(min_codepoint=0, max_codepoint=127), max_size=40))
def test_ascii_names_have_the_key_vocabulary_1_gave_them(text: str) -> None:
    """So return.eligibility v4 classifies every ASCII name exactly as v3 did."""
    assert normalise(text) == normalise_v1(text)
