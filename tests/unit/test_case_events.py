"""The CloudEvents envelope of stored events: stable ids, plain JSON data, redaction."""

from __future__ import annotations

from uuid import UUID, uuid5

from hypothesis import given
from hypothesis import strategies as st

from aftersales_core.domain.ids import NAMESPACE
from consumers.case_events import event_id
from consumers.case_events import unwrap as _unwrap


@given(st.uuids(), st.integers(min_value=1, max_value=10**9))
def test_event_id_is_the_uuid5_of_aggregate_and_version(aggregate: UUID, version: int) -> None:
    assert event_id(aggregate, version) == str(uuid5(NAMESPACE, f"event:{aggregate}:{version}"))
    assert event_id(str(aggregate), version) == event_id(aggregate, version)


def test_typed_values_become_plain_json_and_personal_data_is_redacted() -> None:
    stored = {"amount": {"_type_": "money", "_data_": {"amount": "1.50", "currency": "EUR"}},
              "id": {"_type_": "uuid_hex", "_data_": "6f1b2c1e5d0e4c3a9a531f6c0c7a2b10"},
              "note": {"_type_": "personal_data", "_data_": {"subject": "c-1", "value": "hi"}},
              "lines": [{"at": {"_type_": "datetime_iso", "_data_": "2026-01-01T00:00:00+00:00"}}]}
    assert _unwrap(stored) == {
        "amount": {"amount": "1.50", "currency": "EUR"},
        "id": "6f1b2c1e-5d0e-4c3a-9a53-1f6c0c7a2b10",
        "note": {"personal_data": "redacted", "subject": "c-1"},
        "lines": [{"at": "2026-01-01T00:00:00+00:00"}],
    }
