"""Sealing personal data at the store's boundary: round trips, and every way a ciphertext could
be misused (moved to another subject, event or field; changed; its key destroyed or lost)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    UUIDAsHex,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales_core.application.transcodings import TRANSCODINGS
from aftersales_core.decisions import PolicyDecision
from aftersales_core.domain.complaints import ComplaintCase
from aftersales_core.domain.returns import ReturnCase
from aftersales_core.personal import ERASED, PersonalData
from privacy.errors import DataKeyError
from privacy.kek import KeyEncryptionKeys
from privacy.key_tables import MemoryKeyTable
from privacy.keys import Keyring
from privacy.sealing import SealingMapper

AT = datetime(2026, 3, 2, 9, tzinfo=UTC)


def mapper() -> tuple[SealingMapper, MemoryKeyTable]:
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), *TRANSCODINGS):
        transcoder.register(transcoding)
    table = MemoryKeyTable()
    return SealingMapper(Mapper(transcoder=transcoder),
                         Keyring(table, KeyEncryptionKeys.generate())), table


def message(text: PersonalData, case_id: UUID | None = None, version: int = 5) -> Any:
    return ComplaintCase.MessageAdded(  # type: ignore[attr-defined]
        originator_id=case_id or uuid4(), originator_version=version, timestamp=AT,
        direction="in", channel="email", by="p-1", role="customer", text=text)


def request(note: PersonalData | None, evidence: list[PersonalData]) -> Any:
    return ReturnCase.Requested(  # type: ignore[attr-defined]
        originator_id=uuid4(), originator_version=1, timestamp=AT, originator_topic=
        "aftersales.return", order_id="o-1", customer_id="c-1", lines=[], reason="damaged",
        wanted_outcome="refund", note=note, evidence=evidence, channel="web", by="p-1",
        role="customer")


def sealed_part(stored: StoredEvent, field: str) -> dict[str, Any]:
    return json.loads(stored.state)[field]  # type: ignore[no-any-return]


def with_part(stored: StoredEvent, field: str, part: Any) -> StoredEvent:
    state = json.loads(stored.state)
    state[field] = part
    return StoredEvent(stored.originator_id, stored.originator_version, stored.topic,
                       json.dumps(state, separators=(",", ":")).encode())


@settings(max_examples=200, deadline=None)
@given(subject=st.text(min_size=1, max_size=60), value=st.text(max_size=300))
def test_any_text_of_any_subject_round_trips_and_never_appears_in_the_stored_bytes(
    subject: str, value: str
) -> None:
    sealing, _ = mapper()
    token = uuid4().hex  # a part of the value nothing else in the event can contain
    for text in (value, value + token, token + value):
        event = message(PersonalData(subject, text))
        stored = sealing.to_stored_event(event)
        assert sealing.to_domain_event(stored) == event
        part = sealed_part(stored, "text")
        assert part["_type_"] == "personal_data" and part["_data_"]["subject"] == subject
        assert set(part["_data_"]) == {"subject", "kid", "ct"}
        assert text == value or token.encode() not in stored.state


@settings(max_examples=50, deadline=None)
@given(values=st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=5))
def test_lists_of_personal_data_are_sealed_item_by_item(values: list[str]) -> None:
    sealing, _ = mapper()
    event = request(None, [PersonalData("c-1", v) for v in values])
    back = sealing.to_domain_event(sealing.to_stored_event(event))
    assert back.evidence == [PersonalData("c-1", v) for v in values] and back.note is None


def test_the_same_value_sealed_twice_gives_different_ciphertexts() -> None:
    sealing, _ = mapper()
    event = message(PersonalData("c-1", "same words"))
    first, second = sealing.to_stored_event(event), sealing.to_stored_event(event)
    assert sealed_part(first, "text") != sealed_part(second, "text")


def test_a_ciphertext_moved_to_another_subject_event_or_field_does_not_open() -> None:
    sealing, table = mapper()
    case_id = uuid4()
    mine = sealing.to_stored_event(message(PersonalData("c-1", "mine"), case_id, 5))
    theirs = sealing.to_stored_event(message(PersonalData("c-2", "theirs"), case_id, 6))
    # another subject's ciphertext under my label: my key does not open it
    forged = dict(sealed_part(theirs, "text"))
    forged["_data_"] = {**forged["_data_"], "subject": "c-1",
                        "kid": sealed_part(mine, "text")["_data_"]["kid"]}
    with pytest.raises(DataKeyError, match="does not authenticate"):
        sealing.to_domain_event(with_part(mine, "text", forged))
    # the relabelled subject with its own key: the subject is bound in the associated data
    relabelled = dict(sealed_part(theirs, "text"))
    relabelled["_data_"] = {**relabelled["_data_"], "subject": "c-1"}
    with pytest.raises(DataKeyError):
        sealing.to_domain_event(with_part(mine, "text", relabelled))
    # my ciphertext moved to my other event (another version of the same case)
    later = sealing.to_stored_event(message(PersonalData("c-1", "later"), case_id, 7))
    with pytest.raises(DataKeyError, match="does not authenticate"):
        sealing.to_domain_event(with_part(later, "text", sealed_part(mine, "text")))
    # moved to another field of the same event
    requested = sealing.to_stored_event(request(PersonalData("c-1", "note"),
                                                [PersonalData("c-1", "link")]))
    swapped = with_part(requested, "note", sealed_part(requested, "evidence")[0])
    with pytest.raises(DataKeyError, match="'note'"):
        sealing.to_domain_event(swapped)
    # a changed byte of the ciphertext
    part = sealed_part(mine, "text")
    box = bytearray(base64.b64decode(part["_data_"]["ct"]))
    box[-1] ^= 1
    part["_data_"]["ct"] = base64.b64encode(bytes(box)).decode()
    with pytest.raises(DataKeyError):
        sealing.to_domain_event(with_part(mine, "text", part))
    assert table.counts()["keys"] == 2


def test_a_destroyed_key_reads_as_erased_and_a_lost_one_is_an_error() -> None:
    sealing, table = mapper()
    erased = sealing.to_stored_event(message(PersonalData("c-1", "gone soon")))
    lost = sealing.to_stored_event(message(PersonalData("c-2", "key lost")))
    table.destroy(["c-1"], AT)(None)
    assert sealing.to_domain_event(erased).text == PersonalData("c-1", ERASED)
    table.rows.pop("c-2")  # a key table restored from elsewhere, say
    with pytest.raises(DataKeyError, match="never erased"):
        sealing.to_domain_event(lost)
    # new data after the erasure gets a new key, readable; the old stays erased
    again = sealing.to_stored_event(message(PersonalData("c-1", "back again")))
    assert sealing.to_domain_event(again).text.value == "back again"
    assert sealing.to_domain_event(erased).text.value == ERASED


def test_personal_data_the_walk_cannot_reach_is_refused_never_stored_in_clear() -> None:
    sealing, _ = mapper()
    decision = PolicyDecision("x", 1, {"text": PersonalData("c-1", "in an input")}, "ok", (),
                              (), {})
    event = ComplaintCase.DecisionRecorded(  # type: ignore[attr-defined]
        originator_id=uuid4(), originator_version=2, timestamp=AT, decision=decision)
    with pytest.raises(TypeError, match="not serializable"):
        sealing.to_stored_event(event)


def test_events_stored_before_sealing_still_load_in_clear() -> None:
    sealing, _ = mapper()
    stored = sealing.to_stored_event(message(PersonalData("c-1", "x")))
    legacy = with_part(stored, "text", {"_type_": "personal_data",
                                        "_data_": {"subject": "c-1", "value": "old words"}})
    assert sealing.to_domain_event(legacy).text == PersonalData("c-1", "old words")


def test_events_without_personal_data_take_the_library_path_unchanged() -> None:
    sealing, table = mapper()
    event = ComplaintCase.Triaged(  # type: ignore[attr-defined]
        originator_id=uuid4(), originator_version=2, timestamp=AT, priority="P1")
    stored = sealing.to_stored_event(event)
    assert b"personal_data" not in stored.state
    assert sealing.to_domain_event(stored) == event and table.counts()["keys"] == 0
