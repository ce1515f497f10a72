"""Frozen policy versions: every recorded decision of the golden corpus re-runs to exactly its
recorded outcome, details and reasons. A changed rule is a new version, never an edit."""

from __future__ import annotations

import orjson
import pytest

from aftersales_core.decisions import PolicyDecision
from aftersales_core.policies import rerun
from tests.unit.policies.golden.corpus import CORPUS, GOLDEN
from tests.unit.policies.golden.pre_book import GOLDEN as PRE_BOOK_GOLDEN
from tests.unit.policies.golden.pre_book import VERSIONS

RECORDS = [PolicyDecision.from_json(r) for r in orjson.loads(GOLDEN.read_bytes())]


def test_the_corpus_covers_every_policy_with_a_new_version() -> None:
    assert {r.policy_id for r in RECORDS} == set(CORPUS)
    assert {r.policy_version for r in RECORDS} == {1}


@pytest.mark.parametrize("index", range(len(RECORDS)))
def test_a_recorded_v1_decision_reruns_to_the_same_result(index: int) -> None:
    recorded = RECORDS[index]
    again = rerun(recorded)
    assert again.to_json() == recorded.to_json()


PRE_BOOK = [PolicyDecision.from_json(r) for r in orjson.loads(PRE_BOOK_GOLDEN.read_bytes())]


def test_the_pre_book_corpus_holds_the_versions_current_before_policy_books() -> None:
    assert {(r.policy_id, r.policy_version) for r in PRE_BOOK} == set(VERSIONS.items())
    assert all(r.book is None for r in PRE_BOOK)


@pytest.mark.parametrize("index", range(len(PRE_BOOK)))
def test_a_decision_recorded_before_policy_books_reruns_with_its_built_in_settings(
    index: int,
) -> None:
    recorded = PRE_BOOK[index]
    again = rerun(recorded)
    assert again.to_json() == recorded.to_json()
