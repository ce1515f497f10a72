"""The CloudEvents envelope of stored events: stable ids, plain JSON data, redaction."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

import orjson
from eventsourcing.persistence import Notification
from hypothesis import given
from hypothesis import strategies as st

from aftersales_core.domain.ids import NAMESPACE
from consumers.case_events import event_id, projected_event, to_cloud_event
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


def _typed(kind: str, data: Any) -> dict[str, Any]:
    return {"_type_": kind, "_data_": data}


_PLAIN = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=8))
_TYPED = st.one_of(
    st.builds(lambda u: _typed("uuid_hex", u.hex), st.uuids()),
    st.builds(lambda d: _typed("decimal_str", d),
              st.from_regex(r"-?[0-9]{1,6}\.[0-9]{2}", fullmatch=True)),
    st.builds(lambda s: _typed("personal_data", {"subject": s, "ct": "x"}), st.text(max_size=5)),
    st.builds(lambda a: _typed("money", {"amount": a, "currency": "EUR"}), st.just("1.50")))
_VALUES = st.recursive(st.one_of(_PLAIN, _TYPED), lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.text(min_size=1, max_size=6).filter(lambda k: not k.startswith("_")),
                    inner, max_size=3)), max_leaves=12)


@given(state=st.dictionaries(st.sampled_from(["order_id", "amount", "lines", "by", "note"]),
                             _VALUES, max_size=5),
       typed_stamp=st.booleans(), traced=st.booleans(),
       aggregate=st.uuids(), version=st.integers(1, 10**6), position=st.integers(1, 2**40))
def test_what_projections_read_is_the_cloud_event_s_own_values(
        state: dict[str, Any], typed_stamp: bool, traced: bool, aggregate: UUID, version: int,
        position: int) -> None:
    """A rebuild applies what the runners apply: the lean envelope holds the same type,
    subject, time, data, position and version as the published CloudEvent, for typed values
    at any depth, with and without a typed timestamp and tracing fields."""
    stamp = "2026-01-01T00:00:00+00:00"
    stored = {"timestamp": _typed("datetime_iso", stamp) if typed_stamp else stamp,
              "originator_topic": "aftersales.return", **state}
    if traced:
        stored["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    notification = Notification(id=position, originator_id=aggregate, originator_version=version,
                                topic="aftersales.return.Requested", state=orjson.dumps(stored))
    projected = projected_event(position, str(aggregate), version, notification.topic,
                                notification.state)
    published = to_cloud_event(notification)
    assert projected == {key: published[key] for key in projected}
    assert set(projected) == {"type", "subject", "time", "data", "position", "version"}
    assert projected["data"] == _unwrap(state)
